"""Mirror what a lakehouse micro-batch wrote into the serving database, one org at a time.

Runs after the micro-batch's Delta commits (hub.lakehouse.pipeline's after_commit).
Everything is an upsert keyed like gold, so a replayed micro-batch writes the same
rows again and changes nothing. The operator workflow of alert episodes
(acknowledged_*, resolved_*) belongs to the portal and is never written here.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from sqlalchemy import Engine, and_, delete, func, select

from hub.db.session import session_scope
from hub.lakehouse.output import BatchOutput
from hub.serving.fleet import ensure_assets
from hub.serving.models import (
    PIPELINE_EPISODE_COLUMNS,
    AlertEpisode,
    AlertEvent,
    CompressorStatus,
    DailyAggregate,
    DataQualityHour,
    HourlyAggregate,
    Prediction,
    RecentMinute,
    StationFreshness,
)
from hub.serving.upsert import insert_missing, upsert
from hub.settings import HubSettings

log = logging.getLogger(__name__)

Row = dict[str, Any]


def _aware(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # Spark hands back UTC wall times without a zone
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


def collect_rows(frame: DataFrame | None, columns: Iterable[str]) -> dict[str, list[Row]]:
    """Rows of a (small) gold slice per org, restricted to the serving table's columns."""
    if frame is None:
        return {}
    wanted = [c for c in columns if c in frame.columns]
    by_org: dict[str, list[Row]] = defaultdict(list)
    for row in frame.select(*wanted).collect():
        record = {k: _aware(v) for k, v in row.asDict().items()}
        by_org[record["org_id"]].append(record)
    return by_org


def _columns(model: Any) -> list[str]:
    return [c.name for c in model.__table__.columns]


def episode_id(
    org_id: str, station_id: str, compressor_id: str, condition: str, first_seen: datetime
) -> str:
    """The gold episode id (hub.lakehouse.episodes), computed the same way."""
    seconds = int(_aware(first_seen).timestamp())
    key = f"{org_id}|{station_id}|{compressor_id}|{condition}|{seconds}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _events(new: Row, previous: Row | None) -> list[Row]:
    """Lifecycle events implied by an episode's new state against what serving held."""
    events: list[Row] = []

    def event(kind: str, at: datetime | None, severity: str | None, value: float | None) -> None:
        if at is not None:
            events.append({
                "org_id": new["org_id"], "episode_id": new["episode_id"], "kind": kind, "at": at,
                "severity": severity, "value": value,
            })  # fmt: skip

    if previous is None:
        event("opened", new["opened_at"], "warning", new["peak_value"])
    if new["severity"] == "critical" and (previous is None or previous["severity"] != "critical"):
        event("escalated", new["escalated_at"], "critical", new["peak_value"])
    if new["status"] == "closed" and (previous is None or previous["status"] != "closed"):
        event("closed", new["closed_at"], new["severity"], new["peak_value"])
    if new["status"] == "open" and previous is not None and previous["status"] == "closed":
        event("reopened", new["last_seen_at"], new["severity"], new["peak_value"])
    return events


