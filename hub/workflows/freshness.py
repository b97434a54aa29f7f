"""Data freshness: a station silent longer than its SLA (or whose edge agent says it is
offline: a clean stop or its last will) raises a station-offline alert, closed when data
returns; a sensor frozen on one value or missing for `frozen_after_min` while its
compressor runs raises a data-quality alert. Reads the serving database only."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db.base import as_utc
from hub.db.models import Station
from hub.serving.models import RecentMinute, StationFreshness, StationLink
from hub.workflows.context import WorkflowContext, org_policy
from hub.workflows.raising import Finding, apply_findings
from shared.schema import SENSOR_FIELDS

#: Share of a window's minutes that must be present before a sensor is judged frozen.
MIN_COVERAGE = 0.8


def station_findings(session: Session, org_id: str, now: datetime, sla_min: int) -> list[Finding]:
    fresh = {
        f.station_id: as_utc(f.last_reading_at)
        for f in session.scalars(select(StationFreshness).where(StationFreshness.org_id == org_id))
    }
    links = {
        link.station_id: link
        for link in session.scalars(select(StationLink).where(StationLink.org_id == org_id))
    }
    findings = []
    for station_id in session.scalars(
        select(Station.id).where(Station.org_id == org_id).order_by(Station.id)
    ):
        last, link = fresh.get(station_id), links.get(station_id)
        if last is None and link is None:
            continue  # never reported: not onboarded yet, nothing to miss
        reasons = []
        if last is not None and now - last > timedelta(minutes=sla_min):
            silent = int((now - last).total_seconds() // 60)
            reasons.append(f"no data for {silent} min (SLA {sla_min} min)")
        if link is not None and not link.online:
            reasons.append("its edge agent reports offline")
        findings.append(
            Finding(
                station_id=station_id, compressor_id=None, key="station_offline",
                present=bool(reasons), condition="station_offline", category="data_quality",
                severity="warning",
                message="; ".join(reasons) if reasons else "data flowing again",
            )
        )  # fmt: skip
    return findings


def sensor_findings(session: Session, org_id: str, now: datetime, window_min: int) -> list[Finding]:
    start = now - timedelta(minutes=window_min)
    rows = session.scalars(
        select(RecentMinute)
        .where(RecentMinute.org_id == org_id, RecentMinute.minute_start > start,
               RecentMinute.minute_start <= now)
        .order_by(RecentMinute.compressor_id, RecentMinute.minute_start)
    )  # fmt: skip
    minutes: dict[tuple[str, str], list[RecentMinute]] = defaultdict(list)
    for row in rows:
        minutes[(row.station_id, row.compressor_id)].append(row)
    findings = []
    for (station_id, compressor_id), window in minutes.items():
        if len(window) < MIN_COVERAGE * window_min or not any(m.n_running for m in window):
            continue  # too little data to judge, or the unit is stopped: nothing to say
        for sensor in SENSOR_FIELDS:
            state = _sensor_state(window, sensor)
            findings.append(
                Finding(
                    station_id=station_id, compressor_id=compressor_id, key=f"sensor:{sensor}",
                    present=state is not None, condition=f"sensor_{state or 'ok'}:{sensor}"[:64],
                    category="data_quality", severity="warning",
                    message=f"{sensor} {state} for {window_min} min" if state else f"{sensor} reporting",
                )
            )  # fmt: skip
    return findings


def _sensor_state(window: list[RecentMinute], sensor: str) -> str | None:
    means = [getattr(m, f"{sensor}_mean") for m in window]
    if all(v is None for v in means):
        return "missing"
    lows = [getattr(m, f"{sensor}_min") for m in window]
    highs = [getattr(m, f"{sensor}_max") for m in window]
    if any(v is None for v in (*means, *lows, *highs)):
        return None
    return "frozen" if max(highs) - min(lows) == 0 else None


def check_freshness(session: Session, ctx: WorkflowContext, org_id: str, now: datetime) -> int:
    policy = org_policy(session, org_id, ctx.settings.defaults)
    if not policy.freshness_enabled:
        return 0
    stations = station_findings(session, org_id, now, policy.freshness_sla_min)
    sensors = sensor_findings(session, org_id, now, policy.frozen_after_min)
    return apply_findings(session, ctx, org_id, "freshness", stations, now) + apply_findings(
        session, ctx, org_id, "data_quality", sensors, now
    )
