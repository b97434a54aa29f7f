"""Helpers for lakehouse tests: settings on a temp dir, landing readings as real batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from hub.ingest.landing import LandingZone
from hub.settings import HubSettings
from shared.batch import decode_batch, encode_batch
from tests.support.factories import batch_meta


def lake_settings(root: Path, **overrides: Any) -> HubSettings:
    pipeline = {"seed_fleet": None, "maintenance_interval_h": 0, **overrides.pop("pipeline", {})}
    defaults: dict[str, Any] = {
        "data_dir": root / "hub",
        "lake_root": str(root / "hub" / "lake"),
        "database_url": f"sqlite:///{root / 'serving.db'}",
    }
    return HubSettings.load(None, pipeline=pipeline, **{**defaults, **overrides})


def land(settings: HubSettings, table: pa.Table, *, org_id: str = "org-a") -> Path:
    """Land `table` as one telemetry batch, exactly as ingest would."""
    payload = encode_batch(table, batch_meta(table, org_id=org_id))
    zone = LandingZone(settings.landing_dir, settings.quarantine_dir)
    return zone.land(decode_batch(payload), payload).path


def land_in_batches(
    settings: HubSettings, table: pa.Table, rows_per_batch: int, **kwargs: Any
) -> list[Path]:
    return [
        land(settings, table.slice(offset, rows_per_batch), **kwargs)
        for offset in range(0, table.num_rows, rows_per_batch)
    ]
