"""Import work orders from a CMMS export (CSV): every row validated first, then all written
or none. The report names each rejected row, the field at fault and why.

Columns (header names exact, any order): compressor_id, type, started_at (required);
external_id, ended_at, title, component, parts (";"-separated), downtime_hours, notes,
performed_by (optional). Times are ISO 8601 with a zone; downtime is in hours.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db.base import utc_now
from hub.db.models import Compressor
from hub.maintenance.errors import ImportRejected
from hub.maintenance.schemas import (
    COMPONENTS,
    WORK_ORDER_TYPES,
    AwareDatetime,
    DowntimeHours,
    ImportReport,
    Part,
    Person,
    Text,
    Title,
)
from hub.maintenance.service import new_work_order_id
from hub.serving.models import MaintenanceEvent

REQUIRED = ("compressor_id", "type", "started_at")
OPTIONAL = (
    "external_id", "ended_at", "title", "component", "parts", "downtime_hours", "notes",
    "performed_by",
)  # fmt: skip
MAX_ROWS = 20_000
MAX_BYTES = 10 * 1024 * 1024
#: Columns people send with another unit, and what to send instead.
UNIT_HINTS = {
    "downtime_min": "downtime_hours (hours, not minutes)",
    "downtime_minutes": "downtime_hours (hours, not minutes)",
    "downtime_days": "downtime_hours (hours, not days)",
    "downtime_s": "downtime_hours (hours, not seconds)",
    "downtime": "downtime_hours (say the unit: hours)",
}

_TIME = TypeAdapter(AwareDatetime)
_FIELDS: dict[str, TypeAdapter[Any]] = {
    "downtime_hours": TypeAdapter(DowntimeHours),
    "title": TypeAdapter(Title),
    "notes": TypeAdapter(Text),
    "performed_by": TypeAdapter(Person),
    "part": TypeAdapter(Part),
}


def _header_problems(header: list[str]) -> list[dict[str, Any]]:
    problems = []
    for name in header:
        if name in UNIT_HINTS:
            problems.append({"loc": ["header", name], "message": f"use {UNIT_HINTS[name]}"})
        elif name not in REQUIRED and name not in OPTIONAL:
            problems.append({"loc": ["header", name], "message": "unknown column"})
    for name in REQUIRED:
        if name not in header:
            problems.append({"loc": ["header", name], "message": "required column is missing"})
    if len(set(header)) != len(header):
        problems.append({"loc": ["header"], "message": "a column appears twice"})
    return problems


def _message(error: ValidationError) -> str:
    return "; ".join(e["msg"] for e in error.errors())


class _Row:
    """One data row being validated: the values it will write, and what is wrong with it."""

    def __init__(self, number: int, raw: dict[str, str]) -> None:
        self.number, self.raw = number, {k: (v or "").strip() for k, v in raw.items()}
        self.values: dict[str, Any] = {}
        self.problems: list[dict[str, Any]] = []

    def fail(self, field: str, message: str) -> None:
        self.problems.append({"loc": [f"row {self.number}", field], "message": message})

    def time(self, field: str, required: bool) -> datetime | None:
        text = self.raw.get(field, "")
        if not text:
            if required:
                self.fail(field, "required")
            return None
        try:
            return _TIME.validate_python(text)
        except ValidationError as error:
            self.fail(field, _message(error))
            return None

    def typed(self, field: str, adapter_name: str | None = None) -> Any:
        text = self.raw.get(field, "")
        if not text:
            return None
        try:
            return _FIELDS[adapter_name or field].validate_python(text)
        except ValidationError as error:
            self.fail(field, f"{_message(error)} (got {text[:40]!r})")
            return None


def _validate(row: _Row, compressors: dict[str, str]) -> None:
    raw = row.raw
    compressor_id = raw.get("compressor_id", "")
    if not compressor_id:
        row.fail("compressor_id", "required")
    elif compressor_id not in compressors:
        row.fail("compressor_id", f"no compressor {compressor_id[:64]!r} in this organisation")
    kind = raw.get("type", "")
    if kind not in WORK_ORDER_TYPES:
        row.fail("type", f"{kind[:40]!r} is not one of {', '.join(WORK_ORDER_TYPES)}")
    component = raw.get("component") or None
    if component is not None and component not in COMPONENTS:
        row.fail("component", f"{component[:40]!r} is not one of {', '.join(COMPONENTS)}")
    started, ended = row.time("started_at", True), row.time("ended_at", False)
    if started and ended and ended < started:
        row.fail("ended_at", "before started_at")
    parts = [p for p in (raw.get("parts") or "").split(";") if p.strip()]
    checked_parts = []
    for part in parts:
        try:
            checked_parts.append(_FIELDS["part"].validate_python(part))
        except ValidationError as error:
            row.fail("parts", _message(error))
    external_id = raw.get("external_id") or None
    if external_id is not None and len(external_id) > 100:
        row.fail("external_id", "longer than 100 characters")
    row.values = {
        "compressor_id": compressor_id, "station_id": compressors.get(compressor_id, ""),
        "kind": kind, "component": component, "started_at": started, "ended_at": ended,
        "parts": checked_parts, "downtime_hours": row.typed("downtime_hours"),
        "title": row.typed("title") or kind.replace("_", " ").capitalize(),
        "description": row.typed("notes"), "performed_by": row.typed("performed_by"),
        "external_id": external_id,
    }  # fmt: skip


def _read(content: bytes) -> tuple[list[str], list[dict[str, str]]]:
    if len(content) > MAX_BYTES:
        raise ImportRejected(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRejected("The file is not UTF-8 text.") from None
    if "\x00" in text:
        raise ImportRejected("The file is not a CSV text file.")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in (reader.fieldnames or [])]
    if not header:
        raise ImportRejected("The file is empty: a header row is needed.")
    reader.fieldnames = header
    rows: list[dict[str, str]] = []
    for raw in reader:
        if None in raw:  # more cells than header names
            raise ImportRejected(
                f"Row {len(rows) + 1} has more cells than the header.",
                details=[
                    {"loc": [f"row {len(rows) + 1}"], "message": "more cells than the header"}
                ],
            )
        rows.append(raw)
        if len(rows) > MAX_ROWS:
            raise ImportRejected(f"At most {MAX_ROWS} rows per file.")
    return header, rows


def import_csv(*, session: Session, org_id: str, content: bytes, actor: str | None) -> ImportReport:
    """Validate every row, then write them all (raise ImportRejected, writing nothing, if not)."""
    header, raw_rows = _read(content)
    problems = _header_problems(header)
    if problems:
        raise ImportRejected("The header is not a work-order CSV.", details=problems)
    compressors = dict(
        session.execute(
            select(Compressor.id, Compressor.station_id).where(Compressor.org_id == org_id)
        ).all()
    )
    rows = [_Row(number, raw) for number, raw in enumerate(raw_rows, start=1)]
    seen: dict[str, int] = {}
    for row in rows:
        _validate(row, compressors)
        external_id = row.values["external_id"]
        if external_id is not None:
            if external_id in seen:
                row.fail("external_id", f"also on row {seen[external_id]}")
            seen.setdefault(external_id, row.number)
    rejected = [problem for row in rows for problem in row.problems]
    if rejected:
        raise ImportRejected(
            f"{len({p['loc'][0] for p in rejected})} of {len(rows)} rows are not valid; nothing was imported.",
            details=rejected,
        )
    present = set(
        session.scalars(
            select(MaintenanceEvent.external_id).where(
                MaintenanceEvent.org_id == org_id, MaintenanceEvent.external_id.in_(list(seen))
            )
        ).all()
    ) if seen else set()  # fmt: skip
    now, imported = utc_now(), 0
    for row in rows:
        if row.values["external_id"] in present:
            continue
        session.add(
            MaintenanceEvent(
                org_id=org_id, event_id=new_work_order_id(), source="cmms", status="closed",
                created_by=actor, created_at=now, closed_at=now, closed_by=actor, **row.values,
            )
        )  # fmt: skip
        imported += 1
    session.flush()
    return ImportReport(imported=imported, already_present=len(rows) - imported, rejected=[])
