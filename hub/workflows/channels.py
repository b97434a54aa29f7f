"""How one notification travels: e-mail over SMTP, webhooks (generic JSON, Slack, Teams)
and SMS through a provider's webhook. Every request carries the notification id as its
idempotency key; webhooks are signed with HMAC-SHA256 over "<timestamp>.<body>".
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import httpx

from hub.settings import SmtpSettings
from hub.workflows.errors import DeliveryFailed

SIGNATURE_HEADER = "X-Altaviz-Signature"
TIMESTAMP_HEADER = "X-Altaviz-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
EVENT_HEADER = "X-Altaviz-Event"
#: Statuses worth retrying; any other 4xx means the request itself is refused.
TRANSIENT_STATUSES = frozenset({408, 425, 429})


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value: "v1=" + hex HMAC-SHA256(secret, timestamp + "." + body)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + digest.hexdigest()


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, *, now: float, tolerance_s: float
) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent."""
    try:
        fresh = abs(now - float(timestamp)) <= tolerance_s
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature)


@dataclass(frozen=True)
class Outgoing:
    """A notification as a transport sees it."""

    id: str
    channel: str
    recipient: str
    subject: str
    body: str
    event: str
    payload: dict[str, Any]
    #: Webhooks and SMS: the contact point's URL and signing key, read when claimed.
    url: str | None = None
    secret: str | None = None


def slack_payload(message: Outgoing) -> dict[str, Any]:
    """A Slack incoming-webhook message (text with mrkdwn, plus a section block)."""
    return {
        "text": f"*{message.subject}*\n{message.body}",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{message.subject}*"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": message.body}},
        ],
    }


def teams_payload(message: Outgoing) -> dict[str, Any]:
    """A Microsoft Teams incoming-webhook message carrying an Adaptive Card."""
    facts = [
        {"title": key.replace("_", " "), "value": str(value)}
        for key, value in message.payload.get("alert", {}).items()
        if value is not None
    ]
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": message.subject, "weight": "Bolder", "wrap": True},
            {"type": "TextBlock", "text": message.body, "wrap": True},
            {"type": "FactSet", "facts": facts},
        ],
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }


def request_body(message: Outgoing) -> dict[str, Any]:
    if message.channel == "slack":
        return slack_payload(message)
    if message.channel == "teams":
        return teams_payload(message)
    if message.channel == "sms":
        return {"id": message.id, "to": message.payload.get("phone"), "text": message.body[:320]}
    return {"id": message.id, **message.payload}


class Transports:
    """Sends one message per call; raises DeliveryFailed (permanent or not) when it cannot."""

    def __init__(
        self, smtp: SmtpSettings, *, timeout_s: float, client: httpx.Client | None = None
    ) -> None:
        self.smtp = smtp
        self.timeout_s = timeout_s
        self.client = client or httpx.Client(timeout=timeout_s, follow_redirects=False)

    def send(self, message: Outgoing) -> int | None:
        if message.channel == "email":
            self._email(message)
            return None
        return self._post(message)

    def _email(self, message: Outgoing) -> None:
        mail = EmailMessage()
        mail["From"] = self.smtp.sender
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        # Same id on every attempt: a mail system that deduplicates on Message-ID can.
        mail["Message-ID"] = make_msgid(idstring=message.id, domain="altaviz.notifications")
        mail["X-Altaviz-Idempotency-Key"] = message.id
        mail.set_content(message.body)
        try:
            with smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=self.timeout_s) as smtp:
                if self.smtp.starttls:
                    smtp.starttls()
                if self.smtp.username:
                    password = self.smtp.password.get_secret_value() if self.smtp.password else ""
                    smtp.login(self.smtp.username, password)
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryFailed(f"recipient refused: {exc.recipients}", permanent=True) from exc
        except smtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.smtp_code < 600
            raise DeliveryFailed(
                f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", permanent=permanent
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(f"SMTP {self.smtp.host}:{self.smtp.port}: {exc}") from exc

    def _post(self, message: Outgoing) -> int:
        if not message.url:
            raise DeliveryFailed("the contact point no longer exists", permanent=True)
        body = json.dumps(request_body(message), separators=(",", ":"), default=str).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Altaviz-Notifications/1",
            IDEMPOTENCY_HEADER: message.id,
            EVENT_HEADER: message.event,
            TIMESTAMP_HEADER: timestamp,
        }
        if message.secret:
            headers[SIGNATURE_HEADER] = sign(message.secret, timestamp, body)
        try:
            response = self.client.post(message.url or "", content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if 200 <= status < 300:
            return status
        permanent = 400 <= status < 500 and status not in TRANSIENT_STATUSES
        raise DeliveryFailed(
            f"HTTP {status}: {response.text[:200]}", permanent=permanent, status=status
        )
