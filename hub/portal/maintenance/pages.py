"""Work-order pages: the list with the new-order and import forms, a work order, an order
from an alert, episode review buttons, and the alert tuning report."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, TypeVar

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from hub.maintenance import attachments, csv_import, service, tuning
from hub.maintenance.errors import ImportRejected, InvalidWorkOrder
from hub.maintenance.schemas import (
    COMPONENTS,
    WORK_ORDER_TYPES,
    WorkOrderClose,
    WorkOrderCreate,
)
from hub.portal.alerts import service as alerts
from hub.portal.auth.dependencies import CurrentPrincipal, DbSession
from hub.portal.auth.permissions import AlertWorker, Viewer
from hub.portal.fleet import service as fleet
from hub.portal.maintenance.deps import Order, actor, data_dir, detail, read_upload
from hub.portal.pages import page
from hub.portal.tenancy import AlertIdPath

pages = APIRouter(include_in_schema=False)
M = TypeVar("M", bound=BaseModel)

OptionalText = Annotated[str, Form(max_length=4000)]


def _when(value: str) -> datetime | None:
    """A datetime-local form value, read as UTC (the form says so)."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        raise InvalidWorkOrder(
            "A date is not valid.", details=[{"loc": ["started_at"], "message": value[:40]}]
        ) from None


def _checked(model: type[M], **values: object) -> M:
    try:
        return model(**values)
    except ValidationError as error:
        details = [{"loc": [str(p) for p in e["loc"]], "message": e["msg"]} for e in error.errors()]
        raise InvalidWorkOrder("A value is not valid.", details=details) from None


def _parts(text: str) -> list[str]:
    return [p.strip() for p in text.replace("\n", ";").split(";") if p.strip()]


@pages.get("/o/{org_id}/work-orders")
def list_page(
    request: Request,
    session: DbSession,
    scope: Viewer,
    found: CurrentPrincipal,
    status: Annotated[str | None, Query(pattern="^(open|assigned|closed)$")] = None,
) -> Response:
    statement = service.query(org_id=scope.org_id, status=status)
    rows, total = service.list_orders(session=session, statement=statement, limit=200, offset=0)
    return page(
        request, "maintenance/list.html", session=session, scope=scope, principal=found,
        nav="work-orders", orders=rows, total=total, status_filter=status, types=WORK_ORDER_TYPES,
        components=COMPONENTS,
        compressors=fleet.list_compressors(session=session, org_id=scope.org_id, station_id=None),
        report=None,
    )  # fmt: skip


@pages.get("/o/{org_id}/alerts/{alert_id}/work-order")
def from_alert_page(
    request: Request, session: DbSession, scope: AlertWorker, found: CurrentPrincipal,
    alert_id: AlertIdPath,
) -> Response:  # fmt: skip
    alert = alerts.get_detail(session=session, org_id=scope.org_id, alert_id=alert_id)
    return page(
        request, "maintenance/new.html", session=session, scope=scope, principal=found,
        nav="work-orders", alert=alert, types=WORK_ORDER_TYPES, components=COMPONENTS,
    )  # fmt: skip


