"""An embedded MQTT broker (amqtt) for `make demo` and single-box trials.

amqtt speaks MQTT 3.1.1 and has no shared subscriptions; production uses
mosquitto (see deploy/cloud/mosquitto/). Runs its own event loop in a thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from hub.errors import BrokerError

log = logging.getLogger(__name__)


class EmbeddedBroker:
    def __init__(self, *, host: str = "127.0.0.1", port: int = 1883) -> None:
        self.host = host
        self.port = port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="mqtt-broker", daemon=True
        )
        self._broker: Any = None

    def start(self) -> None:
        from amqtt.broker import Broker

        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
            },
        }
        self._thread.start()

        async def _start() -> Any:
            broker = Broker(config, loop=self._loop)
            await broker.start()
            return broker

        try:
            self._broker = asyncio.run_coroutine_threadsafe(_start(), self._loop).result(timeout=10)
        except Exception as exc:
            raise BrokerError(
                f"embedded MQTT broker could not listen on {self.host}:{self.port}: {exc}"
            ) from exc
        log.info("embedded MQTT broker listening on %s:%d", self.host, self.port)

    def stop(self) -> None:
        if self._broker is not None:
            future = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop)
            try:
                future.result(timeout=10)
            except Exception:  # shutting down: report, do not mask the caller's exit
                log.warning("embedded broker did not shut down cleanly", exc_info=True)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
