"""The outbox delivers at least once with an idempotency key, backs off exponentially,
dead-letters after the configured attempts, and survives the sender being killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from hub.db.session import session_scope
from hub.workflows.channels import Transports
from hub.workflows.clock import DrivenClock
from hub.workflows.models import Notification, NotificationChannel
from hub.workflows.outbox import Dispatcher, enqueue, resend
from hub.workflows.settings import DeliverySettings
from tests.hub.portal.factories import make_org
from tests.hub.workflows.conftest import T0, WorkflowDb, smtp_settings
from tests.hub.workflows.receiver import Receiver
from tests.support.server import serve

pytestmark = pytest.mark.postgres

SECRET = "whsec-test-0123456789"
REPO = Path(__file__).resolve().parents[3]


def _outbox(
    db: WorkflowDb, url: str, count: int = 1, kind: str = "webhook"
) -> tuple[str, list[str]]:
    org = make_org(db.owner, stations=1, compressors_per_station=1)
    with session_scope(db.app, org_id=org.org_id) as session:
        channel = NotificationChannel(org_id=org.org_id, name="ops", kind=kind, target=url,
                                      secret=SECRET, severities=["warning", "critical"])  # fmt: skip
        session.add(channel)
        session.flush()
        ids = [
            enqueue(
                session, org_id=org.org_id, event="escalated", channel=kind, recipient=url,
                channel_id=channel.id, severity="critical", subject=f"alert {i}",
                body=f"body {i}", payload={"alert": {"id": f"ep-{i}"}}, data_time=T0,
            ).id
            for i in range(count)
        ]  # fmt: skip
    return org.org_id, ids


def _row(db: WorkflowDb, org_id: str, notification_id: str) -> Notification:
    with session_scope(db.app, org_id=org_id) as session:
        row = session.get(Notification, (org_id, notification_id))
        assert row is not None
        return row


def _dispatcher(db: WorkflowDb, clock: DrivenClock, **delivery: float) -> Dispatcher:
    settings = DeliverySettings(
        **{"backoff_base_s": 10, "max_attempts": 5, "lease_s": 60, **delivery}
    )  # type: ignore[arg-type]
    from hub.settings import SmtpSettings

    return Dispatcher(db.app, Transports(SmtpSettings(), timeout_s=5), settings, clock=clock)


def test_fails_three_times_then_one_signed_delivery(workflow_db: WorkflowDb) -> None:
    receiver = Receiver(SECRET, fail_first=3)
    with serve(receiver.app()) as base:
        org_id, (nid,) = _outbox(workflow_db, f"{base}/hook")
        start = datetime.now(UTC)
        clock = DrivenClock(start)
        dispatcher = _dispatcher(workflow_db, clock)
        retries = []
        for expected_wait in (10, 20, 40):  # exponential backoff after attempts 1, 2, 3
            assert dispatcher.run_once() == 1
            row = _row(workflow_db, org_id, nid)
            assert (row.status, row.last_status) == ("pending", 503)
            retries.append(row.next_attempt_at - clock.now())
            clock.advance(seconds=expected_wait - 1)
            assert dispatcher.run_once() == 0  # not due yet
            clock.advance(seconds=1)
        assert retries == [timedelta(seconds=s) for s in (10, 20, 40)]
        assert dispatcher.run_once() == 1
        assert dispatcher.run_once() == 0
    row = _row(workflow_db, org_id, nid)
    assert (row.status, row.attempts, row.last_status) == ("sent", 4, 200)
    assert [r["key"] for r in receiver.requests] == [nid] * 4
    assert all(r["valid"] for r in receiver.requests)
    assert list(receiver.accepted) == [nid]
    assert json.loads(receiver.accepted[nid])["alert"] == {"id": "ep-0"}


def test_never_succeeds_dead_letter_then_resend(workflow_db: WorkflowDb) -> None:
    receiver = Receiver(SECRET, always_fail=True)
    with serve(receiver.app()) as base:
        org_id, (nid,) = _outbox(workflow_db, f"{base}/hook")
        clock = DrivenClock(datetime.now(UTC))
        dispatcher = _dispatcher(workflow_db, clock, max_attempts=4, backoff_base_s=1)
        for _ in range(10):
            dispatcher.run_once()
            clock.advance(seconds=60)
        row = _row(workflow_db, org_id, nid)
        assert (row.status, row.attempts) == ("dead", 4)
        assert row.last_error is not None and "HTTP 503" in row.last_error
        assert len(receiver.requests) == 4 and receiver.accepted == {}

        receiver.always_fail = False  # the receiver is fixed; an admin re-sends from the portal
        with session_scope(workflow_db.app, org_id=org_id) as session:
            resend(session, org_id=org_id, notification_id=nid, now=clock.now())
        assert dispatcher.run_once() == 1
    row = _row(workflow_db, org_id, nid)
    assert (row.status, row.attempts) == ("sent", 1)
    assert list(receiver.accepted) == [nid]


def test_a_refusal_is_permanent(workflow_db: WorkflowDb) -> None:
    receiver = Receiver("not-the-secret")  # every signature is wrong: 401
    with serve(receiver.app()) as base:
        org_id, (nid,) = _outbox(workflow_db, f"{base}/hook")
        assert _dispatcher(workflow_db, DrivenClock(datetime.now(UTC))).run_once() == 1
    row = _row(workflow_db, org_id, nid)
    assert (row.status, row.attempts, row.last_status) == ("dead", 1, 401)


SENDER = """
import sys
from hub.db.session import make_engine
from hub.settings import SmtpSettings
from hub.workflows.channels import Transports
from hub.workflows.outbox import Dispatcher
from hub.workflows.settings import DeliverySettings
engine = make_engine(sys.argv[1])
Dispatcher(engine, Transports(SmtpSettings(), timeout_s=30), DeliverySettings(lease_s=2)).run_once()
"""


def test_killed_mid_delivery_loses_nothing_and_sends_nothing_twice(
    workflow_db: WorkflowDb,
) -> None:
    receiver = Receiver(SECRET, hold_first_s=2)
    with serve(receiver.app()) as base:
        org_id, ids = _outbox(workflow_db, f"{base}/hook", count=3)
        sender = subprocess.Popen(
            [sys.executable, "-c", SENDER, workflow_db.app_url],
            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
        )  # fmt: skip
        try:
            assert receiver.first_arrived.wait(timeout=60), "the sender never delivered"
        finally:
            sender.send_signal(signal.SIGKILL)
            sender.wait(timeout=10)
        # The dead sender had claimed its whole batch: one delivered, none marked sent.
        statuses = {nid: _row(workflow_db, org_id, nid).status for nid in ids}
        assert statuses == dict.fromkeys(ids, "sending")
        assert len(receiver.requests) == 1

        # The hub restarts: once the dead sender's lease has run out, its claims are retried.
        clock = DrivenClock(datetime.now(UTC))
        restarted = _dispatcher(workflow_db, clock)
        assert restarted.run_once() == 0  # still leased to the dead sender
        clock.advance(seconds=3)
        assert restarted.run_once() == 3
        assert restarted.run_once() == 0
    assert {nid: _row(workflow_db, org_id, nid).status for nid in ids} == dict.fromkeys(ids, "sent")
    assert sorted(receiver.accepted) == sorted(ids)  # every notification acted on once
    keys = [r["key"] for r in receiver.requests]
    assert len(keys) == 4 and len(set(keys)) == 3  # one re-sent, with the same key


def test_email_to_a_real_smtp_server(workflow_db: WorkflowDb, smtp_sink) -> None:  # type: ignore[no-untyped-def]
    org = make_org(workflow_db.owner, stations=1, compressors_per_station=1)
    with session_scope(workflow_db.app, org_id=org.org_id) as session:
        nid = enqueue(
            session, org_id=org.org_id, event="escalated", channel="email",
            recipient="admin@example.com", severity="critical", subject="[Altaviz critical] x",
            body="Discharge temp high", payload={}, data_time=T0,
        ).id  # fmt: skip
    dispatcher = Dispatcher(workflow_db.app, Transports(smtp_settings(smtp_sink), timeout_s=5),
                            DeliverySettings())  # fmt: skip
    assert dispatcher.run_once() == 1
    (mail,) = smtp_sink.messages()
    assert mail.recipients == ("admin@example.com",)
    assert mail.message["X-Altaviz-Idempotency-Key"] == nid
    assert mail.message.get_content().strip() == "Discharge temp high"
    with session_scope(workflow_db.app, org_id=org.org_id) as session:
        assert (
            session.scalars(select(Notification.status).where(Notification.id == nid)).one()
            == "sent"
        )


def test_one_escalation_reaches_every_channel_in_its_shape(
    workflow_db: WorkflowDb,
    smtp_sink,  # type: ignore[no-untyped-def]
) -> None:
    from hub.portal.tenancy import Role
    from hub.serving.models import AlertEpisode
    from hub.workflows.jobs import workflow_context
    from hub.workflows.models import NotificationPreference
    from hub.workflows.notify import notify
    from tests.hub.portal.factories import make_member
    from tests.hub.workflows.conftest import hub_settings, seed_episode

    receiver = Receiver(SECRET)
    org = make_org(workflow_db.owner, stations=1, compressors_per_station=1)
    admin = make_member(workflow_db.owner, org.org_id, Role.admin, password=None)
    episode_id = seed_episode(workflow_db.owner, org.org_id, org.compressor_ids[0],
                              episode_id=f"x-{org.org_id}", severity="critical", opened_at=T0)  # fmt: skip
    with serve(receiver.app()) as base:
        with session_scope(workflow_db.app, org_id=org.org_id) as session:
            for kind in ("slack", "teams", "sms"):
                session.add(NotificationChannel(org_id=org.org_id, name=kind, kind=kind,
                                                target=f"{base}/{kind}", secret=SECRET,
                                                severities=["critical"]))  # fmt: skip
            session.add(NotificationPreference(org_id=org.org_id, user_id=admin.user_id,
                                               channels=["email", "sms"], phone="+15125550100",
                                               severities=["critical"]))  # fmt: skip
            session.flush()
            episode = session.get(AlertEpisode, (org.org_id, episode_id))
            context = workflow_context(hub_settings(workflow_db.app_url))
            queued = notify(session, context, episode, event="escalated", now=T0,
                            detail="unacknowledged 15 min, escalated to admins", target="admins")  # fmt: skip
        assert queued == 4  # e-mail and SMS to the admin; Slack and Teams (SMS is a provider)
        dispatcher = Dispatcher(workflow_db.app, Transports(smtp_settings(smtp_sink), timeout_s=5),
                                DeliverySettings())  # fmt: skip
        assert dispatcher.run_once() == 4
    bodies = {r["path"]: json.loads(r["body"]) for r in receiver.requests}
    assert all(r["valid"] for r in receiver.requests)
    assert (
        bodies["/sms"]["to"] == "+15125550100" and "Discharge temp high" in bodies["/sms"]["text"]
    )
    assert bodies["/slack"]["text"].startswith("*[Altaviz critical] Discharge temp high on")
    assert bodies["/slack"]["blocks"][0]["type"] == "section"
    card = bodies["/teams"]["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    facts = {f["title"]: f["value"] for f in card["content"]["body"][2]["facts"]}
    assert facts["compressor id"] == org.compressor_ids[0] and facts["severity"] == "critical"
    (mail,) = smtp_sink.messages()
    assert mail.recipients == (admin.email,)
