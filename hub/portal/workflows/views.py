"""Workflows in the JSON API: policy, alert rules, contact points, preferences, the
delivery log (with re-send), job runs, and alert timeline / assign / comment."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from hub.db.base import utc_now
from hub.portal.auth.dependencies import DbSession
from hub.portal.auth.permissions import AlertWorker, Viewer, WorkflowManager
from hub.portal.errors import ERROR_RESPONSES
from hub.portal.pagination import Page, PageParams, make_page, page_params
from hub.portal.tenancy import AlertIdPath
from hub.portal.workflows import service
from hub.workflows import service as workflows
from hub.workflows.schemas import (
    AssignBody,
    ChannelCreate,
    ChannelCreated,
    ChannelRead,
    CommentBody,
    JobRunRead,
    NotificationRead,
    PolicyRead,
    PolicyUpdate,
    PreferenceRead,
    PreferenceUpdate,
    RuleCreate,
    RuleRead,
    TimelineEntry,
)
from hub.workflows.timeline import timeline

api = APIRouter(tags=["workflows"], responses=ERROR_RESPONSES)

Params = Annotated[PageParams, Depends(page_params)]
HexPath = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
DeliveryStatus = Literal["pending", "sending", "sent", "dead", "suppressed"]


@api.get("/orgs/{org_id}/workflows/policy", response_model=PolicyRead)
def get_policy(request: Request, session: DbSession, scope: Viewer) -> PolicyRead:
    return service.get_policy(session=session, scope=scope, settings=request.app.state.settings)


@api.put("/orgs/{org_id}/workflows/policy", response_model=PolicyRead)
def set_policy(session: DbSession, scope: WorkflowManager, body: PolicyUpdate) -> PolicyRead:
    return service.set_policy(session=session, scope=scope, body=body)


@api.get("/orgs/{org_id}/workflows/rules", response_model=list[RuleRead])
def list_rules(session: DbSession, scope: Viewer) -> list[RuleRead]:
    return workflows.list_rules(session=session, org_id=scope.org_id)


@api.post("/orgs/{org_id}/workflows/rules", response_model=RuleRead, status_code=201)
def create_rule(session: DbSession, scope: WorkflowManager, body: RuleCreate) -> RuleRead:
    return service.save_rule(session=session, scope=scope, body=body)


@api.get("/orgs/{org_id}/workflows/rules/{rule_id}", response_model=list[RuleRead])
def rule_versions(session: DbSession, scope: Viewer, rule_id: HexPath) -> list[RuleRead]:
    """Every version of one rule, newest first."""
    return service.rule_versions(session=session, scope=scope, rule_id=rule_id)


@api.put("/orgs/{org_id}/workflows/rules/{rule_id}", response_model=RuleRead)
def update_rule(
    session: DbSession, scope: WorkflowManager, rule_id: HexPath, body: RuleCreate
) -> RuleRead:
    """Saves a new version; earlier versions stay as they were."""
    return service.save_rule(session=session, scope=scope, body=body, rule_id=rule_id)


@api.get("/orgs/{org_id}/workflows/channels", response_model=list[ChannelRead])
def list_channels(session: DbSession, scope: WorkflowManager) -> list[ChannelRead]:
    rows = workflows.list_channels(session=session, org_id=scope.org_id)
    return [ChannelRead.model_validate(row, from_attributes=True) for row in rows]


@api.post("/orgs/{org_id}/workflows/channels", response_model=ChannelCreated, status_code=201)
def create_channel(
    request: Request, session: DbSession, scope: WorkflowManager, body: ChannelCreate
) -> ChannelCreated:
    settings = request.app.state.settings
    return service.create_channel(session=session, scope=scope, body=body, settings=settings)


@api.delete("/orgs/{org_id}/workflows/channels/{channel_id}", status_code=204)
def delete_channel(session: DbSession, scope: WorkflowManager, channel_id: HexPath) -> Response:
    service.delete_channel(session=session, scope=scope, channel_id=channel_id)
    return Response(status_code=204)


@api.get("/orgs/{org_id}/workflows/preferences/me", response_model=PreferenceRead)
def my_preferences(session: DbSession, scope: Viewer) -> PreferenceRead:
    return workflows.get_preference(session=session, org_id=scope.org_id, user_id=scope.user_id)


@api.put("/orgs/{org_id}/workflows/preferences/me", response_model=PreferenceRead)
def set_my_preferences(session: DbSession, scope: Viewer, body: PreferenceUpdate) -> PreferenceRead:
    return workflows.set_preference(
        session=session, org_id=scope.org_id, user_id=scope.user_id, body=body, now=utc_now()
    )


@api.get("/orgs/{org_id}/workflows/notifications", response_model=Page[NotificationRead])
def delivery_log(
    session: DbSession,
    scope: WorkflowManager,
    params: Params,
    status: DeliveryStatus | None = None,
    alert_id: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")] = None,
) -> dict[str, object]:
    rows, total = workflows.list_notifications(
        session=session, org_id=scope.org_id, status=status, episode_id=alert_id,
        limit=params.limit, offset=params.offset,
    )  # fmt: skip
    return make_page([NotificationRead.model_validate(r) for r in rows], total, params)


@api.post(
    "/orgs/{org_id}/workflows/notifications/{notification_id}/resend",
    response_model=NotificationRead,
)
def resend(
    session: DbSession, scope: WorkflowManager, notification_id: HexPath
) -> NotificationRead:
    """A dead-lettered (or quiet-hours) notification goes out again, attempts from zero."""
    row = service.resend(session=session, scope=scope, notification_id=notification_id)
    return NotificationRead.model_validate(row)


@api.get("/orgs/{org_id}/workflows/runs", response_model=Page[JobRunRead])
def job_runs(session: DbSession, scope: Viewer, params: Params) -> dict[str, object]:
    rows, total = workflows.list_job_runs(session=session, limit=params.limit, offset=params.offset)
    return make_page([JobRunRead.model_validate(r) for r in rows], total, params)


@api.get("/orgs/{org_id}/alerts/{alert_id}/timeline", response_model=list[TimelineEntry])
def alert_timeline(session: DbSession, scope: Viewer, alert_id: AlertIdPath) -> list[TimelineEntry]:
    """The workflows' entries for one alert: escalations, auto-resolve, assignments, comments."""
    from hub.portal.alerts.service import get

    get(session=session, org_id=scope.org_id, alert_id=alert_id)  # 404 unless it exists
    return [TimelineEntry.model_validate(e) for e in timeline(session, scope.org_id, alert_id)]


@api.post("/orgs/{org_id}/alerts/{alert_id}/assign", response_model=list[TimelineEntry])
def assign(
    session: DbSession, scope: AlertWorker, alert_id: AlertIdPath, body: AssignBody
) -> list[TimelineEntry]:
    service.assign(session=session, scope=scope, alert_id=alert_id, body=body)
    return [TimelineEntry.model_validate(e) for e in timeline(session, scope.org_id, alert_id)]


@api.post("/orgs/{org_id}/alerts/{alert_id}/comment", response_model=list[TimelineEntry])
def comment(
    session: DbSession, scope: AlertWorker, alert_id: AlertIdPath, body: CommentBody
) -> list[TimelineEntry]:
    service.comment(session=session, scope=scope, alert_id=alert_id, text=body.text)
    return [TimelineEntry.model_validate(e) for e in timeline(session, scope.org_id, alert_id)]
