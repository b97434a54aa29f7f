"""Two schedulers on one PostgreSQL never run a job twice for a tick (counted)."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from datetime import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.db.session import make_engine, session_scope
from hub.workflows.clock import DrivenClock
from hub.workflows.models import JobRun
from hub.workflows.scheduler import Job, Scheduler, enable_scheduler_scope
from tests.hub.workflows.conftest import T0, WorkflowDb

pytestmark = pytest.mark.postgres

TICKS = 100
BASE = 1_000_000  # ticks of this test, apart from any other test's


def test_two_schedulers_run_each_job_once_per_tick(workflow_db: WorkflowDb) -> None:
    executions: Counter[tuple[str, int]] = Counter()
    lock = threading.Lock()
    current: dict[str, int] = {}

    def counting(name: str):  # type: ignore[no-untyped-def]
        def run(session: Session, now: datetime) -> int:
            with lock:
                executions[(name, current[threading.current_thread().name])] += 1
            time.sleep(0.002)  # hold the lock a moment: the other replica arrives meanwhile
            return 1

        return run

    jobs = [Job("count_a", counting("count_a")), Job("count_b", counting("count_b"))]
    engines = [make_engine(workflow_db.app_url) for _ in range(2)]
    schedulers = [
        Scheduler(engine, jobs, clock=DrivenClock(T0), interval_s=1, runner=f"replica-{i}")
        for i, engine in enumerate(engines)
    ]
    barrier = threading.Barrier(2)
    ran: Counter[str] = Counter()

    def replica(scheduler: Scheduler) -> None:
        for tick in range(BASE, BASE + TICKS):
            current[threading.current_thread().name] = tick
            barrier.wait(timeout=30)
            time.sleep(random.random() * 0.002)  # either replica may get there first
            result = scheduler.run_tick(tick)
            assert result.failed == []
            ran[scheduler.runner] += len(result.ran)

    threads = [threading.Thread(target=replica, args=(s,), name=s.runner) for s in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(executions) == 2 * TICKS
    assert set(executions.values()) == {1}, [k for k, v in executions.items() if v > 1]
    assert sum(ran.values()) == 2 * TICKS
    assert all(ran[s.runner] > 0 for s in schedulers), ran  # both replicas took part

    # A replica that reaches the ticks late finds them done and runs nothing.
    late = Scheduler(engines[0], jobs, clock=DrivenClock(T0), interval_s=1, runner="late")
    for tick in range(BASE, BASE + 5):
        current["MainThread"] = tick
        assert late.run_tick(tick).ran == []
    with session_scope(workflow_db.app) as session:
        enable_scheduler_scope(session)
        recorded = session.scalar(
            select(func.count()).select_from(JobRun).where(JobRun.tick >= BASE)
        )
    assert recorded == 2 * TICKS
    for engine in engines:
        engine.dispose()


def test_a_job_that_fails_is_recorded_and_rolled_back(workflow_db: WorkflowDb) -> None:
    def broken(session: Session, now: datetime) -> int:
        session.add(JobRun(job="ghost", tick=1, data_time=now, started_at=now, finished_at=now,
                           outcome="ok", actions=0, runner="ghost"))  # fmt: skip
        session.flush()
        raise RuntimeError("the serving database said no")

    scheduler = Scheduler(
        workflow_db.app, [Job("broken", broken)], clock=DrivenClock(T0), interval_s=1
    )
    assert scheduler.run_tick(BASE * 2).failed == ["broken"]
    with session_scope(workflow_db.app) as session:
        enable_scheduler_scope(session)
        run = session.get(JobRun, ("broken", BASE * 2))
        assert run is not None and run.outcome == "failed"
        assert run.error == "RuntimeError: the serving database said no"
        assert session.get(JobRun, ("ghost", 1)) is None  # the job's own writes rolled back
    assert scheduler.run_tick(BASE * 2).skipped == ["broken"]  # a tick runs once, even failed
