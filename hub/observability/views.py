"""The portal's /health, /ready and /metrics, and HTTP latency per route for any ASGI app."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from hub.observability.checks import database_check
from hub.observability.health import run_checks
from hub.observability.metrics import observe_http

router = APIRouter(include_in_schema=False)


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok", "service": "portal"}


@router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    settings = request.app.state.settings
    checks = [database_check(settings.database_url, engine=request.app.state.engine)]
    timeout = settings.observability.ready_timeout_s
    ok, document = await run_in_threadpool(run_checks, checks, timeout_s=timeout)
    document["service"] = "portal"
    return JSONResponse(document, status_code=200 if ok else 503)


@router.get("/metrics")
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


class HttpMetricsMiddleware:
    """Records each request's latency under its route template (`/api/v1/orgs/{org_id}/...`),
    never the raw path, so ids do not explode the label set."""

    def __init__(self, app: Any, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def record_status(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            observe_http(
                self.service,
                scope["method"],
                route_template(scope),
                status[0],
                time.perf_counter() - started,
            )


def route_template(scope: Any) -> str:
    """The matched route's full path template. FastAPI >= 0.16x keeps the included router's
    prefix only in its effective route context; `scope["route"].path` lacks it there."""
    context = (scope.get("fastapi") or {}).get("effective_route_context")
    template = getattr(context, "path_format", None)
    if template:
        return str(template)
    return str(getattr(scope.get("route"), "path", None) or "unmatched")


def install(app: FastAPI, *, service: str = "portal") -> None:
    """Add /health, /ready, /metrics and per-route latency to the app."""
    app.include_router(router)
    app.add_middleware(HttpMetricsMiddleware, service=service)
