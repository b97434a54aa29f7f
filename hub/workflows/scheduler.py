"""The scheduler: every workflow job exactly once per tick, however many hub replicas run.

A tick is `floor(wall seconds / interval_s)`, so replicas agree on it without talking.
For each (job, tick) a replica opens one transaction and takes the PostgreSQL advisory
lock `pg_try_advisory_xact_lock(job key, tick)`: the loser returns at once instead of
waiting. The winner checks the run log (`workflow_job_runs`, primary key (job, tick)) —
a replica that reaches the tick after the winner committed finds the row and skips —
then runs the job and inserts the row in the same transaction. The job's effects (alerts,
timeline, audit log, outbox rows) and its run record commit together or not at all: a
replica that dies mid-run rolls back and the next one to try that tick runs it again.
On SQLite (the embedded default) one process runs the scheduler; the run log's primary
key still refuses a second run of a tick.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.db.session import session_scope, set_tenant
from hub.workflows.clock import Clock
from hub.workflows.models import JobRun

log = logging.getLogger(__name__)

_SCOPED = "workflows_scope"  # session.info: this session's transaction set app.workflows

#: A job: (session, data time) -> number of actions taken. It only flushes.
JobFunction = Callable[[Session, datetime], int]


@dataclass(frozen=True)
class Job:
    name: str
    run: JobFunction


@dataclass
class TickResult:
    tick: int
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    #: Ran and committed, but failed for some organisations (the run's error names them).
    partial: list[str] = field(default_factory=list)


def runner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def enable_scheduler_scope(session: Session) -> None:
    """Let this transaction write the run log and list org ids (PostgreSQL RLS)."""
    if session.get_bind().dialect.name == "postgresql" and not session.info.get(_SCOPED):
        session.execute(text("SELECT set_config('app.workflows', 'on', true)"))
        session.info[_SCOPED] = True


def org_ids(session: Session) -> list[str]:
    """Every organisation's id (the scheduler visits each under its own tenant scope)."""
    from hub.db.models import Organization

    enable_scheduler_scope(session)
    return list(session.scalars(select(Organization.id).order_by(Organization.id)))


def per_org(work: Callable[[Session, str, datetime], int]) -> JobFunction:
    """A job that visits every org under that org's tenant scope, each in a savepoint:
    one org's failure is logged and recorded on the run, the other orgs go ahead."""

    def run(session: Session, now: datetime) -> int:
        actions = 0
        for org_id in org_ids(session):
            set_tenant(session, org_id)
            try:
                with session.begin_nested():
                    actions += work(session, org_id, now)
            except Exception as exc:
                log.exception("workflow failed for org %s", org_id)
                session.info.setdefault("workflow_errors", []).append(f"{org_id}: {exc}")
        return actions

    return run


def _lock_key(job: str) -> int:
    return zlib.crc32(job.encode()) - 2**31  # a signed int4, as pg_try_advisory_xact_lock wants


