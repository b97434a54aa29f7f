"""Threshold rules (config/thresholds.yaml): which metric, which limit, which hysteresis.

A rule on a sensor's limit names it (`limit: warning` or `limit: critical`, with a
`clear_margin` for the hysteresis) instead of repeating the number: the limit comes from
the file's `sensors:` section (shared/thresholds.py), the one definition the hub's gold
tables and the portal read too. Rules on other metrics (trends, ratios) give `above` or
`below` themselves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shared.errors import ConfigError
from shared.features import FEATURE_NAMES
from shared.messages import AlarmSeverity
from shared.schema import SENSOR_FIELDS
from shared.settings import read_yaml
from shared.thresholds import SensorLimit, SensorLimits


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
    #: The sensor limit (`limit:` in the file) this rule's `above`/`below` came from.
    sensor_limit: Literal["warning", "critical"] | None = None

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


def _sensor_of(metric: str) -> str | None:
    """The sensor a feature is computed from (`discharge_temp_f_mean` -> `discharge_temp_f`)."""
    matches = [s for s in SENSOR_FIELDS if metric == s or metric.startswith(f"{s}_")]
    return max(matches, key=len) if matches else None


def _resolve_limit(rule: dict[str, Any], sensors: dict[str, Any]) -> dict[str, Any]:
    """A rule naming a sensor limit, with that limit's number as `above` or `below`."""
    rule = dict(rule)
    if "above" in rule or "below" in rule:
        raise ValueError(f"rule {rule.get('id')!r}: give `limit` or `above`/`below`, not both")
    sensor = _sensor_of(str(rule.get("metric", "")))
    if sensor is None or sensor not in sensors:
        raise ValueError(
            f"rule {rule.get('id')!r}: `limit` needs a metric of a sensor listed under sensors:"
        )
    limit = SensorLimit.model_validate(sensors[sensor])
    rule["sensor_limit"] = rule.pop("limit")
    value = limit.level(str(rule["sensor_limit"]))
    margin = float(rule.pop("clear_margin", 0.0))
    if limit.direction == "above":
        rule["above"] = value
        rule.setdefault("clear_below", value - margin)
    else:
        rule["below"] = value
        rule.setdefault("clear_above", value + margin)
    return rule


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    window_s: float = Field(60.0, gt=0)
    min_samples: int = Field(5, ge=1)
    #: The sensor limits (shared/thresholds.py): the one definition rules refer to.
    sensors: dict[str, SensorLimit] = Field(default_factory=dict)
    rules: list[ThresholdRule] = Field(default_factory=list)
    comm_loss: CommLossRule = Field(default_factory=CommLossRule)
    anomaly: AnomalyRule = Field(default_factory=AnomalyRule)

    @model_validator(mode="before")
    @classmethod
    def _resolve_limits(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
            return data
        sensors = data.get("sensors") or {}
        unknown = sorted(set(sensors) - set(SENSOR_FIELDS)) if isinstance(sensors, dict) else []
        if unknown:
            raise ValueError(f"sensors: unknown sensor(s) {unknown}")
        rules = [
            _resolve_limit(r, sensors) if isinstance(r, dict) and r.get("limit") else r
            for r in data["rules"]
        ]
        return {**data, "rules": rules}

    @property
    def sensor_limits(self) -> SensorLimits:
        return SensorLimits(sensors=self.sensors)

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        ids = [r.id for r in self.rules]
        duplicate = {i for i in ids if ids.count(i) > 1}
        if duplicate:
            raise ValueError(f"rule id(s) used twice: {sorted(duplicate)}")
        self.sensor_limits  # noqa: B018 - validates the sensor names
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
