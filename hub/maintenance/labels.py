"""Work orders as the models' labels: which records say a compressor failed, and when."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from hub.serving.models import MaintenanceEvent

#: Kinds that mean the unit failed at `started_at` ("trip" and "repair" are the records
#: written before work orders existed; a repair is corrective work after a fault).
FAILURE_KINDS = ("failure", "trip", "repair")
FAULT_COLUMNS = ["fault_id", "compressor_id", "fault_mode", "failure", "onset", "back_in_service"]


def _utc(moment: object) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def failure_frame(rows: Sequence[MaintenanceEvent], *, lookback_days: float) -> pd.DataFrame:
    """Failures in the shape training reads (models.fleet_runs.LabelledEvents.equipment_faults):
    the fault mode is the component when known; the onset is unknown, so `lookback_days`
    before the failure."""
    records = [
        {
            "fault_id": row.event_id,
            "compressor_id": row.compressor_id,
            "fault_mode": row.component or row.description or "unknown",
            "failure": _utc(row.started_at),
            "onset": _utc(row.started_at) - pd.Timedelta(days=lookback_days),
            "back_in_service": _utc(row.ended_at) if row.ended_at is not None else pd.NaT,
        }
        for row in rows
        if row.kind in FAILURE_KINDS
    ]
    return pd.DataFrame(records, columns=FAULT_COLUMNS)