def _claim(session: Session, job: str, tick: int) -> bool:
    """True when this transaction may run (job, tick): lock won and no run recorded.

    On SQLite the transaction first takes the database's write lock (`BEGIN IMMEDIATE`,
    waiting up to the busy timeout): a job reads, then writes, and a deferred transaction
    cannot turn into a writer once another connection (the hot path, the serving sync) has
    committed after its first read — SQLite fails that write at once with "database is
    locked", whatever the busy timeout says."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("BEGIN IMMEDIATE"))
    if session.get_bind().dialect.name == "postgresql":
        locked = session.execute(
            text(
                "SELECT pg_try_advisory_xact_lock(:job, :tick) "
                "FROM set_config('app.workflows', 'on', true)"
            ),
            {"job": _lock_key(job), "tick": tick % 2**31},
        ).scalar_one()
        session.info[_SCOPED] = True
        if not locked:
            return False
    # A new statement, so a new snapshot: a run committed before we took the lock is seen.
    return session.get(JobRun, (job, tick)) is None


class Scheduler:
    """Runs `jobs` in order once per tick; `run_tick` is also what tests drive directly."""

    def __init__(
        self,
        engine: Engine,
        jobs: Sequence[Job],
        *,
        clock: Clock,
        interval_s: float,
        runner: str | None = None,
        on_tick: Callable[[TickResult], None] | None = None,
    ) -> None:
        self.engine = engine
        self.jobs = list(jobs)
        self.clock = clock
        self.interval_s = interval_s
        self.runner = runner or runner_id()
        self.on_tick = on_tick
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: BaseException | None = None
        self._paused: set[str] = set()
        self._ticking = threading.Lock()  # held for a whole tick: `pause` waits for it

    def current_tick(self) -> int:
        return int(time.time() // self.interval_s)

    def run_tick(self, tick: int) -> TickResult:
        result = TickResult(tick)
        with self._ticking:
            for job in self.jobs:
                if job.name in self._paused:
                    continue
                outcome = self._run_job(job, tick)
                getattr(result, outcome).append(job.name)
                if outcome == "partial":
                    result.ran.append(job.name)
        return result

    def pause(self, *jobs: str) -> None:
        """Run these jobs no more, the others as before (e.g. freshness while stations are
        stopped on purpose). Waits for a tick under way, so none of them runs after this."""
        self._known(jobs)
        with self._ticking:
            self._paused.update(jobs)

    def resume(self, *jobs: str) -> None:
        """Run these paused jobs again from the next tick (e.g. freshness once the stations
        started on purpose are up); resuming a job that runs is a no-op."""
        self._known(jobs)
        with self._ticking:
            self._paused.difference_update(jobs)

    def _known(self, jobs: tuple[str, ...]) -> None:
        unknown = set(jobs) - {job.name for job in self.jobs}
        if unknown:
            raise ValueError(f"no such workflow job: {', '.join(sorted(unknown))}")

    def _run_job(self, job: Job, tick: int) -> str:
        data_time = self.clock.now()
        started = datetime.now(UTC)
        try:
            with session_scope(self.engine) as session:
                if not _claim(session, job.name, tick):
                    return "skipped"
                actions = job.run(session, data_time)
                errors = session.info.pop("workflow_errors", [])
                session.add(
                    JobRun(job=job.name, tick=tick, data_time=data_time, started_at=started,
                           finished_at=datetime.now(UTC), outcome="partial" if errors else "ok",
                           actions=actions, error="; ".join(errors)[:2000] or None,
                           runner=self.runner)
                )  # fmt: skip
                session.flush()
            return "partial" if errors else "ran"
        except IntegrityError:
            return "skipped"  # SQLite, two processes after all: the other one recorded it
        except Exception as exc:
            log.exception("workflow job %s failed at tick %d", job.name, tick)
            self._record_failure(job, tick, data_time, started, exc)
            return "failed"

    def _record_failure(
        self, job: Job, tick: int, data_time: datetime, started: datetime, exc: Exception
    ) -> None:
        try:
            with session_scope(self.engine) as session:
                if not _claim(session, job.name, tick):
                    return
                session.add(
                    JobRun(job=job.name, tick=tick, data_time=data_time, started_at=started,
                           finished_at=datetime.now(UTC), outcome="failed", actions=0,
                           error=f"{type(exc).__name__}: {exc}"[:2000], runner=self.runner)
                )  # fmt: skip
        except Exception:  # the database itself is gone: the log line above says why
            log.exception("could not record the failure of %s at tick %d", job.name, tick)

    # -- the loop --------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="workflow-scheduler", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        last = None
        while not self._stop.is_set():
            tick = self.current_tick()
            if tick != last:
                try:
                    result = self.run_tick(tick)
                    if self.on_tick is not None:
                        self.on_tick(result)
                except Exception as exc:  # run_tick logs job failures itself
                    self.last_error = exc
                    log.exception("scheduler tick %d failed", tick)
                last = tick
            next_at = (tick + 1) * self.interval_s
            self._stop.wait(max(0.01, next_at - time.time()))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
