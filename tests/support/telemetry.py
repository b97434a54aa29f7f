"""Telemetry-side test data (serving tables): a failing compressor with an open alert."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine


@dataclass
class FailingUnit:
    compressor_id: str
    alert_id: str
    alert_title: str


def seed_failing_compressor(engine: Engine, org) -> FailingUnit:  # type: ignore[no-untyped-def]
    """Critical latest status, hourly aggregates and an open alert on the org's first unit."""
    import pytest

    pytest.skip("needs the lakehouse's serving tables (hub.serving), not merged yet")
