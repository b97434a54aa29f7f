"""A local SMTP server that keeps every message it receives (the demo's mailbox, tests).

Runs aiosmtpd in its own thread; each message is written to `directory` as an .eml file
named by arrival order, and kept in memory for whoever started the sink.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: tuple[str, ...]
    message: EmailMessage
    path: Path | None


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.sink.keep(envelope.mail_from, tuple(envelope.rcpt_tos), envelope.content)
        return "250 Message accepted for delivery"


class SmtpSink:
    def __init__(
        self, directory: Path | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.directory = directory
        self.host = host
        self._port = port
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def port(self) -> int:
        return self._port

    def start(self) -> SmtpSink:
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
        if not self._port:
            with socket.socket() as probe:  # aiosmtpd needs a concrete port to check it is up
                probe.bind((self.host, 0))
                self._port = int(probe.getsockname()[1])
        self._controller = Controller(_Handler(self), hostname=self.host, port=self._port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def keep(self, sender: str, recipients: tuple[str, ...], content: bytes) -> None:
        message = message_from_bytes(content, policy=policy.default)
        with self._lock:
            path = None
            if self.directory is not None:
                existing = len(list(self.directory.glob("*.eml")))
                path = self.directory / f"{existing + 1:05d}.eml"
                path.write_bytes(content)
            self.received.append(Received(sender, recipients, message, path))

    def messages(self) -> list[Received]:
        with self._lock:
            return list(self.received)
