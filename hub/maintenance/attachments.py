"""Attachments of work orders: files stored with the org's data under the hub data dir
(`<data_dir>/orgs/<org>/maintenance/<work order>/<attachment id>`), metadata in the database."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from pathlib import Path

from sqlalchemy.orm import Session

from hub.db.base import utc_now
from hub.maintenance import service
from hub.maintenance.errors import InvalidWorkOrder, UnknownObject
from hub.maintenance.models import WorkOrderAttachment

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_filename(name: str) -> str:
    """The last path component, with only plain characters kept (shown and downloaded as)."""
    base = _UNSAFE.sub("_", Path(name.replace("\\", "/")).name).strip(" .")
    return (base or "attachment")[:200]


def org_dir(data_dir: Path, org_id: str) -> Path:
    return data_dir / "orgs" / org_id / "maintenance"


def add(
    *, session: Session, data_dir: Path, org_id: str, work_order_id: str, filename: str,
    content_type: str, content: bytes, actor: str | None,
) -> WorkOrderAttachment:  # fmt: skip
    """Write the file (atomically: temp file, then rename) and record it."""
    service.get(session=session, org_id=org_id, work_order_id=work_order_id)
    if not content:
        raise InvalidWorkOrder(
            "The file is empty.", details=[{"loc": ["file"], "message": "empty"}]
        )
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise InvalidWorkOrder(
            f"Attachments are limited to {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB.",
            details=[{"loc": ["file"], "message": "too large"}],
        )
    attachment_id = uuid.uuid4().hex
    relative = Path("orgs") / org_id / "maintenance" / work_order_id / attachment_id
    target = data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.write_bytes(content)
    os.replace(partial, target)
    attachment = WorkOrderAttachment(
        org_id=org_id, attachment_id=attachment_id, event_id=work_order_id,
        filename=safe_filename(filename), content_type=(content_type or "application/octet-stream")[:100],
        size_bytes=len(content), sha256=hashlib.sha256(content).hexdigest(),
        stored_path=relative.as_posix(), uploaded_by=actor, uploaded_at=utc_now(),
    )  # fmt: skip
    session.add(attachment)
    session.flush()
    return attachment


def get(
    *, session: Session, data_dir: Path, org_id: str, work_order_id: str, attachment_id: str
) -> tuple[WorkOrderAttachment, Path]:
    found = session.get(WorkOrderAttachment, (org_id, attachment_id))
    if found is None or found.event_id != work_order_id:
        raise UnknownObject("No such attachment.")
    path = data_dir / found.stored_path
    if not path.is_file():
        raise UnknownObject("The attachment's file is missing from the data directory.")
    return found, path
