"""Threshold rules (config/thresholds.yaml): which metric, which limit, which hysteresis."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shared.errors import ConfigError
from shared.features import FEATURE_NAMES
from shared.messages import AlarmSeverity
from shared.settings import read_yaml


class ThresholdRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9_]{1,64}$")
    metric: str
    above: float | None = None
    below: float | None = None
    clear_below: float | None = None
    clear_above: float | None = None
    raise_after: int = Field(3, ge=1)
    clear_after: int = Field(5, ge=1)
    severity: AlarmSeverity = AlarmSeverity.WARNING

    @model_validator(mode="after")
    def _one_direction(self) -> Self:
        if self.metric not in FEATURE_NAMES:
            raise ValueError(f"metric {self.metric!r} is not a feature of shared.features")
        if (self.above is None) == (self.below is None):
            raise ValueError("give exactly one of `above` or `below`")
        if self.above is not None:
            clear = self.clear_below if self.clear_below is not None else self.above
            if clear > self.above:
                raise ValueError("clear_below must not be above `above`")
            object.__setattr__(self, "clear_below", clear)
        else:
            assert self.below is not None
            clear = self.clear_above if self.clear_above is not None else self.below
            if clear < self.below:
                raise ValueError("clear_above must not be below `below`")
            object.__setattr__(self, "clear_above", clear)
        return self

    @property
    def limit(self) -> float:
        return self.above if self.above is not None else self.below  # type: ignore[return-value]

    def tripped(self, value: float) -> bool:
        return value > self.above if self.above is not None else value < self.below  # type: ignore[operator]

    def cleared(self, value: float) -> bool:
        if self.above is not None:
            return value <= self.clear_below  # type: ignore[operator]
        return value >= self.clear_above  # type: ignore[operator]


class CommLossRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    after_readings: int = Field(5, ge=1)
    clear_after: int = Field(2, ge=1)
    severity: AlarmSeverity = AlarmSeverity.CRITICAL


class AnomalyRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    severity: AlarmSeverity = AlarmSeverity.WARNING


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    window_s: float = Field(60.0, gt=0)
    min_samples: int = Field(5, ge=1)
    rules: list[ThresholdRule] = Field(default_factory=list)
    comm_loss: CommLossRule = Field(default_factory=CommLossRule)
    anomaly: AnomalyRule = Field(default_factory=AnomalyRule)

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        ids = [r.id for r in self.rules]
        duplicate = {i for i in ids if ids.count(i) > 1}
        if duplicate:
            raise ValueError(f"rule id(s) used twice: {sorted(duplicate)}")
        return self


def load_thresholds(path: Path | None) -> Thresholds:
    """Rules from `path`; no file means no threshold rules (comm loss and the model still alarm)."""
    if path is None:
        return Thresholds()
    try:
        return Thresholds.model_validate(read_yaml(path))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(f"{path}: {where}: {first['msg']}") from None
