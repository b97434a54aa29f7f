"""Alert rules the operations center writes without code, evaluated over serving data.

A rule holds when its metric compares true for every minute of the last `for_min`
minutes (at least 80% of them present): a sensor's per-minute mean (recent_minutes) or a
model score (predictions). It raises one alert per compressor in its scope; the alert
closes once the newest value no longer compares true, and auto-resolve does the rest.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.db.models import Compressor
from hub.serving.models import Prediction, RecentMinute
from hub.workflows.context import WorkflowContext, org_policy
from hub.workflows.models import AlertRule
from hub.workflows.raising import Finding, apply_findings

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
}  # fmt: skip
MIN_COVERAGE = 0.8


def current_rules(session: Session, org_id: str) -> list[AlertRule]:
    """The newest version of every rule of the org."""
    newest = (
        select(AlertRule.rule_id, func.max(AlertRule.version).label("version"))
        .where(AlertRule.org_id == org_id)
        .group_by(AlertRule.rule_id)
        .subquery()
    )
    return list(
        session.scalars(
            select(AlertRule)
            .join(
                newest,
                (AlertRule.rule_id == newest.c.rule_id) & (AlertRule.version == newest.c.version),
            )
            .where(AlertRule.org_id == org_id)
            .order_by(AlertRule.created_at, AlertRule.rule_id)
        )
    )


def _targets(session: Session, org_id: str, rule: AlertRule) -> list[tuple[str, str]]:
    query = select(Compressor.station_id, Compressor.id).where(Compressor.org_id == org_id)
    if rule.scope == "station":
        query = query.where(Compressor.station_id == rule.scope_id)
    elif rule.scope == "compressor":
        query = query.where(Compressor.id == rule.scope_id)
    return [(s, c) for s, c in session.execute(query.order_by(Compressor.id))]


def _series(
    session: Session, org_id: str, rule: AlertRule, start: datetime, now: datetime
) -> dict[str, list[float | None]]:
    """Per compressor, the metric's values in (start, now], oldest first."""
    series: dict[str, list[float | None]] = defaultdict(list)
    if rule.source == "sensor":
        column = getattr(RecentMinute, f"{rule.metric}_mean")
        rows = session.execute(
            select(RecentMinute.compressor_id, column)
            .where(RecentMinute.org_id == org_id, RecentMinute.minute_start > start,
                   RecentMinute.minute_start <= now)
            .order_by(RecentMinute.compressor_id, RecentMinute.minute_start)
        )  # fmt: skip
    else:
        rows = session.execute(
            select(Prediction.compressor_id, Prediction.score)
            .where(Prediction.org_id == org_id, Prediction.score_kind == rule.metric,
                   Prediction.scored_at > start, Prediction.scored_at <= now)
            .order_by(Prediction.compressor_id, Prediction.scored_at)
        )  # fmt: skip
    for compressor_id, value in rows:
        series[compressor_id].append(value)
    return series


def rule_findings(session: Session, org_id: str, rule: AlertRule, now: datetime) -> list[Finding]:
    compare = COMPARISONS[rule.comparison]
    series = _series(session, org_id, rule, now - timedelta(minutes=rule.for_min), now)
    needed = 1 if rule.source == "score" else max(1, int(MIN_COVERAGE * rule.for_min))
    findings = []
    for station_id, compressor_id in _targets(session, org_id, rule):
        values = [v for v in series.get(compressor_id, []) if v is not None]
        if not values:
            continue  # no data: freshness speaks for it, the rule has nothing to say
        holds = len(values) >= needed and all(compare(v, rule.value) for v in values)
        newest = values[-1]
        if not holds and compare(newest, rule.value):
            continue  # still above (not yet `for_min` long): leave an open alert open
        description = (
            f"{rule.name}: {rule.metric} {rule.comparison} {rule.value:g} for {rule.for_min} min"
        )
        findings.append(
            Finding(
                station_id=station_id, compressor_id=compressor_id, key=f"rule:{rule.rule_id}",
                present=holds, condition=f"rule:{rule.name}"[:64], category="equipment",
                severity=rule.severity,
                message=f"{description} (now {newest:g})" if holds else f"{rule.name}: back to {newest:g}",
                value=newest, threshold=rule.value, rule_id=rule.rule_id,
                rule_version=rule.version,
            )
        )  # fmt: skip
    return findings


def evaluate_rules(session: Session, ctx: WorkflowContext, org_id: str, now: datetime) -> int:
    policy = org_policy(session, org_id, ctx.settings.defaults)
    if not policy.rules_enabled:
        return 0
    findings = []
    for rule in current_rules(session, org_id):
        if rule.enabled:
            findings += rule_findings(session, org_id, rule, now)
    return apply_findings(session, ctx, org_id, "rule", findings, now)
