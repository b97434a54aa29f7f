"""The agent's turn of remote configuration: take a document, swap the running parts, watch.

`ConfigControl` (edge_agent.remote_config) decides; these functions act on the agent, on
its own thread (the buffer's single writer).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from shared.messages import encode_message
from shared.sources import load_source

if TYPE_CHECKING:
    from edge_agent.agent import Agent
    from edge_agent.remote_config import Effective

log = logging.getLogger(__name__)


def on_document(agent: Agent, payload: bytes) -> None:
    """A document on the config topic: refused and reported, or applied and watched."""
    settings = agent.settings
    effective = agent.config.consider(
        payload, org_id=settings.org_id, station_id=settings.station_id
    )
    if effective is not None:
        before = agent.panels()
        try:
            swap(agent, effective)
        except Exception as exc:  # the running configuration stays
            log.exception("configuration version %d not applied", effective.version)
            agent.config.failed_to_apply(effective, str(exc))
        else:
            agent.config.applied(effective, before=before)
    publish_reports(agent)


def swap(agent: Agent, effective: Effective) -> None:
    """Run another configuration between two polls; readings already taken are kept."""
    new = effective.settings
    if new.source != agent.settings.source:
        source = load_source(
            new.source.kind,
            station_id=new.station_id,
            options=new.source.options,
            resume_after=agent.buffer.newest_reading_time(),
        )  # a bad map or option raises here, before anything changed
        old, agent.source = agent.source, source
        old.close()
        agent.store(old.poll())  # what the old source read before it stopped
        agent.poll_now()
    agent.scorer.set_thresholds(effective.thresholds)
    agent.settings = agent.sender.settings = new
    agent.site.replace(new.annunciation)


def watch(agent: Agent) -> None:
    """Housekeeping: roll back a change that broke a panel, or on the technician's request."""
    target = agent.config.check(agent.panels()) or agent.config.roll_back_on_site()
    if target is not None:
        try:
            swap(agent, target)
        except Exception:  # keep polling with what runs; the report says what happened
            log.exception("could not go back to configuration version %d", target.version)
    publish_reports(agent)


def publish_reports(agent: Agent) -> None:
    """Every report not yet sent, retained on config_status (kept while the link is down)."""
    while agent.config.reports and agent.uplink.connected:
        report = agent.config.reports.pop(0)
        agent.uplink.publish(agent.uplink.config_status_topic, encode_message(report), retain=True)
    if agent.config.changed:
        agent.config.changed = False
        agent.models.changed = True  # publish the station status at once
