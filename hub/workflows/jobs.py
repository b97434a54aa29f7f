"""The workflow jobs in the order each tick runs them, and the runner that drives them."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hub.settings import HubSettings, SmtpSettings
from hub.workflows.autoresolve import auto_resolve
from hub.workflows.channels import Transports
from hub.workflows.cleanup import clean_up, prune_job_runs
from hub.workflows.clearance import ServingClearance
from hub.workflows.clock import Clock
from hub.workflows.context import ClearanceCheck, WorkflowContext
from hub.workflows.escalation import escalate
from hub.workflows.freshness import check_freshness
from hub.workflows.outbox import Dispatcher
from hub.workflows.rules import evaluate_rules
from hub.workflows.scheduler import Job, JobFunction, Scheduler, TickResult, per_org

log = logging.getLogger(__name__)

#: Raising first (freshness, rules), then resolving what cleared, then escalating what is
#: left, then cleaning up: one tick sees one consistent state.
ORDER = ("freshness", "rules", "auto_resolve", "escalation", "cleanup")


def build_jobs(ctx: WorkflowContext) -> list[Job]:
    def bound(work) -> JobFunction:
        return per_org(lambda session, org_id, now: work(session, ctx, org_id, now))

    cleanup_orgs = bound(clean_up)

    def cleanup(session: Session, now: datetime) -> int:
        horizon = now - timedelta(days=ctx.settings.defaults.retention_days)
        return cleanup_orgs(session, now) + prune_job_runs(session, before=horizon)

    functions: dict[str, JobFunction] = {
        "freshness": bound(check_freshness),
        "rules": bound(evaluate_rules),
        "auto_resolve": bound(auto_resolve),
        "escalation": bound(escalate),
        "cleanup": cleanup,
    }
    return [Job(name, functions[name]) for name in ORDER]


def workflow_context(
    settings: HubSettings, clearance: ClearanceCheck | None = None
) -> WorkflowContext:
    return WorkflowContext(
        settings=settings.workflows, base_url=settings.portal.base_url,
        clearance=clearance or ServingClearance(), development=settings.development,
    )  # fmt: skip


class WorkflowRunner:
    """The scheduler (workflow jobs every `workflows.interval_s`) and the outbox dispatcher.

    `clock` is the workflows' clock (data time); deliveries use wall time for retries.
    """

    def __init__(
        self,
        engine: Engine,
        settings: HubSettings,
        *,
        clock: Clock,
        smtp: SmtpSettings | None = None,
        delivery_clock: Clock | None = None,
    ) -> None:
        delivery = settings.workflows.delivery
        self.context = workflow_context(settings)
        self.dispatcher = Dispatcher(
            engine,
            Transports(smtp or settings.portal.smtp, timeout_s=delivery.timeout_s),
            delivery,
            clock=delivery_clock,
        )
        self.scheduler = Scheduler(
            engine, build_jobs(self.context), clock=clock,
            interval_s=settings.workflows.interval_s, on_tick=self._after_tick,
        )  # fmt: skip

    def _after_tick(self, result: TickResult) -> None:
        self.dispatcher.wake()  # deliver what the tick queued without waiting for the poll

    def start(self) -> None:
        self.dispatcher.start()
        self.scheduler.start()
        log.info("workflows: every %gs, notifications dispatched", self.scheduler.interval_s)

    def stop(self) -> None:
        self.scheduler.stop()
        self.dispatcher.stop()
