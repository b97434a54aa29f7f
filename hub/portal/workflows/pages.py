"""Workflow pages: policy and job runs, alert rules, contact points and the delivery log,
my notification preferences, and the assign / comment forms of an alert."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from hub.db.base import utc_now
from hub.portal.auth.dependencies import CurrentPrincipal, DbSession
from hub.portal.auth.permissions import AlertWorker, Viewer, WorkflowManager
from hub.portal.errors import InvalidInput
from hub.portal.pages import page
from hub.portal.tenancy import AlertIdPath
from hub.portal.workflows import service
from hub.workflows import service as workflows
from hub.workflows.schemas import (
    AssignBody,
    ChannelCreate,
    PolicyUpdate,
    PreferenceUpdate,
    RuleCreate,
)

pages = APIRouter(include_in_schema=False)

HexPath = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
M = TypeVar("M", bound=BaseModel)
SEVERITIES = ("critical", "warning")
STEPS_PER_SEVERITY = 3


def validated(model: type[M], data: dict[str, Any]) -> M:
    """A form's fields through the API's schema: the same 422, naming the field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = [
            {"loc": ["body", *(str(p) for p in err["loc"])], "message": err["msg"]}
            for err in exc.errors()
        ]
        fields = ", ".join(".".join(d["loc"][1:]) or "form" for d in details)
        raise InvalidInput(f"Check {fields}: {details[0]['message']}", details=details) from exc


def _back(scope_org: str, where: str = "") -> Response:
    return RedirectResponse(f"/o/{scope_org}/workflows{where}", status_code=303)


@pages.get("/o/{org_id}/workflows")
def overview(
    request: Request, session: DbSession, scope: Viewer, found: CurrentPrincipal
) -> Response:
    policy = service.get_policy(session=session, scope=scope, settings=request.app.state.settings)
    runs, _ = workflows.list_job_runs(session=session, limit=25, offset=0)
    mine = workflows.get_preference(session=session, org_id=scope.org_id, user_id=scope.user_id)
    return page(
        request, "workflows/index.html", session=session, scope=scope, principal=found,
        nav="workflows", policy=policy, runs=runs, mine=mine, severities=SEVERITIES,
        steps=STEPS_PER_SEVERITY,
    )  # fmt: skip


@pages.post("/o/{org_id}/workflows/policy")
async def save_policy(request: Request, session: DbSession, scope: WorkflowManager) -> Response:
    form = await request.form()
    ladder: dict[str, list[dict[str, Any]]] = {}
    for severity in SEVERITIES:
        ladder[severity] = [
            {
                "after_min": form.get(f"{severity}_{i}_after_min"),
                "notify": form.get(f"{severity}_{i}_notify"),
            }
            for i in range(STEPS_PER_SEVERITY)
            if str(form.get(f"{severity}_{i}_after_min") or "").strip()
        ]
    fields = {k: form.get(k) for k in ("auto_resolve_after_min", "freshness_sla_min",
                                       "frozen_after_min", "stale_after_h", "retention_days")}  # fmt: skip
    switches = {k: form.get(k) == "on" for k in ("escalation_enabled", "auto_resolve_enabled",
                                                 "freshness_enabled", "cleanup_enabled",
                                                 "rules_enabled")}  # fmt: skip
    body = validated(PolicyUpdate, {"escalation": ladder, **fields, **switches})
    service.set_policy(session=session, scope=scope, body=body)
    return _back(scope.org_id)


@pages.post("/o/{org_id}/workflows/preferences")
async def save_preferences(request: Request, session: DbSession, scope: Viewer) -> Response:
    form = await request.form()
    data = {
        "channels": form.getlist("channels"), "severities": form.getlist("severities"),
        "phone": form.get("phone") or None, "quiet_start": form.get("quiet_start") or None,
        "quiet_end": form.get("quiet_end") or None, "timezone": form.get("timezone") or "UTC",
    }  # fmt: skip
    body = validated(PreferenceUpdate, data)
    workflows.set_preference(
        session=session, org_id=scope.org_id, user_id=scope.user_id, body=body, now=utc_now()
    )
    return _back(scope.org_id)


@pages.get("/o/{org_id}/workflows/rules")
def rules_page(
    request: Request, session: DbSession, scope: Viewer, found: CurrentPrincipal
) -> Response:
    from hub.portal.fleet import service as fleet

    return page(
        request, "workflows/rules.html", session=session, scope=scope, principal=found,
        nav="workflows", rules=workflows.list_rules(session=session, org_id=scope.org_id),
        stations=fleet.list_stations(session=session, org_id=scope.org_id),
    )  # fmt: skip


