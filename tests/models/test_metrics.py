"""Confusion-matrix arithmetic of the SKAB protocol, and the RUL metrics, on hand-made cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from models.metrics import Confusion, phm08_score, rmse
from models.postprocess import flags_from_scores


def test_confusion_of_one_file() -> None:
    counts = Confusion.of([0, 0, 1, 1, 1, 0], [0, 1, 1, 0, 1, 0])
    assert counts == Confusion(tp=2, fp=1, fn=1, tn=2)
    assert counts.f1 == pytest.approx(2 / (2 + (1 + 1) / 2))
    assert counts.far_pct == pytest.approx(100 / 3)
    assert counts.mar_pct == pytest.approx(100 / 3)


def test_pooling_adds_counts_before_computing_rates() -> None:
    first = Confusion.of([1, 1, 0, 0], [1, 1, 1, 1])  # tp 2, fp 2
    second = Confusion.of([1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0])  # fn 1, tn 5
    pooled = first + second
    assert pooled == Confusion(tp=2, fp=2, fn=1, tn=5)
    assert pooled.f1 == pytest.approx(2 / (2 + 1.5))
    assert pooled.far_pct == pytest.approx(100 * 2 / 7)
    assert pooled.mar_pct == pytest.approx(100 / 3)
    # Pooled F1 is not the mean of per-file F1s.
    assert pooled.f1 != pytest.approx((first.f1 + second.f1) / 2)


def test_empty_classes_do_not_divide_by_zero() -> None:
    assert Confusion.of([0, 0], [0, 0]).f1 == 0.0
    assert Confusion.of([1, 1], [1, 1]).far_pct == 0.0


def test_confusion_refuses_mismatched_lengths() -> None:
    with pytest.raises(ValueError):
        Confusion.of([0, 1], [0])


def test_min_run_needs_consecutive_rows_above_threshold() -> None:
    scores = np.array([0, 5, 5, 0, 5, 5, 5, 5, 0], dtype=float)
    assert flags_from_scores(scores, 1.0).tolist() == [0, 1, 1, 0, 1, 1, 1, 1, 0]
    assert flags_from_scores(scores, 1.0, min_run=3).tolist() == [0, 0, 0, 0, 0, 0, 1, 1, 0]


def test_rmse_and_phm08_score() -> None:
    assert rmse([10, 20], [13, 16]) == pytest.approx(math.sqrt((9 + 16) / 2))
    late, early = 10.0, -13.0
    expected = (math.exp(late / 10) - 1) + (math.exp(-early / 13) - 1)
    assert phm08_score([50, 50], [50 + late, 50 + early]) == pytest.approx(expected)
    assert phm08_score([7], [7]) == 0.0
