"""Scores and model states in the serving database (the portal reads them through here).

Scores go to `predictions` (the serving copy of gold `model_scores`, upserted on its key,
so a replayed micro-batch changes nothing); model states to `model_status`. Services only
flush: the caller's `session_scope` owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hub.scoring.champions import ModelState
from hub.scoring.models import ModelStatus
from hub.serving.models import Prediction
from hub.serving.upsert import upsert

#: Minute-level kinds kept in serving only for the recent past (gold keeps everything).
MINUTE_KINDS = ("anomaly",)


def _value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def score_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """MODEL_SCORES rows (pandas) as plain records for the `predictions` table."""
    columns = [c.name for c in Prediction.__table__.columns]
    return [
        {c: _value(v) for c, v in row.items() if c in columns}
        for row in frame.to_dict(orient="records")
    ]


def write_scores(*, session: Session, rows: Iterable[dict[str, Any]]) -> int:
    """Upsert score rows of the session's org into `predictions`."""
    return upsert(session, Prediction.__table__, list(rows))  # type: ignore[arg-type]


def prune_minute_scores(*, session: Session, org_id: str, keep_hours: float) -> None:
    """Drop minute-level scores older than `keep_hours` before each compressor's newest one."""
    where = (Prediction.org_id == org_id, Prediction.score_kind.in_(MINUTE_KINDS))
    newest = session.execute(
        select(Prediction.compressor_id, func.max(Prediction.scored_at))
        .where(*where)
        .group_by(Prediction.compressor_id)
    ).all()
    for compressor_id, latest in newest:
        if latest.tzinfo is None:
            latest = latest.replace(tzinfo=UTC)
        session.execute(
            delete(Prediction).where(
                *where,
                Prediction.compressor_id == compressor_id,
                Prediction.scored_at < latest - timedelta(hours=keep_hours),
            )
        )


def record_states(*, session: Session, org_id: str, states: Iterable[ModelState]) -> None:
    now = datetime.now(UTC)
    rows = [
        {
            "org_id": org_id, "model_id": s.model_id, "kind": s.kind, "status": s.status,
            "model_version": s.version, "message": s.message, "checked_at": now,
        }
        for s in states
    ]  # fmt: skip
    upsert(session, ModelStatus.__table__, rows)  # type: ignore[arg-type]


def model_states(*, session: Session, org_id: str) -> dict[str, ModelStatus]:
    """kind -> the model's latest recorded state (kinds never recorded are absent)."""
    rows = session.scalars(select(ModelStatus).where(ModelStatus.org_id == org_id)).all()
    return {row.kind: row for row in rows}
