"""Small real inputs for the scoring tests: readings frames, a serving database, a registry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from hub.db.migrate import upgrade
from hub.db.models import Compressor, Organization, Station
from hub.db.session import make_engine, session_scope
from shared.schema import QUALITY_FIELDS, SENSOR_FIELDS, OperatingState
from tests.support.factories import BASE_VALUES

ORG = "org-a"
STATION = "STATION-1"
START = datetime(2026, 3, 1, tzinfo=UTC)


def readings_frame(
    minutes: int,
    *,
    compressors: tuple[str, ...] = ("C01", "C02"),
    every_s: int = 2,
    hot_from_minute: int | None = None,
) -> pd.DataFrame:
    """Silver-like readings, `every_s` apart; C01 runs hot (+30 °F) from `hot_from_minute`."""
    rng = np.random.default_rng(0)
    steps = minutes * 60 // every_s
    rows = []
    for compressor in compressors:
        for step in range(steps):
            at = START + timedelta(seconds=step * every_s)
            values = {
                s: BASE_VALUES[s] * (1 + 0.002 * rng.standard_normal()) for s in SENSOR_FIELDS
            }
            if (
                compressor == "C01"
                and hot_from_minute is not None
                and step * every_s >= hot_from_minute * 60
            ):
                values["discharge_temp_f"] += 30.0
            rows.append({
                "org_id": ORG, "station_id": STATION, "compressor_id": compressor, "timestamp": at,
                "operating_state": OperatingState.RUNNING, **values, **{q: 0 for q in QUALITY_FIELDS},
            })  # fmt: skip
    return pd.DataFrame(rows)


def serving_engine(tmp_path: Path, compressors: tuple[str, ...] = ("C01", "C02")) -> Engine:
    url = f"sqlite:///{tmp_path / 'serving.db'}"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine, org_id=ORG) as session:
        session.add(Organization(id=ORG, name=ORG))
        session.flush()
        session.add(Station(org_id=ORG, id=STATION, name="Station 1"))
        session.flush()
        for compressor in compressors:
            session.add(Compressor(org_id=ORG, id=compressor, station_id=STATION))
    return engine
