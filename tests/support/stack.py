"""Running the real edge agent and hub ingest together in a test process."""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from edge_agent.agent import Agent
from edge_agent.settings import EdgeSettings
from hub.ingest.worker import IngestWorker
from hub.settings import HubSettings
from shared.mqtt import MqttSettings


def hub_settings(root: Path, port: int, **overrides: Any) -> HubSettings:
    # Any org and station is accepted unless a test seeds the station directory and asks.
    ingest = {"known_stations_only": False, **overrides.pop("ingest", {})}
    return HubSettings.load(
        None,
        data_dir=root / "hub",
        lake_root=str(root / "hub" / "lake"),
        mqtt=MqttSettings(port=port),
        ingest=ingest,
        **overrides,
    )


def edge_settings(root: Path, port: int, *, org_id: str = "org-a", **uplink: Any) -> EdgeSettings:
    return EdgeSettings.load(
        None,
        org_id=org_id,
        station_id="STATION-1",
        mqtt=MqttSettings(port=port, reconnect_min_s=0.2, reconnect_max_s=1),
        buffer={"path": root / "edge" / "buffer.duckdb"},
        uplink={"batch_max_rows": 200, "batch_max_age_s": 0.2, "ack_timeout_s": 2.0, **uplink},
    )


#: Runs `altaviz-edge` in a child process that cannot import Arrow or pandas, as on a gateway
#: installed with only `.[edge]`: any code path of the agent that reaches for them fails.
_GATEWAY_AGENT = (
    "import sys; sys.modules.update(pyarrow=None, pandas=None); "
    "from edge_agent.cli import main; sys.exit(main())"
)


def gateway_agent_command() -> list[str]:
    """The command line of an agent process as a gateway runs it (append `run --config ...`)."""
    return [sys.executable, "-c", _GATEWAY_AGENT]


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class AgentThread:
    """Runs an Agent's loop in a thread; the test inspects it after `stop()`."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self._thread = threading.Thread(target=agent.run, name="edge-agent", daemon=True)

    def __enter__(self) -> AgentThread:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.agent.stop()
        self._thread.join(timeout=20)
        assert not self._thread.is_alive(), "agent thread did not stop"


def landed_seq_counts(landing: Path) -> Counter[int]:
    """How many times each sequence number appears across landed files."""
    counts: Counter[int] = Counter()
    for path in landing.rglob("*.parquet"):
        counts.update(pq.read_table(path, columns=["seq"]).column("seq").to_pylist())
    return counts


def start_ingest(settings: HubSettings, **kwargs: Any) -> IngestWorker:
    worker = IngestWorker(settings, **kwargs)
    worker.start()
    assert worker.connected.wait(10), "ingest did not connect"
    return worker
