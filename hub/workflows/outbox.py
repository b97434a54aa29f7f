"""The transactional outbox: notifications are rows written in the transaction that
decided to notify; a dispatcher delivers them afterwards, at least once, with the row id
as idempotency key, so a receiver that honours the key sees each notification once.

Life of a row: pending -> sending (claimed: attempts + 1, a lease) -> sent, or back to
pending with exponential backoff, or dead after `max_attempts` (or a permanent refusal).
A dispatcher that dies mid-delivery leaves the row `sending`; once its lease runs out any
dispatcher (the restarted one, another replica) claims it again and re-sends it with the
same key. Claims use FOR UPDATE SKIP LOCKED on PostgreSQL, so replicas never share a row.
Backoff and leases use the dispatcher's clock (wall time; a driven clock in tests).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.orm import Session

from hub.db.session import session_scope
from hub.workflows.channels import Outgoing, Transports
from hub.workflows.clock import Clock, SystemClock
from hub.workflows.errors import DeliveryFailed, NotFoundError
from hub.workflows.models import Notification, NotificationChannel
from hub.workflows.scheduler import org_ids
from hub.workflows.settings import DeliverySettings

log = logging.getLogger(__name__)


def enqueue(
    session: Session,
    *,
    org_id: str,
    event: str,
    channel: str,
    recipient: str,
    severity: str,
    subject: str,
    body: str,
    payload: dict[str, Any],
    data_time: datetime,
    episode_id: str | None = None,
    channel_id: str | None = None,
    user_id: str | None = None,
    suppressed: str | None = None,
) -> Notification:
    """Add one notification to the outbox (delivered after the caller's transaction commits).

    `suppressed` records a notification preferences held back (quiet hours), for the log.
    """
    row = Notification(
        org_id=org_id, event=event, channel=channel, recipient=recipient, severity=severity,
        subject=subject[:300], body=body, payload=payload, data_time=data_time,
        episode_id=episode_id, channel_id=channel_id, user_id=user_id,
        status="suppressed" if suppressed else "pending", last_error=suppressed,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def backoff_s(attempts: int, settings: DeliverySettings) -> float:
    return float(min(settings.backoff_base_s * 2 ** max(attempts - 1, 0), settings.backoff_max_s))


@dataclass(frozen=True)
class Claimed:
    org_id: str
    attempts: int
    message: Outgoing


def resend(session: Session, *, org_id: str, notification_id: str, now: datetime) -> Notification:
    """A dead (or suppressed) notification back to pending, attempts from zero."""
    row = session.get(Notification, (org_id, notification_id))
    if row is None:
        raise NotFoundError("No such notification.")
    row.status, row.attempts, row.next_attempt_at, row.lease_until = "pending", 0, now, None
    session.flush()
    return row


class Dispatcher:
    """Delivers due notifications of every organisation; `run_once` is one pass."""

    def __init__(
        self,
        engine: Engine,
        transports: Transports,
        settings: DeliverySettings,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.engine = engine
        self.transports = transports
        self.settings = settings
        self.clock = clock or SystemClock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """Deliver what is due now; returns the number of attempts made."""
        with session_scope(self.engine) as session:
            orgs = org_ids(session)
        attempts = 0
        for org_id in orgs:
            for claimed in self._claim(org_id):
                self._deliver(claimed)
                attempts += 1
        return attempts

    def _claim(self, org_id: str) -> list[Claimed]:
        now = self.clock.now()
        due = or_(
            and_(Notification.status == "pending", Notification.next_attempt_at <= now),
            and_(Notification.status == "sending", Notification.lease_until <= now),
        )
        with session_scope(self.engine, org_id=org_id) as session:
            query = (
                select(Notification)
                .where(Notification.org_id == org_id, due)
                .order_by(Notification.next_attempt_at, Notification.id)
                .limit(self.settings.batch_size)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = list(session.scalars(query))
            points = self._contact_points(session, org_id, rows)
            claimed = []
            for row in rows:
                row.status = "sending"
                row.attempts += 1
                row.lease_until = now + timedelta(seconds=self.settings.lease_s)
                claimed.append(Claimed(org_id, row.attempts, _outgoing(row, points)))
            session.flush()
        return claimed

    @staticmethod
    def _contact_points(
        session: Session, org_id: str, rows: list[Notification]
    ) -> dict[str, tuple[str, str]]:
        ids = {row.channel_id for row in rows if row.channel_id}
        if not ids:
            return {}
        found = session.execute(
            select(
                NotificationChannel.id, NotificationChannel.target, NotificationChannel.secret
            ).where(NotificationChannel.org_id == org_id, NotificationChannel.id.in_(ids))
        )
        return {channel_id: (url, secret) for channel_id, url, secret in found}

    def _deliver(self, claimed: Claimed) -> None:
        message = claimed.message
        status: int | None = None
        error: DeliveryFailed | None = None
        try:
            status = self.transports.send(message)
        except DeliveryFailed as exc:
            error = exc
            status = exc.status
        now = self.clock.now()
        values: dict[str, Any] = {"lease_until": None, "last_status": status}
        if error is None:
            values |= {"status": "sent", "sent_at": now, "last_error": None}
        elif error.permanent or claimed.attempts >= self.settings.max_attempts:
            values |= {"status": "dead", "last_error": str(error)[:2000]}
        else:
            retry_at = now + timedelta(seconds=backoff_s(claimed.attempts, self.settings))
            values |= {
                "status": "pending",
                "next_attempt_at": retry_at,
                "last_error": str(error)[:2000],
            }
        with session_scope(self.engine, org_id=claimed.org_id) as session:
            # Only if nobody took the row over meanwhile (our lease ran out and another
            # dispatcher claimed it: its attempt count is higher).
            session.execute(
                update(Notification)
                .where(
                    Notification.org_id == claimed.org_id,
                    Notification.id == message.id,
                    Notification.status == "sending",
                    Notification.attempts == claimed.attempts,
                )
                .values(**values)
            )
        if error is not None:
            log.warning("notification %s (%s) attempt %d: %s", message.id, message.channel,
                        claimed.attempts, error)  # fmt: skip

    # -- the loop --------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="notifications", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("notification dispatcher pass failed")
            self._wake.wait(self.settings.poll_interval_s)
            self._wake.clear()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=60)


def _outgoing(row: Notification, points: dict[str, tuple[str, str]]) -> Outgoing:
    url, secret = points.get(row.channel_id or "", (None, None))
    return Outgoing(
        id=row.id, channel=row.channel, recipient=row.recipient, subject=row.subject,
        body=row.body, event=row.event, payload=dict(row.payload or {}), url=url, secret=secret,
    )  # fmt: skip
