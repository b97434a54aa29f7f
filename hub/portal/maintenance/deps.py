"""What the maintenance views share: the caller's name, the URL's work order, uploads."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request, UploadFile
from fastapi import Path as PathParam
from sqlalchemy.orm import Session

from hub.maintenance import service
from hub.maintenance.schemas import WorkOrderDetail, WorkOrderRead
from hub.portal.auth.dependencies import DbSession
from hub.portal.auth.models import User
from hub.portal.auth.permissions import Viewer
from hub.portal.tenancy import OrgScope
from hub.serving.models import MaintenanceEvent

WorkOrderIdPath = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
MAX_UPLOAD_BYTES = 10 * 1024 * 1024 + 1


def actor(session: Session, scope: OrgScope) -> str:
    user = session.get(User, scope.user_id)
    return user.email if user else scope.user_id


def existing_order(
    session: DbSession, scope: Viewer, work_order_id: WorkOrderIdPath
) -> MaintenanceEvent:
    """The URL's work order in the caller's org (404 before anything else is looked at)."""
    return service.get(session=session, org_id=scope.org_id, work_order_id=work_order_id)


Order = Annotated[MaintenanceEvent, Depends(existing_order)]


def detail(session: Session, order: MaintenanceEvent) -> WorkOrderDetail:
    files = service.attachments_of(
        session=session, org_id=order.org_id, work_order_id=order.event_id
    )
    return WorkOrderDetail.model_validate(
        {**WorkOrderRead.model_validate(order).model_dump(), "attachments": list(files)},
    )


def data_dir(request: Request) -> Path:
    return request.app.state.settings.data_dir


def read_upload(file: UploadFile) -> bytes:
    return file.file.read(MAX_UPLOAD_BYTES)
