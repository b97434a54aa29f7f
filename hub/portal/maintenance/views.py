"""Work orders in the API and pages: thin views over hub.maintenance."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse, Response

from hub.maintenance import attachments, csv_import, service, tuning
from hub.maintenance.schemas import (
    AttachmentRead,
    ImportReport,
    ReviewBody,
    ReviewRead,
    Status,
    TuningReport,
    WorkOrderAssign,
    WorkOrderClose,
    WorkOrderCreate,
    WorkOrderDetail,
    WorkOrderRead,
    WorkOrderType,
)
from hub.portal.auth.dependencies import DbSession
from hub.portal.auth.permissions import AlertWorker, Viewer
from hub.portal.errors import ERROR_RESPONSES
from hub.portal.maintenance.deps import Order, actor, data_dir, detail, read_upload
from hub.portal.maintenance.pages import pages
from hub.portal.pagination import Page, PageParams, make_page, page_params
from hub.portal.tenancy import AlertIdPath
from shared.ids import ID_PATTERN

api = APIRouter(tags=["maintenance"], responses=ERROR_RESPONSES)
__all__ = ["api", "pages"]

Params = Annotated[PageParams, Depends(page_params)]
IdFilter = Annotated[str | None, Query(pattern=ID_PATTERN, max_length=64)]


@api.get("/orgs/{org_id}/work-orders", response_model=Page[WorkOrderRead])
def list_work_orders(
    session: DbSession,
    scope: Viewer,
    params: Params,
    compressor_id: IdFilter = None,
    status: Status | None = None,
    type: WorkOrderType | None = None,
) -> dict[str, object]:
    """Work orders, newest first; filter by compressor, status and type."""
    statement = service.query(
        org_id=scope.org_id, compressor_id=compressor_id, status=status, kind=type
    )
    rows, total = service.list_orders(
        session=session, statement=statement, limit=params.limit, offset=params.offset
    )
    return make_page([WorkOrderRead.model_validate(r) for r in rows], total, params)


@api.post("/orgs/{org_id}/work-orders", response_model=WorkOrderDetail, status_code=201)
def create_work_order(
    session: DbSession, scope: AlertWorker, body: WorkOrderCreate
) -> WorkOrderDetail:
    """Open a work order by hand (`compressor_id`) or from an alert episode (`episode_id`)."""
    order = service.create(
        session=session, org_id=scope.org_id, actor=actor(session, scope), data=body
    )
    return detail(session, order)


@api.post("/orgs/{org_id}/work-orders/import", response_model=ImportReport)
def import_work_orders(
    session: DbSession, scope: AlertWorker, file: Annotated[UploadFile, File()]
) -> ImportReport:
    """CSV from a CMMS (multipart `file`): all rows or none; 422 names each row at fault."""
    return csv_import.import_csv(
        session=session, org_id=scope.org_id, content=read_upload(file),
        actor=actor(session, scope),
    )  # fmt: skip


@api.get("/orgs/{org_id}/work-orders/{work_order_id}", response_model=WorkOrderDetail)
def get_work_order(session: DbSession, order: Order) -> WorkOrderDetail:
    return detail(session, order)


@api.post("/orgs/{org_id}/work-orders/{work_order_id}/assign", response_model=WorkOrderDetail)
def assign_work_order(
    session: DbSession, scope: AlertWorker, order: Order, body: WorkOrderAssign
) -> WorkOrderDetail:
    service.assign(
        session=session, org_id=scope.org_id, work_order_id=order.event_id,
        assigned_to=body.assigned_to,
    )  # fmt: skip
    return detail(session, order)


@api.post("/orgs/{org_id}/work-orders/{work_order_id}/close", response_model=WorkOrderDetail)
def close_work_order(
    session: DbSession, scope: AlertWorker, order: Order, body: WorkOrderClose
) -> WorkOrderDetail:
    service.close(
        session=session, org_id=scope.org_id, work_order_id=order.event_id,
        actor=actor(session, scope), data=body,
    )  # fmt: skip
    return detail(session, order)


@api.post(
    "/orgs/{org_id}/work-orders/{work_order_id}/attachments",
    response_model=AttachmentRead,
    status_code=201,
)
def add_attachment(
    request: Request,
    session: DbSession,
    scope: AlertWorker,
    order: Order,
    file: Annotated[UploadFile, File()],
) -> AttachmentRead:
    """Attach a file (photo, report; at most 10 MB), stored with the org's data."""
    found = attachments.add(
        session=session, data_dir=data_dir(request), org_id=scope.org_id,
        work_order_id=order.event_id, filename=file.filename or "attachment",
        content_type=file.content_type or "", content=read_upload(file),
        actor=actor(session, scope),
    )  # fmt: skip
    return AttachmentRead.model_validate(found)


@api.get(
    "/orgs/{org_id}/work-orders/{work_order_id}/attachments/{attachment_id}",
    response_class=FileResponse,
)
def download_attachment(
    request: Request,
    session: DbSession,
    order: Order,
    attachment_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")],
) -> Response:
    found, path = attachments.get(
        session=session, data_dir=data_dir(request), org_id=order.org_id,
        work_order_id=order.event_id, attachment_id=attachment_id,
    )  # fmt: skip
    # Downloaded, never rendered inline: an uploaded HTML file cannot run in the portal.
    return FileResponse(
        path, media_type="application/octet-stream", filename=found.filename,
        content_disposition_type="attachment",
    )  # fmt: skip


@api.post("/orgs/{org_id}/alerts/{alert_id}/review", response_model=ReviewRead)
def review_alert(
    session: DbSession, scope: AlertWorker, alert_id: AlertIdPath, body: ReviewBody
) -> ReviewRead:
    """A technician's verdict on an episode: confirmed (real) or dismissed (false alarm)."""
    review = service.review_episode(
        session=session, org_id=scope.org_id, episode_id=alert_id, verdict=body.verdict,
        note=body.note, actor=actor(session, scope),
    )  # fmt: skip
    return ReviewRead.model_validate(review)


@api.get("/orgs/{org_id}/alert-tuning", response_model=TuningReport)
def alert_tuning(session: DbSession, scope: Viewer) -> TuningReport:
    """Per alert condition: confirmed vs dismissed episodes, precision, what to change."""
    return tuning.tuning_report(session=session, org_id=scope.org_id)