@pages.post("/o/{org_id}/work-orders")
def create_form(
    session: DbSession,
    scope: AlertWorker,
    type: Annotated[str, Form()],
    compressor_id: Annotated[str, Form(max_length=64)] = "",
    episode_id: Annotated[str, Form(max_length=128)] = "",
    title: Annotated[str, Form(max_length=200)] = "",
    component: Annotated[str, Form(max_length=32)] = "",
    started_at: Annotated[str, Form(max_length=40)] = "",
    parts: OptionalText = "",
    downtime_hours: Annotated[float | None, Form(ge=0, le=8784)] = None,
    notes: OptionalText = "",
    assigned_to: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    data = _checked(
        WorkOrderCreate, type=type, compressor_id=compressor_id or None,
        episode_id=episode_id or None, title=title, component=component or None,
        started_at=_when(started_at), parts=_parts(parts), downtime_hours=downtime_hours,
        notes=notes or None, assigned_to=assigned_to or None,
    )  # fmt: skip
    order = service.create(
        session=session, org_id=scope.org_id, actor=actor(session, scope), data=data
    )
    return RedirectResponse(f"/o/{scope.org_id}/work-orders/{order.event_id}", status_code=303)


@pages.post("/o/{org_id}/work-orders/import")
def import_form(
    request: Request,
    session: DbSession,
    scope: AlertWorker,
    found: CurrentPrincipal,
    file: Annotated[UploadFile, File()],
) -> Response:
    try:
        report = csv_import.import_csv(
            session=session, org_id=scope.org_id, content=read_upload(file),
            actor=actor(session, scope),
        )  # fmt: skip
        problem, status = None, 200
    except ImportRejected as rejected:
        report, problem, status = None, rejected, 422
    statement = service.query(org_id=scope.org_id)
    rows, total = service.list_orders(session=session, statement=statement, limit=200, offset=0)
    return page(
        request, "maintenance/list.html", session=session, scope=scope, principal=found,
        nav="work-orders", orders=rows, total=total, status_filter=None, types=WORK_ORDER_TYPES,
        components=COMPONENTS, report=report, rejected=problem, status=status,
        compressors=fleet.list_compressors(session=session, org_id=scope.org_id, station_id=None),
    )  # fmt: skip


@pages.get("/o/{org_id}/work-orders/{work_order_id}")
def detail_page(
    request: Request, session: DbSession, scope: Viewer, found: CurrentPrincipal, order: Order
) -> Response:
    return page(
        request, "maintenance/detail.html", session=session, scope=scope, principal=found,
        nav="work-orders", order=detail(session, order), components=COMPONENTS,
    )  # fmt: skip


@pages.post("/o/{org_id}/work-orders/{work_order_id}/assign")
def assign_form(
    session: DbSession,
    scope: AlertWorker,
    order: Order,
    assigned_to: Annotated[str, Form(min_length=1, max_length=320)],
) -> Response:
    service.assign(
        session=session, org_id=scope.org_id, work_order_id=order.event_id,
        assigned_to=assigned_to.strip(),
    )  # fmt: skip
    return RedirectResponse(f"/o/{scope.org_id}/work-orders/{order.event_id}", status_code=303)


@pages.post("/o/{org_id}/work-orders/{work_order_id}/close")
def close_form(
    session: DbSession,
    scope: AlertWorker,
    order: Order,
    downtime_hours: Annotated[float | None, Form(ge=0, le=8784)] = None,
    parts: OptionalText = "",
    component: Annotated[str, Form(max_length=32)] = "",
    notes: OptionalText = "",
) -> Response:
    data = _checked(
        WorkOrderClose, downtime_hours=downtime_hours, parts=_parts(parts) or None,
        component=component or None, notes=notes or None,
    )  # fmt: skip
    service.close(
        session=session, org_id=scope.org_id, work_order_id=order.event_id,
        actor=actor(session, scope), data=data,
    )  # fmt: skip
    return RedirectResponse(f"/o/{scope.org_id}/work-orders/{order.event_id}", status_code=303)


@pages.post("/o/{org_id}/work-orders/{work_order_id}/attachments")
def attach_form(
    request: Request,
    session: DbSession,
    scope: AlertWorker,
    order: Order,
    file: Annotated[UploadFile, File()],
) -> Response:
    attachments.add(
        session=session, data_dir=data_dir(request), org_id=scope.org_id,
        work_order_id=order.event_id, filename=file.filename or "attachment",
        content_type=file.content_type or "", content=read_upload(file),
        actor=actor(session, scope),
    )  # fmt: skip
    return RedirectResponse(f"/o/{scope.org_id}/work-orders/{order.event_id}", status_code=303)


@pages.post("/o/{org_id}/alerts/{alert_id}/review")
def review_form(
    session: DbSession,
    scope: AlertWorker,
    alert_id: AlertIdPath,
    verdict: Annotated[str, Form(pattern="^(confirmed|dismissed)$")],
    note: OptionalText = "",
) -> Response:
    service.review_episode(
        session=session, org_id=scope.org_id, episode_id=alert_id, verdict=verdict,
        note=note.strip() or None, actor=actor(session, scope),
    )  # fmt: skip
    return RedirectResponse(f"/o/{scope.org_id}/alerts/{alert_id}", status_code=303)


@pages.get("/o/{org_id}/alert-tuning")
def tuning_page(
    request: Request, session: DbSession, scope: Viewer, found: CurrentPrincipal
) -> Response:
    return page(
        request, "maintenance/tuning.html", session=session, scope=scope, principal=found,
        nav="alerts", report=tuning.tuning_report(session=session, org_id=scope.org_id),
    )  # fmt: skip
