"""Alarm episodes with hysteresis, kept in the buffer's DuckDB file and queued for the hub.

An episode is one condition on one compressor: it opens after `raise_after`
consecutive tripped readings and closes after `clear_after` consecutive cleared
ones. A reading between the two limits (or a missing value) changes nothing. Each
opening and closing is one `Alarm` message, stored in an outbox in the same
transaction as the episode, and published until the broker acknowledges it —
so alarms are raised at the station with no uplink and reach the hub later.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from shared.messages import Alarm, AlarmEvent, AlarmSeverity

_DDL = """
CREATE TABLE IF NOT EXISTS alarm_episodes (
    episode_id VARCHAR PRIMARY KEY,
    compressor_id VARCHAR NOT NULL,
    condition VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,
    metric VARCHAR,
    threshold DOUBLE,
    raised_at TIMESTAMPTZ NOT NULL,
    raised_seq BIGINT,
    raised_value DOUBLE,
    peak_value DOUBLE,
    cleared_at TIMESTAMPTZ,
    cleared_seq BIGINT,
    model_version VARCHAR,
    message VARCHAR
);
CREATE SEQUENCE IF NOT EXISTS alarm_outbox_id;
CREATE TABLE IF NOT EXISTS alarm_outbox (
    id BIGINT PRIMARY KEY DEFAULT nextval('alarm_outbox_id'),
    episode_id VARCHAR NOT NULL,
    payload VARCHAR NOT NULL,
    published BOOLEAN NOT NULL DEFAULT false
);
ALTER TABLE alarm_episodes ADD COLUMN IF NOT EXISTS acknowledged_at TIMESTAMPTZ;
ALTER TABLE alarm_episodes ADD COLUMN IF NOT EXISTS acknowledged_by VARCHAR;
"""


@dataclass
class Hysteresis:
    """Consecutive-count hysteresis for one condition on one compressor."""

    raise_after: int
    clear_after: int
    tripped_run: int = 0
    cleared_run: int = 0
    open_episode: str | None = None
    peak: float | None = None

    def update(self, *, tripped: bool, cleared: bool) -> AlarmEvent | None:
        """Feed one reading's verdict; return the event it causes, if any."""
        if self.open_episode is None:
            self.tripped_run = self.tripped_run + 1 if tripped else 0
            if self.tripped_run >= self.raise_after:
                self.tripped_run = 0
                return AlarmEvent.RAISED
        else:
            self.cleared_run = self.cleared_run + 1 if cleared else 0
            if self.cleared_run >= self.clear_after:
                self.cleared_run = 0
                return AlarmEvent.CLEARED
        return None


@dataclass(frozen=True)
class Observation:
    """One reading's view of one condition."""

    compressor_id: str
    condition: str
    severity: AlarmSeverity
    tripped: bool
    cleared: bool
    at: datetime
    seq: int | None = None
    metric: str | None = None
    value: float | None = None
    threshold: float | None = None
    above: bool = True
    raise_after: int = 3
    clear_after: int = 5
    model_version: str | None = None
    describe: str = ""


