"""Benchmark metrics: SKAB's pooled confusion matrix, and RMSE / PHM08 score for RUL."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike


@dataclass(frozen=True)
class Confusion:
    """Counts of a binary flag against a binary label; add them to pool files."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @classmethod
    def of(cls, labels: ArrayLike, flags: ArrayLike) -> Confusion:
        """Confusion of 0/1 flags against 0/1 labels of the same length."""
        y = np.asarray(labels).astype(bool)
        p = np.asarray(flags).astype(bool)
        if y.shape != p.shape:
            raise ValueError(f"labels {y.shape} and flags {p.shape} differ in shape")
        return cls(
            tp=int((y & p).sum()), fp=int((~y & p).sum()),
            fn=int((y & ~p).sum()), tn=int((~y & ~p).sum()),
        )  # fmt: skip

    def __add__(self, other: Confusion) -> Confusion:
        return Confusion(
            self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.tn + other.tn
        )

    @property
    def f1(self) -> float:
        """TP / (TP + (FP + FN) / 2), the SKAB leaderboard's F1."""
        denominator = self.tp + (self.fp + self.fn) / 2
        return self.tp / denominator if denominator else 0.0

    @property
    def far_pct(self) -> float:
        """False alarm rate FP / (FP + TN), in percent."""
        negatives = self.fp + self.tn
        return 100.0 * self.fp / negatives if negatives else 0.0

    @property
    def mar_pct(self) -> float:
        """Missed alarm rate FN / (FN + TP), in percent."""
        positives = self.fn + self.tp
        return 100.0 * self.fn / positives if positives else 0.0


def rmse(true_values: ArrayLike, predicted: ArrayLike) -> float:
    """Root mean squared error."""
    error = np.asarray(predicted, dtype=float) - np.asarray(true_values, dtype=float)
    return float(np.sqrt(np.mean(error**2)))


def phm08_score(true_rul: ArrayLike, predicted_rul: ArrayLike) -> float:
    """PHM08 score: sum of exp(-d/13)-1 for early (d<0) and exp(d/10)-1 for late predictions."""
    d = np.asarray(predicted_rul, dtype=float) - np.asarray(true_rul, dtype=float)
    return float(np.sum(np.where(d < 0, np.exp(-d / 13.0) - 1.0, np.exp(d / 10.0) - 1.0)))
