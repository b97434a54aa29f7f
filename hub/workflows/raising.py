"""Raising, refreshing and closing the alerts workflows own (workflow_alerts).

One unresolved alert per (station, compressor, key): while it is open its condition is
present; closed means the condition went away (auto-resolve resolves it after the
hysteresis window; if the condition returns before that, the same alert reopens). Once
resolved, a returning condition raises a new alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.workflows.context import WorkflowContext
from hub.workflows.models import WorkflowAlert
from hub.workflows.notify import notify
from hub.workflows.timeline import record


@dataclass(frozen=True)
class Finding:
    """A condition a workflow evaluated on one station (or compressor) at `now`."""

    station_id: str
    compressor_id: str | None
    key: str
    present: bool
    condition: str
    category: str
    severity: str
    message: str
    value: float | None = None
    threshold: float | None = None
    rule_id: str | None = None
    rule_version: int | None = None


def current_alerts(
    session: Session, org_id: str, source: str
) -> dict[tuple[str, str | None, str], WorkflowAlert]:
    rows = session.scalars(
        select(WorkflowAlert).where(
            WorkflowAlert.org_id == org_id,
            WorkflowAlert.source == source,
            WorkflowAlert.resolved_at.is_(None),
            WorkflowAlert.archived_at.is_(None),
        )
    )
    return {(a.station_id, a.compressor_id, a.key): a for a in rows}


def apply_findings(
    session: Session,
    ctx: WorkflowContext,
    org_id: str,
    source: str,
    findings: list[Finding],
    now: datetime,
) -> int:
    """Raise, reopen, refresh or close alerts so they match what was found."""
    current = current_alerts(session, org_id, source)
    actions = 0
    for finding in findings:
        alert = current.get((finding.station_id, finding.compressor_id, finding.key))
        if finding.present:
            if alert is None:
                alert = _raise(session, org_id, source, finding, now)
                record(session, org_id=org_id, episode_id=alert.episode_id, kind="raised", at=now,
                       detail={"message": finding.message})  # fmt: skip
                notify(session, ctx, alert, event="raised", now=now, detail=finding.message)
                actions += 1
            elif alert.status == "closed":
                alert.status, alert.closed_at = "open", None
                record(session, org_id=org_id, episode_id=alert.episode_id, kind="reopened",
                       at=now, detail={"message": finding.message})  # fmt: skip
                actions += 1
            alert.last_seen_at, alert.message = now, finding.message
            alert.value = finding.value
        elif alert is not None and alert.status == "open":
            alert.status, alert.closed_at = "closed", now
            record(session, org_id=org_id, episode_id=alert.episode_id, kind="cleared", at=now,
                   detail={"message": finding.message})  # fmt: skip
            actions += 1
    session.flush()
    return actions


def _raise(
    session: Session, org_id: str, source: str, finding: Finding, now: datetime
) -> WorkflowAlert:
    alert = WorkflowAlert(
        org_id=org_id, source=source, key=finding.key, station_id=finding.station_id,
        compressor_id=finding.compressor_id, condition=finding.condition,
        category=finding.category, severity=finding.severity, status="open",
        message=finding.message, rule_id=finding.rule_id, rule_version=finding.rule_version,
        value=finding.value, threshold=finding.threshold, opened_at=now, last_seen_at=now,
        escalated_at=now if finding.severity == "critical" else None,
    )  # fmt: skip
    session.add(alert)
    session.flush()
    return alert