@dataclass
class AlarmTracker:
    """Turns observations into episode events; one state per (compressor, condition)."""

    org_id: str
    station_id: str
    states: dict[tuple[str, str], Hysteresis] = field(default_factory=dict)

    def restore(self, open_episodes: list[tuple[str, str, str, float | None]]) -> None:
        """Re-open episodes that were open when the agent stopped (no second `raised`)."""
        for episode_id, compressor_id, condition, peak in open_episodes:
            state = Hysteresis(raise_after=1, clear_after=1, open_episode=episode_id, peak=peak)
            self.states[(compressor_id, condition)] = state

    def observe(self, obs: Observation) -> Alarm | None:
        state = self.states.get((obs.compressor_id, obs.condition))
        if state is None:
            state = Hysteresis(raise_after=obs.raise_after, clear_after=obs.clear_after)
            self.states[(obs.compressor_id, obs.condition)] = state
        state.raise_after, state.clear_after = obs.raise_after, obs.clear_after
        if state.open_episode is not None and obs.value is not None:
            worse = state.peak is None or (
                obs.value > state.peak if obs.above else obs.value < state.peak
            )
            if worse:
                state.peak = obs.value
        event = state.update(tripped=obs.tripped, cleared=obs.cleared)
        if event is None:
            return None
        if event == AlarmEvent.RAISED:
            state.open_episode = f"{obs.compressor_id}.{obs.condition}.{uuid.uuid4().hex[:12]}"
            state.peak = obs.value
            return self._alarm(obs, state.open_episode, event, raised_at=obs.at, peak=None)
        episode_id, peak = state.open_episode, state.peak
        state.open_episode, state.peak = None, None
        assert episode_id is not None
        return self._alarm(obs, episode_id, event, raised_at=None, peak=peak)

    @property
    def active(self) -> int:
        return sum(1 for s in self.states.values() if s.open_episode is not None)

    def _alarm(
        self,
        obs: Observation,
        episode_id: str,
        event: AlarmEvent,
        *,
        raised_at: datetime | None,
        peak: float | None,
    ) -> Alarm:
        verb = "raised" if event == AlarmEvent.RAISED else "cleared"
        return Alarm(
            episode_id=episode_id,
            event=event,
            org_id=self.org_id,
            station_id=self.station_id,
            compressor_id=obs.compressor_id,
            condition=obs.condition,
            severity=obs.severity,
            raised_at=(raised_at or obs.at).isoformat(),
            cleared_at=obs.at.isoformat() if event == AlarmEvent.CLEARED else None,
            metric=obs.metric,
            value=obs.value,
            threshold=obs.threshold,
            peak_value=peak,
            seq=obs.seq,
            model_version=obs.model_version,
            message=f"{obs.compressor_id}: {obs.describe or obs.condition} {verb}",
        )


