"""Inputs documents for the calculator tests (a factory, not hand-built dicts per test)."""

from __future__ import annotations

import copy
from typing import Any


def facility_document(**overrides: Any) -> dict[str, Any]:
    """A gathering & boosting station: one measured recip, no other sources unless given."""
    document: dict[str, Any] = {
        "facility": {"id": "EF-KARNES", "name": "Karnes station", "segment": "gathering_boosting"},
        "gas_composition": {"ch4_mole_fraction": 0.78, "co2_mole_fraction": 0.01},
        "compressors": [],
        "blowdowns": [],
        "pneumatic_devices": [],
    }
    document.update(copy.deepcopy(overrides))
    return document


def recip(unit_id: str, hours: dict[str, float], *measurements: tuple[str, str]) -> dict[str, Any]:
    return {
        "id": unit_id,
        "type": "reciprocating",
        "hours": hours,
        "measurements": [{"mode": mode, "rate": rate} for mode, rate in measurements],
    }
