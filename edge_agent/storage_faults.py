"""The agent's turn when its buffer cannot be written: hold, sound, let go, reopen, reconcile.

`StorageGuard` (edge_agent.gateway) keeps the held readings and decides; these functions
act on the agent, on its own thread (the buffer's single writer).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from edge_agent.buffer import invalidates
from edge_agent.gateway import STORAGE_ERRORS
from shared.sources import RawReading

if TYPE_CHECKING:
    from edge_agent.agent import Agent

log = logging.getLogger(__name__)


def failed(agent: Agent, exc: BaseException, readings: list[RawReading] | None = None) -> None:
    """Hold or refuse readings, sound the horn and tell the hub, as for every storage fault.

    A read-only or invalidated buffer file is let go of: it cannot take writes again
    while it is open, and its file system cannot be checked and mounted again either.
    """
    storage, buffer = agent.storage, agent.buffer
    state = storage.state
    if readings is None:
        storage.trouble(exc)
    else:
        storage.failed(readings, exc)
    if not buffer.released and (storage.state == "read_only" or invalidates(exc)):
        buffer.release()
        log.error("buffer %s closed (%s); opened again once its file system takes writes",
                  buffer.path, storage.state)  # fmt: skip
    agent.site.set_station_fault(True)
    if storage.state != state:
        agent.models.changed = True  # tell the hub at once


def reopened(agent: Agent, readings: Sequence[RawReading]) -> bool:
    """Open the released buffer again and make it agree with what the agent wrote."""
    buffer = agent.buffer
    try:
        buffer.reopen()
        agent.alarm_store.attach(buffer.connection)
        lost = agent.storage.reconcile(buffer.last_seq(), buffer.reading_keys)
        if lost:  # stored and scored before the file system lost them: store, not score
            _store_again(agent, lost)
    except STORAGE_ERRORS as exc:
        failed(agent, exc, agent.storage.hold(readings))
        return False
    log.warning("buffer %s opened again at seq %d", buffer.path, agent.storage.last_seq)
    return True


def recovered(agent: Agent) -> None:
    """The buffer took a write again: silence the station fault, resend what is unacked."""
    agent.site.set_station_fault(False)
    agent.models.changed = True
    if agent.uplink.connected:  # acks that arrived meanwhile could not be recorded
        try:
            agent.sender.on_connected()
        except STORAGE_ERRORS as exc:
            failed(agent, exc)


def _store_again(agent: Agent, lost: list[RawReading]) -> None:
    try:
        stored = agent.buffer.append_readings(lost)
    except STORAGE_ERRORS:
        agent.storage.held[:0] = lost  # first in line (and scored again) with the held ones
        raise
    if stored is not None:
        agent.storage.committed(int(stored.seq[0]), lost)
