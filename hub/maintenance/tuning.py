"""The alert-rule tuning report: per condition, how many episodes technicians confirmed or
dismissed, the precision that gives, and what to change when a rule cries wolf.

An unreviewed episode that has a failure, repair or replacement work order linked to it
counts as confirmed: the work says it was real.
"""

from __future__ import annotations

from collections import defaultdict
from statistics import median

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db.base import as_utc
from hub.maintenance.labels import FAILURE_KINDS
from hub.maintenance.models import EpisodeReview
from hub.maintenance.schemas import ConditionTuning, TuningReport
from hub.serving.models import AlertEpisode, MaintenanceEvent

#: A rule is judged once this many of its episodes have a verdict.
MIN_REVIEWED = 3
LOW_PRECISION = 0.5
HIGH_PRECISION = 0.9
CORRECTIVE_KINDS = ("failure", "repair", "replacement")


def _suggestion(precision: float | None, reviewed: int, dismissed_minutes: float | None) -> str:
    if precision is None or reviewed < MIN_REVIEWED:
        return f"Review at least {MIN_REVIEWED} episodes to judge this rule."
    if precision < LOW_PRECISION:
        longer = (
            f" Dismissed episodes lasted a median {dismissed_minutes:.0f} min: a persistence "
            "longer than that would have kept them quiet."
            if dismissed_minutes is not None
            else ""
        )
        return (
            "Mostly false alarms: raise the warning threshold or require longer persistence."
            + longer
        )
    if precision < HIGH_PRECISION:
        return "Some false alarms: consider a slightly higher threshold or longer persistence."
    return "Keep: nearly every episode was real."


def tuning_report(*, session: Session, org_id: str) -> TuningReport:
    episodes = session.execute(
        select(AlertEpisode.episode_id, AlertEpisode.condition, AlertEpisode.minutes_active).where(
            AlertEpisode.org_id == org_id, AlertEpisode.status != "superseded"
        )
    ).all()
    leads: dict[str, list[float]] = defaultdict(list)
    for condition, opened_at, failed_at in session.execute(
        select(AlertEpisode.condition, AlertEpisode.opened_at, MaintenanceEvent.started_at)
        .join(
            MaintenanceEvent,
            (MaintenanceEvent.org_id == AlertEpisode.org_id)
            & (MaintenanceEvent.episode_id == AlertEpisode.episode_id),
        )
        .where(AlertEpisode.org_id == org_id, MaintenanceEvent.kind.in_(FAILURE_KINDS))
    ).all():
        leads[condition].append((as_utc(failed_at) - as_utc(opened_at)).total_seconds() / 3600.0)
    verdicts = dict(
        session.execute(
            select(EpisodeReview.episode_id, EpisodeReview.verdict).where(
                EpisodeReview.org_id == org_id
            )
        ).all()
    )
    worked = set(
        session.scalars(
            select(MaintenanceEvent.episode_id).where(
                MaintenanceEvent.org_id == org_id,
                MaintenanceEvent.episode_id.is_not(None),
                MaintenanceEvent.kind.in_(CORRECTIVE_KINDS),
            )
        ).all()
    )
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    dismissed_minutes: dict[str, list[int]] = defaultdict(list)
    for episode_id, condition, minutes in episodes:
        verdict = verdicts.get(episode_id) or (
            "confirmed" if episode_id in worked else "unreviewed"
        )
        counts[condition][verdict] += 1
        if verdict == "dismissed":
            dismissed_minutes[condition].append(minutes)
    rows = []
    for condition in sorted(counts):
        confirmed, dismissed = counts[condition]["confirmed"], counts[condition]["dismissed"]
        reviewed = confirmed + dismissed
        precision = confirmed / reviewed if reviewed else None
        typical = (
            float(median(dismissed_minutes[condition])) if dismissed_minutes[condition] else None
        )
        rows.append(
            ConditionTuning(
                condition=condition, episodes=reviewed + counts[condition]["unreviewed"],
                confirmed=confirmed, dismissed=dismissed,
                unreviewed=counts[condition]["unreviewed"], precision=precision,
                median_minutes_active_dismissed=typical,
                median_lead_h_to_failure=float(median(leads[condition])) if leads[condition] else None,
                suggestion=_suggestion(precision, reviewed, typical),
            )
        )  # fmt: skip
    return TuningReport(conditions=rows)
