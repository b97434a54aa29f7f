"""Local scoring: shared features over rolling windows, threshold rules, the ONNX model.

Runs on the agent thread right after readings are stored, so alarms carry the
reading's sequence number and are raised whether or not the uplink is up.
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from edge_agent.alarms import AlarmTracker, Observation
from edge_agent.errors import ModelError
from edge_agent.model_runtime import FeatureRows, OnnxModel
from edge_agent.thresholds import Thresholds
from shared.features import FEATURE_NAMES, FeatureSpec, StreamingFeatures, rolling_features
from shared.messages import Alarm
from shared.schema import Quality
from shared.sources import ReadingRows

log = logging.getLogger(__name__)

_NO_ANSWER = (int(Quality.COMM_ERROR), int(Quality.DEVICE_EXCEPTION))
_INDEX = {name: i for i, name in enumerate(FEATURE_NAMES)}


@dataclass
class ScoreResult:
    alarms: list[Alarm] = field(default_factory=list)
    scored_rows: int = 0
    #: The running model failed (the agent rolls back).
    model_failure: str | None = None
    #: The candidate in shadow failed, or finished its shadow period cleanly.
    shadow_failure: str | None = None
    shadow_passed: bool = False


@dataclass
class _Shadow:
    model: OnnxModel
    rows_needed: int
    rows_scored: int = 0


class Scorer:
    def __init__(
        self, thresholds: Thresholds, tracker: AlarmTracker, *, recent_readings: int = 3000
    ) -> None:
        self.thresholds = thresholds
        self.tracker = tracker
        self.rule_spec = FeatureSpec(
            window_s=thresholds.window_s, min_samples=thresholds.min_samples
        )
        self.model: OnnxModel | None = None
        self._shadow: _Shadow | None = None
        self._streams: dict[FeatureSpec, StreamingFeatures] = {}
        self._comm_loss: dict[str, int] = {}
        #: Recent raw readings (compressor, seconds, values, state) for checking a candidate.
        self.recent: deque[tuple[str, float, np.ndarray, str]] = deque(maxlen=recent_readings)
        self.rows_scored = 0

    def set_thresholds(self, thresholds: Thresholds) -> None:
        """New rules (remote configuration); open episodes keep their state."""
        self.thresholds = thresholds
        self.rule_spec = FeatureSpec(
            window_s=thresholds.window_s, min_samples=thresholds.min_samples
        )

    # -- models -------------------------------------------------------------

    def set_model(self, model: OnnxModel | None) -> None:
        self.model = model

    def start_shadow(self, candidate: OnnxModel, *, rows: int) -> None:
        self._shadow = _Shadow(candidate, rows_needed=rows)

    def end_shadow(self) -> OnnxModel | None:
        shadow, self._shadow = self._shadow, None
        return shadow.model if shadow else None

    @property
    def shadow_model(self) -> OnnxModel | None:
        return self._shadow.model if self._shadow else None

    def recent_features(self, spec: FeatureSpec) -> FeatureRows:
        """Features of the recent readings, computed afresh with `spec` (shadow scoring)."""
        if not self.recent:
            return FeatureRows(np.empty((0, len(FEATURE_NAMES))), [], [])
        rows = sorted(self.recent, key=lambda r: (r[0], r[1]))
        names = [r[0] for r in rows]
        groups = np.r_[0, np.cumsum([a != b for a, b in itertools.pairwise(names)])]
        times = np.array([r[1] for r in rows])
        features = rolling_features(np.vstack([r[2] for r in rows]), times, spec, groups=groups)
        return FeatureRows(features, names, [r[3] for r in rows])

    # -- scoring --------------------------------------------------------------

    def score(self, readings: ReadingRows) -> ScoreResult:
        """Score stored readings (with their `seq`); return alarm events and model verdicts."""
        result = ScoreResult()
        if len(readings) == 0:
            return result
        values = readings.valid_values()
        times = readings.timestamp_us.astype(np.float64) / 1e6
        stamps = readings.timestamp
        compressors = readings.compressor_id
        states = readings.operating_state
        seqs = readings.seq.tolist()
        no_answer = np.all(np.isin(readings.quality, _NO_ANSWER), axis=1).tolist()
        specs = {self.rule_spec}
        if self.model is not None:
            specs.add(self.model.spec)
        if self._shadow is not None:
            specs.add(self._shadow.model.spec)
        features = {
            spec: self._streams.setdefault(spec, StreamingFeatures(spec)).update(
                compressors, times, values
            )
            for spec in specs
        }
        for i, compressor in enumerate(compressors):
            self.recent.append((compressor, float(times[i]), values[i], states[i]))
            self._rules(result, compressor, features[self.rule_spec][i], stamps[i], seqs[i])
            self._comm(result, compressor, no_answer[i], stamps[i], seqs[i])
        if self.model is not None:
            try:
                rows = FeatureRows(features[self.model.spec], compressors, states)
                self._anomaly(result, self.model, rows, stamps, seqs)
            except ModelError as exc:
                result.model_failure = str(exc)
        if self._shadow is not None:
            spec = self._shadow.model.spec
            self._score_shadow(result, FeatureRows(features[spec], compressors, states))
        result.scored_rows = len(readings)
        self.rows_scored += len(readings)
        return result

    def _observe(self, result: ScoreResult, obs: Observation) -> None:
        alarm = self.tracker.observe(obs)
        if alarm is not None:
            result.alarms.append(alarm)

    def _rules(
        self, result: ScoreResult, compressor: str, row: np.ndarray, at: datetime, seq: int
    ) -> None:
        for rule in self.thresholds.rules:
            value = row[_INDEX[rule.metric]]
            if np.isnan(value):
                continue
            value = float(value)
            self._observe(
                result,
                Observation(
                    compressor_id=compressor,
                    condition=rule.id,
                    severity=rule.severity,
                    tripped=rule.tripped(value),
                    cleared=rule.cleared(value),
                    at=at,
                    seq=seq,
                    metric=rule.metric,
                    value=round(value, 4),
                    threshold=rule.limit,
                    above=rule.above is not None,
                    raise_after=rule.raise_after,
                    clear_after=rule.clear_after,
                    describe=f"{rule.metric} {'above' if rule.above is not None else 'below'} {rule.limit:g}",
                ),
            )

    def _comm(
        self, result: ScoreResult, compressor: str, no_answer: bool, at: datetime, seq: int
    ) -> None:
        rule = self.thresholds.comm_loss
        self._observe(
            result,
            Observation(
                compressor_id=compressor,
                condition="panel_comm_loss",
                severity=rule.severity,
                tripped=no_answer,
                cleared=not no_answer,
                at=at,
                seq=seq,
                raise_after=rule.after_readings,
                clear_after=rule.clear_after,
                describe="no usable value from the panel",
            ),
        )

    def _anomaly(
        self,
        result: ScoreResult,
        model: OnnxModel,
        feature_rows: FeatureRows,
        stamps: list[datetime],
        seqs: list[int],
    ) -> None:
        rows, scores = model.score_rows(feature_rows)
        compressors = feature_rows.compressors
        anomalous, normal = model.anomalous(scores), model.normal(scores)
        limits = model.manifest.thresholds
        for k, i in enumerate(rows.tolist()):
            self._observe(
                result,
                Observation(
                    compressor_id=compressors[i],
                    condition="anomaly_score",
                    severity=self.thresholds.anomaly.severity,
                    tripped=bool(anomalous[k]),
                    cleared=bool(normal[k]),
                    at=stamps[i],
                    seq=seqs[i],
                    metric="anomaly_score",
                    value=round(float(scores[k]), 6),
                    threshold=limits.raise_at,
                    above=limits.anomalous_when == "above",
                    raise_after=limits.raise_after,
                    clear_after=limits.clear_after,
                    model_version=model.label,
                    describe=f"anomaly score of {model.label}",
                ),
            )

    def _score_shadow(self, result: ScoreResult, rows: FeatureRows) -> None:
        assert self._shadow is not None
        try:
            index, _ = self._shadow.model.score_rows(rows)
        except ModelError as exc:
            result.shadow_failure = str(exc)
            return
        self._shadow.rows_scored += len(index)
        if self._shadow.rows_scored >= self._shadow.rows_needed:
            result.shadow_passed = True