class AlarmStore:
    """Episodes and the outbox, in the buffer's DuckDB file (same single writer)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        for statement in _DDL.split(";"):
            if statement.strip():
                self._con.execute(statement).fetchall()

    def attach(self, con: duckdb.DuckDBPyConnection) -> None:
        """Use the buffer's connection again after the buffer reopened its file."""
        self._con = con

    def record(self, alarm: Alarm) -> int:
        """Store the episode change and queue the message; return its outbox id."""
        self._con.execute("BEGIN TRANSACTION")
        try:
            if alarm.event == AlarmEvent.RAISED:
                self._con.execute(
                    "INSERT INTO alarm_episodes (episode_id, compressor_id, condition, severity, "
                    "metric, threshold, raised_at, raised_seq, raised_value, model_version, message) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        alarm.episode_id, alarm.compressor_id, alarm.condition, alarm.severity.value,
                        alarm.metric, alarm.threshold, alarm.raised_at, alarm.seq, alarm.value,
                        alarm.model_version, alarm.message,
                    ],
                )  # fmt: skip
            else:
                self._con.execute(
                    "UPDATE alarm_episodes SET cleared_at = ?, cleared_seq = ?, peak_value = ? "
                    "WHERE episode_id = ?",
                    [alarm.cleared_at, alarm.seq, alarm.peak_value, alarm.episode_id],
                )
            outbox_id = self._queue(alarm)
            self._con.execute("COMMIT")
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        return int(outbox_id)

    def unpublished(self, *, limit: int = 100) -> list[tuple[int, bytes]]:
        rows = self._con.execute(
            "SELECT id, payload FROM alarm_outbox WHERE NOT published ORDER BY id LIMIT ?",
            [limit],
        ).fetchall()
        return [(int(i), p.encode()) for i, p in rows]

    def mark_published(self, outbox_id: int) -> None:
        self._con.execute("UPDATE alarm_outbox SET published = true WHERE id = ?", [outbox_id])

    def _queue(self, alarm: Alarm) -> int:
        (outbox_id,) = self._con.execute(
            "INSERT INTO alarm_outbox (episode_id, payload) VALUES (?, ?) RETURNING id",
            [alarm.episode_id, alarm.model_dump_json()],
        ).fetchone() or (0,)
        return int(outbox_id)

    def acknowledge_open(
        self, *, at: datetime, by: str, org_id: str, station_id: str
    ) -> list[tuple[int, Alarm]]:
        """Mark every open, unacknowledged episode acknowledged; queue one event for each."""
        rows = self._con.execute(
            "SELECT episode_id, compressor_id, condition, severity, metric, raised_value, "
            "threshold, raised_at, raised_seq, model_version, message FROM alarm_episodes "
            "WHERE cleared_at IS NULL AND acknowledged_at IS NULL ORDER BY raised_at"
        ).fetchall()
        queued: list[tuple[int, Alarm]] = []
        self._con.execute("BEGIN TRANSACTION")
        try:
            for (episode_id, compressor_id, condition, severity, metric, value, threshold,
                 raised_at, seq, model_version, message) in rows:  # fmt: skip
                self._con.execute(
                    "UPDATE alarm_episodes SET acknowledged_at = ?, acknowledged_by = ? "
                    "WHERE episode_id = ?",
                    [at, by, episode_id],
                )
                alarm = Alarm(
                    episode_id=episode_id, event=AlarmEvent.ACKNOWLEDGED, org_id=org_id,
                    station_id=station_id, compressor_id=compressor_id, condition=condition,
                    severity=AlarmSeverity(severity), raised_at=raised_at.isoformat(),
                    metric=metric, value=value, threshold=threshold, seq=seq,
                    model_version=model_version,
                    message=f"{(message or '').removesuffix(' raised')} acknowledged on site",
                    acknowledged_at=at.isoformat(), acknowledged_by=by,
                )  # fmt: skip
                queued.append((self._queue(alarm), alarm))
            self._con.execute("COMMIT")
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        return queued

    def annunciated(self) -> list[tuple[str, AlarmSeverity, bool]]:
        """Open episodes as the annunciation sees them: (id, severity, acknowledged)."""
        return [
            (str(e), AlarmSeverity(s), bool(a))
            for e, s, a in self._con.execute(
                "SELECT episode_id, severity, acknowledged_at IS NOT NULL FROM alarm_episodes "
                "WHERE cleared_at IS NULL ORDER BY raised_at"
            ).fetchall()
        ]

    def open_episodes(self) -> list[tuple[str, str, str, float | None]]:
        return [
            (str(e), str(c), str(k), p)
            for e, c, k, p in self._con.execute(
                "SELECT episode_id, compressor_id, condition, coalesce(peak_value, raised_value) "
                "FROM alarm_episodes WHERE cleared_at IS NULL ORDER BY raised_at"
            ).fetchall()
        ]

    def recent(self, *, limit: int = 20) -> list[dict[str, object]]:
        """Open episodes first, then the latest closed ones (for status and the CLI)."""
        rows = self._con.execute(
            "SELECT episode_id, compressor_id, condition, severity, metric, raised_value, "
            "threshold, raised_at, cleared_at, acknowledged_at FROM alarm_episodes "
            "ORDER BY cleared_at IS NULL DESC, raised_at DESC LIMIT ?",
            [limit],
        ).fetchall()
        keys = (
            "episode_id", "compressor_id", "condition", "severity", "metric", "value",
            "threshold", "raised_at", "cleared_at", "acknowledged_at",
        )  # fmt: skip
        return [
            {
                k: (v.isoformat() if hasattr(v, "isoformat") else v)
                for k, v in zip(keys, row, strict=True)
            }
            for row in rows
        ]

    def pending_count(self) -> int:
        row = self._con.execute("SELECT count(*) FROM alarm_outbox WHERE NOT published").fetchone()
        return int(row[0]) if row else 0
