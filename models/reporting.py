"""What `altaviz-models evaluate` prints: detection per fault mode, drift forecasts, RUL errors."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.drift import DriftForecast, DriftLimits
from models.episodes import Episode
from models.evaluation import EARLY_WARNING_MODES, DetectionReport, detection_report
from models.pipeline import PreparedRun, drift_episodes


@dataclass
class DetectionReports:
    edge: DetectionReport
    drift: DetectionReport
    combined: DetectionReport


def detection_reports(prepared: PreparedRun, *, sensor_grace_s: float) -> DetectionReports:
    run, walk = prepared.run, prepared.walk
    assert walk.scored_from is not None
    drift = drift_episodes(prepared.drift)

    scored_from = walk.scored_from

    def report(episodes: list[Episode]) -> DetectionReport:
        return detection_report(
            prepared.frame, episodes, run.events, scored_from=scored_from,
            scored_to=run.end, sensor_grace_s=sensor_grace_s,
        )  # fmt: skip

    return DetectionReports(
        edge=report(prepared.edge_episodes),
        drift=report(drift),
        combined=report(sorted([*prepared.edge_episodes, *drift], key=lambda e: e.raised_at)),
    )


def _cell(row: dict[str, float | int | None]) -> str:
    if not row["faults"]:
        return "-"
    median = "-" if row["median_lead_h"] is None else f"{row['median_lead_h']:.0f} h"
    return f"{row['detected']}/{row['faults']} {median}"


def detection_lines(reports: DetectionReports) -> list[str]:
    combined = reports.combined
    lines = [
        f"Detection, scored {combined.scored_from:%Y-%m-%d} .. {combined.scored_to:%Y-%m-%d} "
        f"({combined.healthy_compressor_months:.1f} healthy compressor-months); "
        "cells: detected/failed, median lead before failure",
        f"{'fault mode':<18}{'edge detector':>16}{'hub drift':>14}{'either (rate)':>20}"
        f"{'min lead':>10}  {'developing at end: detected/all'}",
    ]
    edge, drift, both = (r.by_mode() for r in (reports.edge, reports.drift, reports.combined))
    for mode in sorted(both):
        row = both[mode]
        rate = "" if row["detection_rate"] is None else f" ({row['detection_rate']:.0%})"
        low = "-" if row["min_lead_h"] is None else f"{row['min_lead_h']:.0f} h"
        target = "   target >= 48 h" if mode in EARLY_WARNING_MODES else ""
        lines.append(
            f"{mode:<18}{_cell(edge[mode]):>16}{_cell(drift[mode]):>14}"
            f"{_cell(row) + rate:>20}{low:>10}  {row['developing_detected']}/{row['developing_at_end']}{target}"
        )
    for name, report in (("edge", reports.edge), ("drift", reports.drift), ("either", combined)):
        lines.append(
            f"false alarms ({name}): {len(report.false_alarms)} = "
            f"{report.false_alarms_per_compressor_month:.2f} per compressor-month (target <= 0.5); "
            f"instrument alarms {len(report.instrument_alarms)} = "
            f"{report.instrument_alarms_per_compressor_month:.2f}"
        )
    kinds = Counter(combined.instrument_kinds)
    lines.append(
        "instrument alarms (either) by the labelled sensor fault behind them: "
        + (", ".join(f"{kind} {n}" for kind, n in kinds.most_common()) or "none")
    )
    total = len(combined.false_alarms) + len(combined.instrument_alarms)
    lines.append(
        f"false and instrument alarms together (either): {total} = "
        f"{total / max(combined.healthy_compressor_months, 1e-9):.2f} per compressor-month"
    )
    return lines


def drift_forecast_lines(prepared: PreparedRun, limits: DriftLimits) -> list[str]:
    """Hours-to-warning forecasts against the first hour the peak actually crossed the limit."""
    hourly = prepared.hourly
    crossings = hourly[hourly["discharge_temp_f_peak"] >= limits.warning_f]
    first_cross: dict[str, np.ndarray] = {
        str(c): np.sort(g["hour"].map(pd.Timestamp.timestamp).to_numpy())
        for c, g in crossings.groupby("compressor_id")
    }
    errors, covered, never = [], 0, 0
    forecasts = [f for f in prepared.drift if f.drifting and f.warning is not None and f.warning.hours > 0]
    for forecast in forecasts:
        assert forecast.warning is not None
        after = first_cross.get(forecast.compressor_id, np.empty(0))
        after = after[after >= forecast.as_of.timestamp()]
        if len(after) == 0:
            never += 1
            continue
        actual_h = (after[0] - forecast.as_of.timestamp()) / 3600.0
        errors.append(forecast.warning.hours - actual_h)
        high = forecast.warning.high_hours
        covered += forecast.warning.low_hours <= actual_h <= (high if high is not None else np.inf)
    lines = [f"Drift forecaster: {len(forecasts)} forecasts of hours to the {limits.warning_f:g} °F warning"]
    if errors:
        err = np.abs(np.array(errors))
        lines.append(
            f"  {len(errors)} followed by a crossing: median abs error {np.median(err):.0f} h, "
            f"90 % band covered the actual time in {covered / len(errors):.0%}"
        )
    lines.append(f"  {never} not followed by a crossing before the run ended (or a repair)")
    no_drift = sum(not f.drifting for f in prepared.drift)
    lines.append(f"  {no_drift} of {len(prepared.drift)} forecasts said no drift")
    return lines


def rul_lines(predicted: pd.DataFrame, truth_hours: np.ndarray, cap_hours: float) -> list[str]:
    """RUL errors on detected fault hours, interval coverage, and calls on healthy hours."""
    frame = predicted.assign(truth_h=truth_hours)
    in_fault = frame["fault_mode"].notna() & np.isfinite(frame["truth_h"]) & (frame["truth_h"] > 0)
    scored = frame[in_fault & frame["degrading"] & (frame["truth_h"] <= cap_hours)]
    lines = ["RUL estimator (hours to failure, detected fault hours with truth <= "
             f"{cap_hours:.0f} h, evaluation run)"]  # fmt: skip
    if len(scored):
        err = scored["rul_h"] - scored["truth_h"]
        inside = (scored["rul_low_h"] <= scored["truth_h"]) & (scored["truth_h"] <= scored["rul_high_h"])
        lines.append(
            f"  all modes: {len(scored)} h, MAE {err.abs().mean():.0f} h, RMSE "
            f"{np.sqrt((err**2).mean()):.0f} h, 80 % interval covers {inside.mean():.0%}"
        )
        for mode, part in scored.groupby("fault_mode"):
            e = part["rul_h"] - part["truth_h"]
            near = part[part["truth_h"] <= 72]
            near_mae = f", last 72 h MAE {(near['rul_h'] - near['truth_h']).abs().mean():.0f} h" if len(near) else ""
            lines.append(f"  {mode:<18} {len(part):>5} h, MAE {e.abs().mean():.0f} h{near_mae}")
    fault_hours = frame[in_fault]
    healthy = frame[frame["fault_mode"].isna()]
    lines.append(
        f"  no degradation detected: {1 - fault_hours['degrading'].mean():.0%} of fault hours, "
        f"{1 - healthy['degrading'].mean():.1%} of healthy hours"
    )
    return lines


def forecasts_table(forecasts: list[DriftForecast]) -> pd.DataFrame:
    return pd.DataFrame([f.__dict__ for f in forecasts])
