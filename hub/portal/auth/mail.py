"""Outgoing e-mail (password resets, invitations) over SMTP."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from hub.settings import SmtpSettings

log = logging.getLogger(__name__)


def send_mail(settings: SmtpSettings, *, to: str, subject: str, body: str) -> bool:
    """Send one plain-text message; False (logged) when the server cannot be reached."""
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s) as smtp:
            if settings.starttls:
                smtp.starttls()
            if settings.username:
                password = settings.password.get_secret_value() if settings.password else ""
                smtp.login(settings.username, password)
            smtp.send_message(message)
        return True
    except (OSError, smtplib.SMTPException) as exc:
        log.error("could not send mail to %s via %s:%s: %s", to, settings.host, settings.port, exc)
        return False
