"""systemd's notify protocol with the standard library: READY=1, WATCHDOG=1, STOPPING=1, STATUS=.

The service manager passes a datagram socket in NOTIFY_SOCKET (a path, or an abstract
name starting with '@') and, with WatchdogSec=, the interval in WATCHDOG_USEC. The
agent pings at half that interval from its main loop, so a loop that stops turning
(a hung driver, a deadlock) gets the process restarted. Outside systemd every call is
a no-op.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections import deque

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = dict(os.environ if environ is None else environ)
        self.address = env.get("NOTIFY_SOCKET") or None
        interval_us = int(env.get("WATCHDOG_USEC") or 0)
        watchdog_pid = env.get("WATCHDOG_PID")
        if watchdog_pid and watchdog_pid != str(os.getpid()):
            interval_us = 0  # the watchdog is meant for another process
        self.watchdog_s = interval_us / 1e6
        self._next_ping = 0.0
        #: The last messages sent (for the tests and the curious).
        self.sent: deque[str] = deque(maxlen=50)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def notify(self, message: str) -> bool:
        if self.address is None:
            return False
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                # Never block the agent's loop on a service manager that does not read.
                sock.setblocking(False)
                sock.connect(target)
                sock.send(message.encode())
        except BlockingIOError:
            log.debug("systemd notify socket full; %r dropped", message.split("=")[0])
            return False
        except OSError as exc:
            log.warning("systemd notify %r failed: %s", message.split("=")[0], exc)
            return False
        self.sent.append(message)
        return True

    def ready(self, status: str = "") -> None:
        self.notify("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def stopping(self) -> None:
        self.notify("STOPPING=1")

    def tick(self, status: str | None = None) -> None:
        """From the main loop: WATCHDOG=1 every half interval (with a STATUS line)."""
        if self.address is None or self.watchdog_s <= 0:
            return
        now = time.monotonic()
        if now < self._next_ping:
            return
        self._next_ping = now + self.watchdog_s / 2
        self.notify("WATCHDOG=1" + (f"\nSTATUS={status}" if status else ""))
