"""Champion / challenger: both scored on the same held-out days and labelled events.

The held-out range is the last days before training time that the challenger never
trained on (the training policy's hindsight keeps the newest 30 days out of training;
at most 14 of them are used). Each model is exported to ONNX and scored by ONNX Runtime exactly as a
station would; its alarm episodes are matched against the labelled events known by
then (failures from maintenance records). Only a better model is offered: no more
false alarms, no fewer detections, and better on at least one count.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from models.anomaly import AnomalyConfig, model_inputs
from models.anomaly_runtime import FleetOnnxScorer
from models.compressor_features import epoch_seconds
from models.evaluation import alarm_episodes, detection_report
from models.fleet_runs import LabelledEvents


@dataclass(frozen=True)
class HoldoutResult:
    compressors: int
    false_alarms: int
    healthy_compressor_months: float
    detected: int
    events: int
    median_lead_h: float | None

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / max(self.healthy_compressor_months, 1e-9)

    def as_metrics(self, prefix: str = "holdout_") -> dict[str, float]:
        values = {k: float(v) for k, v in asdict(self).items() if v is not None}
        values["false_alarms_per_compressor_month"] = self.false_alarm_rate
        return {f"{prefix}{k}": v for k, v in values.items()}


def holdout_result(
    onnx_bytes: bytes,
    frame: pd.DataFrame,
    events: LabelledEvents,
    *,
    holdout_from: pd.Timestamp,
    holdout_to: pd.Timestamp,
    config: AnomalyConfig,
    interval_s: float,
) -> HoldoutResult:
    scorer = FleetOnnxScorer(onnx_bytes)
    times = epoch_seconds(frame)
    rows = np.flatnonzero((times >= holdout_from.timestamp()) & (times < holdout_to.timestamp()))
    part = frame.iloc[rows].reset_index(drop=True)
    scores = scorer.score(
        model_inputs(part, config),
        part["compressor_id"].to_numpy(),
        part["operating_state"].to_numpy(),
    )
    episodes = alarm_episodes(part, scores, config, interval_s)
    report = detection_report(
        part, episodes, events, scored_from=holdout_from, scored_to=holdout_to,
        sensor_grace_s=config.window_s,
    )  # fmt: skip
    failed = [o for o in report.outcomes if o.failed_in_scored_period]
    leads = [o.lead_h for o in failed if o.lead_h is not None]
    return HoldoutResult(
        compressors=len(scorer.compressors),
        false_alarms=len(report.false_alarms),
        healthy_compressor_months=report.healthy_compressor_months,
        detected=len(leads),
        events=len(failed),
        median_lead_h=float(np.median(leads)) if leads else None,
    )


@dataclass(frozen=True)
class Decision:
    offer: bool
    reasons: list[str]
    challenger: HoldoutResult
    champion: HoldoutResult | None

    def lines(self) -> list[str]:
        verdict = "better: offer it" if self.offer else "not offered"
        lines = [f"challenger {verdict}"]
        lines += [f"  - {r}" for r in self.reasons]
        for name, result in (("challenger", self.challenger), ("champion", self.champion)):
            if result is not None:
                lead = "-" if result.median_lead_h is None else f"{result.median_lead_h:.0f} h"
                lines.append(
                    f"  {name}: {result.compressors} compressors, "
                    f"{result.false_alarm_rate:.2f} false alarms per compressor-month, "
                    f"{result.detected}/{result.events} labelled events detected, median lead {lead}"
                )
        return lines


def decide(
    challenger: HoldoutResult,
    champion: HoldoutResult | None,
    *,
    max_false_alarm_rate: float = 0.5,
    max_false_alarm_increase: float = 0.0,
) -> Decision:
    reasons: list[str] = []
    if challenger.false_alarm_rate > max_false_alarm_rate:
        reasons.append(
            f"{challenger.false_alarm_rate:.2f} false alarms per compressor-month on the held-out "
            f"days, above {max_false_alarm_rate}"
        )
        return Decision(False, reasons, challenger, champion)
    if champion is None:
        return Decision(True, ["no champion yet"], challenger, None)
    if challenger.detected < champion.detected:
        reasons.append(
            f"detects {challenger.detected} labelled events, champion {champion.detected}"
        )
    if challenger.false_alarm_rate > champion.false_alarm_rate + max_false_alarm_increase:
        reasons.append("more false alarms than the champion")
    if challenger.compressors < champion.compressors:
        reasons.append(
            f"covers {challenger.compressors} compressors, champion {champion.compressors}"
        )
    if reasons:
        return Decision(False, reasons, challenger, champion)
    better = []
    if challenger.compressors > champion.compressors:
        better.append(f"covers {challenger.compressors - champion.compressors} more compressor(s)")
    if challenger.detected > champion.detected:
        better.append(f"detects {challenger.detected - champion.detected} more labelled event(s)")
    if challenger.false_alarms < champion.false_alarms:
        better.append(f"{champion.false_alarms - challenger.false_alarms} fewer false alarm(s)")
    lead, old = challenger.median_lead_h, champion.median_lead_h
    if lead is not None and old is not None and lead >= old + 1.0:
        better.append(f"median lead {lead:.0f} h instead of {old:.0f} h")
    if not better:
        return Decision(
            False, ["no better than the champion on the held-out data"], challenger, champion
        )
    return Decision(True, better, challenger, champion)
