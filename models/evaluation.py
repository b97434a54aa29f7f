"""Walk-forward evaluation of the compressor detector against simulator ground truth.

The detector is (re)trained every `retrain_every_days` with `models.training_policy`
on what the hub would have had at that moment, exported to ONNX, and the following
days are scored by ONNX Runtime. Alarm episodes use the bundle's hysteresis with the
run's reading interval. Scoring rules (docs/simulator.md, "Evaluating against it"):

- an episode is a detection of a fault when it opens inside [onset, failure) on the
  same compressor; lead time = failure - the first such opening;
- detection rate counts faults whose failure falls in the scored period; faults still
  developing at the end of the run are listed apart (their lead time is still measured
  against the failure time the truth names);
- an episode that is not a detection and opens during a labelled sensor fault of that
  compressor (up to one feature window after it) is an instrument alarm, reported apart;
  any other episode is a false alarm. Compressor-months count scored time outside
  equipment faults (onset to back in service).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from models.anomaly import AnomalyConfig, FleetAnomalyModel, fit_fleet_model, model_inputs
from models.anomaly_onnx import export_bytes
from models.anomaly_runtime import FleetOnnxScorer
from models.compressor_features import epoch_seconds
from models.episodes import Episode, episodes_of
from models.fleet_runs import LabelledEvents
from models.training_policy import DAY_S, TrainingPolicy, training_mask

logger = logging.getLogger(__name__)

MONTH_DAYS = 30.4375
EARLY_WARNING_MODES = ("valve_leak", "bearing_wear", "cooler_fouling")


@dataclass
class WalkForward:
    scores: NDArray[np.float64]
    models: list[tuple[pd.Timestamp, FleetAnomalyModel]] = field(default_factory=list)
    scored_from: pd.Timestamp | None = None
    #: Smallest gap (hours) between a model's newest training row and the first row it scored.
    min_holdout_gap_h: float = float("inf")


def walk_forward(
    frame: pd.DataFrame,
    events: LabelledEvents,
    config: AnomalyConfig,
    policy: TrainingPolicy,
) -> WalkForward:
    """Scores of every row from models retrained on schedule, each scoring the next period."""
    times = epoch_seconds(frame)
    first_s = float(np.floor(times.min() / DAY_S) * DAY_S)
    end_s = float(times.max())
    as_of = first_s + policy.reference_days * DAY_S
    inputs = model_inputs(frame, config)
    compressors = frame["compressor_id"].to_numpy()
    states = frame["operating_state"].to_numpy()
    result = WalkForward(scores=np.full(len(frame), np.nan))
    result.scored_from = pd.Timestamp(as_of, unit="s", tz="UTC")
    previous: FleetAnomalyModel | None = None
    while as_of <= end_s:
        mask = training_mask(
            frame,
            as_of_s=as_of,
            first_s=first_s,
            faults=events.equipment_faults,
            champion_scores=result.scores if previous is not None else None,
            alarm_level=config.clear_at,
            policy=policy,
        )
        if mask.any():
            # Held out means disjoint: no model scores a row it (or its data window) saw.
            newest = float(times[mask].max())
            if newest >= as_of:
                raise AssertionError("a walk-forward model would score rows it trained on")
            result.min_holdout_gap_h = min(result.min_holdout_gap_h, (as_of - newest) / 3600.0)
        model = fit_fleet_model(frame, config, train_mask=mask, previous=previous, inputs=inputs)
        scorer = FleetOnnxScorer(export_bytes(model))
        segment = (times >= as_of) & (times < as_of + policy.retrain_every_days * DAY_S)
        rows = np.flatnonzero(segment)
        result.scores[rows] = scorer.score(inputs[rows], compressors[rows], states[rows])
        result.models.append((pd.Timestamp(as_of, unit="s", tz="UTC"), model))
        logger.info(
            "model as of %s: %d compressors, %d rows", result.models[-1][0], len(model.baselines),
            model.training_rows,
        )  # fmt: skip
        previous = model
        as_of += policy.retrain_every_days * DAY_S
    return result


def alarm_episodes(
    frame: pd.DataFrame, scores: NDArray[np.float64], config: AnomalyConfig, interval_s: float
) -> list[Episode]:
    return episodes_of(
        frame,
        scores,
        raise_at=1.0,
        clear_at=config.clear_at,
        raise_after=config.readings_for(config.persistence_s, interval_s),
        clear_after=config.readings_for(config.clear_s, interval_s),
    )


@dataclass(frozen=True)
class FaultOutcome:
    fault_id: str
    compressor_id: str
    fault_mode: str
    onset: pd.Timestamp
    failure: pd.Timestamp
    failed_in_scored_period: bool
    detected_at: pd.Timestamp | None

    @property
    def lead_h(self) -> float | None:
        if self.detected_at is None:
            return None
        return (self.failure - self.detected_at).total_seconds() / 3600.0


@dataclass
class DetectionReport:
    outcomes: list[FaultOutcome]
    false_alarms: list[Episode]
    instrument_alarms: list[Episode]
    healthy_compressor_months: float
    scored_from: pd.Timestamp
    scored_to: pd.Timestamp
    #: Sensor-fault kind (stuck, drift, ...) behind each instrument alarm, in the same order.
    instrument_kinds: list[str] = field(default_factory=list)

    def by_mode(self) -> dict[str, dict[str, float | int | None]]:
        rows: dict[str, dict[str, float | int | None]] = {}
        for mode in sorted({o.fault_mode for o in self.outcomes}):
            failed = [o for o in self.outcomes if o.fault_mode == mode and o.failed_in_scored_period]
            leads = [o.lead_h for o in failed if o.lead_h is not None]
            open_ = [o for o in self.outcomes if o.fault_mode == mode and not o.failed_in_scored_period]
            rows[mode] = {
                "faults": len(failed),
                "detected": len(leads),
                "detection_rate": len(leads) / len(failed) if failed else None,
                "median_lead_h": float(np.median(leads)) if leads else None,
                "min_lead_h": float(np.min(leads)) if leads else None,
                "developing_at_end": len(open_),
                "developing_detected": sum(o.detected_at is not None for o in open_),
            }
        return rows

    @property
    def false_alarms_per_compressor_month(self) -> float:
        return len(self.false_alarms) / max(self.healthy_compressor_months, 1e-9)

    @property
    def instrument_alarms_per_compressor_month(self) -> float:
        return len(self.instrument_alarms) / max(self.healthy_compressor_months, 1e-9)


def detection_report(
    frame: pd.DataFrame,
    episodes: list[Episode],
    events: LabelledEvents,
    *,
    scored_from: pd.Timestamp,
    scored_to: pd.Timestamp,
    sensor_grace_s: float,
) -> DetectionReport:
    faults = events.equipment_faults
    outcomes: list[FaultOutcome] = []
    explained: set[int] = set()
    for fault in faults.itertuples(index=False):
        onset, failure = pd.Timestamp(fault.onset), pd.Timestamp(fault.failure)
        if failure <= scored_from:
            continue
        hits = [
            (i, e) for i, e in enumerate(episodes)
            if e.compressor_id == fault.compressor_id and onset <= e.raised_at < failure
        ]  # fmt: skip
        explained.update(i for i, _ in hits)
        outcomes.append(
            FaultOutcome(
                fault_id=str(fault.fault_id),
                compressor_id=str(fault.compressor_id),
                fault_mode=str(fault.fault_mode),
                onset=onset,
                failure=failure,
                failed_in_scored_period=failure <= scored_to,
                detected_at=min((e.raised_at for _, e in hits), default=None),
            )
        )
    sensor = events.sensor_faults
    false_alarms: list[Episode] = []
    instrument: list[Episode] = []
    kinds: list[str] = []
    for i, episode in enumerate(episodes):
        if i in explained or episode.raised_at < scored_from:
            continue
        during = sensor[
            (sensor["compressor_id"] == episode.compressor_id)
            & (sensor["start"] <= episode.raised_at)
            & (sensor["end"] + pd.Timedelta(seconds=sensor_grace_s) > episode.raised_at)
        ]
        if len(during):
            instrument.append(episode)
            kinds.append(str(during["kind"].iloc[0]))
        else:
            false_alarms.append(episode)
    months = _healthy_months(frame, faults, scored_from, scored_to)
    return DetectionReport(
        outcomes, false_alarms, instrument, months, scored_from, scored_to, kinds
    )


def _healthy_months(
    frame: pd.DataFrame, faults: pd.DataFrame, scored_from: pd.Timestamp, scored_to: pd.Timestamp
) -> float:
    total_days = 0.0
    for compressor in frame["compressor_id"].unique():
        days = (scored_to - scored_from).total_seconds() / DAY_S
        for fault in faults[faults["compressor_id"] == compressor].itertuples(index=False):
            back = fault.back_in_service
            end = scored_to if back is None or pd.isna(back) else min(pd.Timestamp(back), scored_to)
            start = max(pd.Timestamp(fault.onset), scored_from)
            if end > start:
                days -= (end - start).total_seconds() / DAY_S
        total_days += days
    return total_days / MONTH_DAYS
