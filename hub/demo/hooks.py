"""Where other domains plug into the demo: models, workflows, compliance.

Each hook gets the run's `DemoContext` and returns lines to print. `before_stations`
hooks run after the portal, broker and ingest are up and before the panels and agents
start (the place to register and publish models, or to start an SMTP sink the
workflows send to); `after_stations` hooks run once the panels and agents have started
and reported in to the hub (or the wait for them timed out; the place to tell what
watches the stations that their planned start is over: on a resumed run they had
reported offline when the last run stopped them); `before_stop` hooks run at the end of
the run just before the stations are stopped on purpose (the place to tell what watches
them that this is no outage); `summary` hooks add lines to the closing summary after the
last lake run has been served (RUL trajectory, notifications sent, CO2e per station). A
hook that fails is reported in one line and does not stop the demo.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoContext:
    """What a hook may use: the hub's settings and serving engine, the demo org and story."""

    settings: Any  # hub.settings.HubSettings
    engine: Any  # sqlalchemy.Engine of the serving database
    org_id: str
    data_dir: Path
    scenario: str
    start: str  # the story's day 0 (ISO), fixed across runs
    stations: tuple[str, ...]
    broker_port: int
    #: Environment every edge agent starts with (a hook may add to it, e.g. the pinned
    #: model-signing key: ALTAVIZ_EDGE_MODEL__PUBLIC_KEY_FILE).
    edge_env: dict[str, str] = field(default_factory=dict)
    #: Simulated seconds per real second the run is planned at.
    speed: float = 1800.0


Hook = Callable[[DemoContext], list[str]]


@dataclass
class DemoHooks:
    before_stations: list[Hook] = field(default_factory=list)
    after_stations: list[Hook] = field(default_factory=list)
    before_stop: list[Hook] = field(default_factory=list)
    summary: list[Hook] = field(default_factory=list)

    def run(self, hooks: list[Hook], context: DemoContext) -> list[str]:
        lines: list[str] = []
        for hook in hooks:
            name = getattr(hook, "__qualname__", repr(hook))
            try:
                lines += hook(context)
            except Exception as exc:  # a plug-in must not take the demo down
                log.warning("demo hook %s failed", name, exc_info=True)
                lines.append(f"  ({name} failed: {type(exc).__name__}: {exc})")
        return lines


def default_hooks() -> DemoHooks:
    """The hooks `altaviz demo` runs: models, workflows, compliance, station configuration."""
    from hub.demo.plugins import register

    return register(DemoHooks())