class ServingSync:
    """The after-commit hook: gold slice of a micro-batch -> serving tables."""

    def __init__(self, engine: Engine, *, recent_window_min: int) -> None:
        self.engine = engine
        self.recent_window_min = recent_window_min

    def __call__(self, spark: SparkSession, output: BatchOutput) -> None:
        status = collect_rows(output.health, _columns(CompressorStatus))
        hourly = collect_rows(output.hourly, _columns(HourlyAggregate))
        daily = collect_rows(output.daily, _columns(DailyAggregate))
        scores = collect_rows(output.scores, _columns(Prediction))
        minutes = collect_rows(output.recent_minutes, _columns(RecentMinute))
        freshness = collect_rows(output.freshness, _columns(StationFreshness))
        quality = collect_rows(output.data_quality, _columns(DataQualityHour))
        episodes = collect_rows(output.episodes, _columns(AlertEpisode))
        removed = collect_rows(
            output.episodes_removed,
            ["org_id", "station_id", "compressor_id", "condition", "first_seen_at"],
        )
        for org_id in output.orgs:
            with session_scope(self.engine, org_id=org_id) as session:
                ensure_assets(session, org_id, output.compressors)
                upsert(session, CompressorStatus.__table__, status.get(org_id, []))  # type: ignore[arg-type]
                upsert(session, HourlyAggregate.__table__, hourly.get(org_id, []))  # type: ignore[arg-type]
                upsert(session, DailyAggregate.__table__, daily.get(org_id, []))  # type: ignore[arg-type]
                upsert(session, Prediction.__table__, scores.get(org_id, []))  # type: ignore[arg-type]
                upsert(session, StationFreshness.__table__, freshness.get(org_id, []))  # type: ignore[arg-type]
                upsert(session, DataQualityHour.__table__, quality.get(org_id, []))  # type: ignore[arg-type]
                self._recent_minutes(session, org_id, minutes.get(org_id, []))
                self._episodes(session, org_id, episodes.get(org_id, []), removed.get(org_id, []))
        log.info(
            "serving: %d status, %d hourly, %d episode row(s) for %d org(s)",
            sum(map(len, status.values())), sum(map(len, hourly.values())),
            sum(map(len, episodes.values())), len(output.orgs),
        )  # fmt: skip

    def _recent_minutes(self, session, org_id: str, rows: list[Row]) -> None:  # type: ignore[no-untyped-def]
        upsert(session, RecentMinute.__table__, rows)  # type: ignore[arg-type]
        compressors = {r["compressor_id"] for r in rows}
        if not compressors or self.recent_window_min <= 0:
            return
        mine = (RecentMinute.org_id == org_id) & RecentMinute.compressor_id.in_(compressors)
        newest = dict(
            session.execute(
                select(RecentMinute.compressor_id, func.max(RecentMinute.minute_start))
                .where(mine)
                .group_by(RecentMinute.compressor_id)
            ).all()
        )
        for compressor_id, latest in newest.items():
            cutoff = _aware(latest) - timedelta(minutes=self.recent_window_min)
            session.execute(
                delete(RecentMinute).where(
                    and_(
                        RecentMinute.org_id == org_id,
                        RecentMinute.compressor_id == compressor_id,
                        RecentMinute.minute_start < cutoff,
                    )
                )
            )

    def _episodes(self, session, org_id: str, rows: list[Row], removed: list[Row]) -> None:  # type: ignore[no-untyped-def]
        superseded = [
            episode_id(
                r["org_id"], r["station_id"], r["compressor_id"], r["condition"], r["first_seen_at"]
            )
            for r in removed
        ]
        ids = [r["episode_id"] for r in rows] + superseded
        if not ids:
            return
        previous = {
            e.episode_id: {"status": e.status, "severity": e.severity}
            for e in session.scalars(
                select(AlertEpisode).where(
                    AlertEpisode.org_id == org_id, AlertEpisode.episode_id.in_(ids)
                )
            )
        }
        events = [event for row in rows for event in _events(row, previous.get(row["episode_id"]))]
        upsert(session, AlertEpisode.__table__, rows, update=PIPELINE_EPISODE_COLUMNS)  # type: ignore[arg-type]
        now = datetime.now(UTC)
        for gone in superseded:
            if gone in previous and previous[gone]["status"] != "superseded":
                session.execute(
                    AlertEpisode.__table__.update()
                    .where(AlertEpisode.org_id == org_id, AlertEpisode.episode_id == gone)
                    .values(status="superseded")
                )
                events.append({"org_id": org_id, "episode_id": gone, "kind": "superseded", "at": now, "severity": None, "value": None})  # fmt: skip
        insert_missing(session, AlertEvent.__table__, events)  # type: ignore[arg-type]


def prepare_serving(settings: HubSettings) -> ServingSync:
    """The serving database ready for the pipeline: migrated (if configured) and seeded."""
    from hub.db.migrate import upgrade
    from hub.db.session import make_engine
    from hub.lakehouse.assets import load_assets_fleet
    from hub.serving.fleet import seed_fleet

    if settings.pipeline.auto_migrate:
        upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    fleet = load_assets_fleet(settings.pipeline.seed_fleet)
    if fleet is not None:
        seeded = seed_fleet(engine, fleet)
        log.info("serving: %d compressor(s) seeded from %s", seeded, settings.pipeline.seed_fleet)
    return ServingSync(engine, recent_window_min=settings.pipeline.serving_recent_window_min)
