"""Exports in the API (streamed downloads) and the export page (a form that links to them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from hub.exports.service import Export, ExportRequest, open_export
from hub.portal.auth.dependencies import CurrentPrincipal, DbSession
from hub.portal.auth.permissions import Viewer
from hub.portal.billing import gates
from hub.portal.errors import ERROR_RESPONSES, PlanLimit
from hub.portal.fleet import service as fleet
from hub.portal.pages import page
from shared.ids import ID_PATTERN

api = APIRouter(tags=["exports"], responses=ERROR_RESPONSES)
pages = APIRouter(include_in_schema=False)

Dataset = Literal["readings", "hourly", "daily", "episodes", "work_orders"]
Format = Literal["csv", "parquet"]
IdFilter = Annotated[str | None, Query(pattern=ID_PATTERN, max_length=64)]
#: The plan feature (billing/plans.py) that includes exports.
FEATURE = "exports"
#: Records the org writes itself, not monitoring history: the plan's history does not apply.
OWN_RECORDS = ("work_orders",)
#: Set when the file starts later than asked: the oldest moment the plan shows (ISO 8601).
HISTORY_FROM_HEADER = "X-Altaviz-History-From"


def _open(
    request: Request,
    session: DbSession,
    scope: Viewer,
    dataset: Dataset,
    start: datetime,
    end: datetime,
    format: Format = "csv",
    station_id: IdFilter = None,
    compressor_id: IdFilter = None,
) -> Export:
    # Exports are reads: an org made read-only (unpaid, over its limits) may still take its
    # data away, so the plan is checked here rather than with gates.require_feature.
    plan = gates.standing(session=session, org_id=scope.org_id).plan
    if not plan.includes(FEATURE):
        raise PlanLimit(f"The {plan.title} plan does not include CSV and Parquet exports; "
                        "upgrade under Settings → Billing.")  # fmt: skip
    if station_id:
        fleet.get_station(session=session, org_id=scope.org_id, station_id=station_id)
    if compressor_id:
        fleet.get_compressor(session=session, org_id=scope.org_id, compressor_id=compressor_id)
    wanted = ExportRequest(
        dataset, format, start, end, station_id, compressor_id,
        excluded_compressors=gates.hidden_compressors(session=session, org_id=scope.org_id),
    )  # fmt: skip
    wanted.check()
    if dataset not in OWN_RECORDS:
        # [start, end): its newest moment. Older history is kept, not shown: 402 when all of
        # the range is older, else the file starts where the plan's history does.
        oldest = gates.require_history(
            session=session, org_id=scope.org_id, newest=end - timedelta(microseconds=1)
        )
        wanted = wanted.clipped_to(oldest)
    return open_export(
        factory=request.app.state.session_factory, lake_root=request.app.state.settings.lake_root,
        org_id=scope.org_id, request=wanted,
    )  # fmt: skip


Opened = Annotated[Export, Depends(_open)]


def _headers(found: Export) -> dict[str, str]:
    headers = {"content-disposition": f'attachment; filename="{found.filename}"'}
    if found.clipped_start is not None:
        headers[HISTORY_FROM_HEADER] = found.clipped_start.isoformat()
    return headers


@api.get(
    "/orgs/{org_id}/exports",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}, "application/vnd.apache.parquet": {}}}},
)
def export(found: Opened) -> Response:
    """Stream one dataset (`dataset`) for the org, a station or a compressor over
    [start, end) as CSV or Parquet (`format`); plan feature `exports`. An empty range is a
    404 `empty_export`, not a file. HEAD answers the same status without the body.

    The plan's history applies (not to work orders): a range that starts before it starts
    where it does (header `X-Altaviz-History-From`, and the file name says so); a range
    entirely before it is a 402 `plan_limit`. Compressors beyond the plan's limit are left
    out (their data is kept)."""
    return StreamingResponse(found.chunks, media_type=found.media_type, headers=_headers(found))


@api.head("/orgs/{org_id}/exports", include_in_schema=False)
def export_head(found: Opened) -> Response:
    """Whether the export would succeed (the page asks before it starts a download)."""
    found.close()
    return Response(status_code=200, media_type=found.media_type, headers=_headers(found))


@pages.get("/o/{org_id}/exports")
def exports_page(
    request: Request, session: DbSession, scope: Viewer, found: CurrentPrincipal
) -> Response:
    plan = gates.standing(session=session, org_id=scope.org_id).plan
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return page(
        request, "exports/index.html", session=session, scope=scope, principal=found,
        nav="exports", plan=plan, allowed=plan.includes(FEATURE),
        history_from=gates.history_start(session=session, org_id=scope.org_id),
        stations=fleet.list_stations(session=session, org_id=scope.org_id),
        compressors=fleet.list_compressors(session=session, org_id=scope.org_id, station_id=None),
        start=(today - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
        end=(today + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
    )  # fmt: skip