@pages.post("/o/{org_id}/workflows/rules")
async def create_rule(request: Request, session: DbSession, scope: WorkflowManager) -> Response:
    form = await request.form()
    data = {
        key: form.get(key)
        for key in ("name", "comparison", "value", "for_min", "severity", "scope")
    }
    metric = str(form.get("metric") or "")
    data["sensor" if not metric.startswith("score:") else "score_kind"] = metric.removeprefix(
        "score:"
    )
    data["scope_id"] = form.get("scope_id") or None
    service.save_rule(session=session, scope=scope, body=validated(RuleCreate, data))
    return _back(scope.org_id, "/rules")


@pages.post("/o/{org_id}/workflows/rules/{rule_id}/toggle")
def toggle_rule(session: DbSession, scope: WorkflowManager, rule_id: HexPath) -> Response:
    newest = service.rule_versions(session=session, scope=scope, rule_id=rule_id)[0]
    body = RuleCreate.model_validate(
        newest.model_dump(include=set(RuleCreate.model_fields)) | {"enabled": not newest.enabled}
    )
    service.save_rule(session=session, scope=scope, body=body, rule_id=rule_id)
    return _back(scope.org_id, "/rules")


@pages.get("/o/{org_id}/workflows/notifications")
def delivery_page(
    request: Request, session: DbSession, scope: WorkflowManager, found: CurrentPrincipal,
    status: str | None = None,
) -> Response:  # fmt: skip
    return _delivery(request, session, scope, found, status=status)


def _delivery(
    request: Request, session, scope, found, *, status: str | None, created: Any = None
) -> Response:
    wanted = status if status in ("pending", "sending", "sent", "dead", "suppressed") else None
    rows, total = workflows.list_notifications(
        session=session, org_id=scope.org_id, status=wanted, limit=100, offset=0
    )
    return page(
        request, "workflows/delivery.html", session=session, scope=scope, principal=found,
        nav="workflows", notifications=rows, total=total, filter_status=wanted,
        channels=workflows.list_channels(session=session, org_id=scope.org_id), created=created,
        status=201 if created else 200,
    )  # fmt: skip


@pages.post("/o/{org_id}/workflows/notifications/{notification_id}/resend")
def resend_form(session: DbSession, scope: WorkflowManager, notification_id: HexPath) -> Response:
    service.resend(session=session, scope=scope, notification_id=notification_id)
    return _back(scope.org_id, "/notifications")


@pages.post("/o/{org_id}/workflows/channels")
async def create_channel_form(
    request: Request, session: DbSession, scope: WorkflowManager, found: CurrentPrincipal
) -> Response:
    form = await request.form()
    kind = form.get("kind")
    target = str(form.get("target") or "").strip()
    data = {"name": form.get("name"), "kind": kind, "severities": form.getlist("severities"),
            ("email" if kind == "email" else "url"): target}  # fmt: skip
    body = validated(ChannelCreate, data)
    created = service.create_channel(
        session=session, scope=scope, body=body, settings=request.app.state.settings
    )
    # The signing key is shown once, on this response (never in a URL).
    return _delivery(request, session, scope, found, status=None, created=created)


@pages.post("/o/{org_id}/workflows/channels/{channel_id}/delete")
def delete_channel_form(
    session: DbSession, scope: WorkflowManager, channel_id: HexPath
) -> Response:
    service.delete_channel(session=session, scope=scope, channel_id=channel_id)
    return _back(scope.org_id, "/notifications")


@pages.post("/o/{org_id}/alerts/{alert_id}/assign")
def assign_form(
    session: DbSession, scope: AlertWorker, alert_id: AlertIdPath,
    user_id: Annotated[str, Form(max_length=32)] = "",
) -> Response:  # fmt: skip
    body = validated(AssignBody, {"user_id": user_id or None})
    service.assign(session=session, scope=scope, alert_id=alert_id, body=body)
    return RedirectResponse(f"/o/{scope.org_id}/alerts/{alert_id}", status_code=303)


@pages.post("/o/{org_id}/alerts/{alert_id}/comment")
def comment_form(
    session: DbSession, scope: AlertWorker, alert_id: AlertIdPath,
    text: Annotated[str, Form(min_length=1, max_length=2000)],
) -> Response:  # fmt: skip
    service.comment(session=session, scope=scope, alert_id=alert_id, text=text)
    return RedirectResponse(f"/o/{scope.org_id}/alerts/{alert_id}", status_code=303)
