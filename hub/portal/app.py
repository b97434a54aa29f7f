"""Assemble the portal: settings, database, middleware, error mapping, domain routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine, create_engine
from starlette.middleware.sessions import SessionMiddleware

from hub.db.session import make_engine, session_factory
from hub.portal.auth.dependencies import csrf_guard
from hub.portal.auth.oidc import build_registry
from hub.portal.auth.throttle import ApiLimits
from hub.portal.errors import install_handlers
from hub.portal.security import ConcurrencyLimit, SecurityHeadersMiddleware, new_secret
from hub.settings import HubSettings
from shared.settings import PLACEHOLDER_SECRETS

STATIC_DIR = Path(__file__).parent / "static"
API_PREFIX = "/api/v1"


def _routers() -> tuple[list[APIRouter], list[APIRouter]]:
    """(page routers, API routers) of every domain package."""
    from hub.portal.alerts import views as alerts
    from hub.portal.audit import views as audit
    from hub.portal.auth import views as auth
    from hub.portal.billing import views as billing
    from hub.portal.compliance import views as compliance
    from hub.portal.fleet import views as fleet
    from hub.portal.models_view import views as models_view
    from hub.portal.orgs import views as orgs
    from hub.portal.quality import views as quality
    from hub.portal.tokens import views as tokens
    from hub.portal.workflows import pages as workflow_pages
    from hub.portal.workflows import views as workflows

    pages = [auth.router, orgs.pages, tokens.pages, audit.pages, billing.pages]
    api = [orgs.api, tokens.api, audit.api, billing.api]
    for module in (fleet, alerts, quality, models_view, compliance):
        pages.append(module.pages)
        api.append(module.api)
    pages.append(workflow_pages.pages)
    api.append(workflows.api)
    return pages, api


def portal_engine(url: str, *, concurrency: int) -> Engine:
    """The portal's engine: on PostgreSQL one pooled connection per concurrent request (plus
    a few for handlers that open a second session), recycled rather than pinged before every
    checkout (one round trip less per request)."""
    if not url.startswith("postgresql"):
        return make_engine(url)
    return create_engine(
        url, pool_size=concurrency, max_overflow=8, pool_recycle=300, pool_timeout=10
    )


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # A request runs its synchronous parts one at a time: one thread each is enough.
    concurrency = app.state.settings.portal.max_concurrent_requests
    anyio.to_thread.current_default_thread_limiter().total_tokens = concurrency + 4
    yield


def _document_security(app: FastAPI) -> None:
    """Declare the bearer token in the OpenAPI document (the dependency reads it itself)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            document.setdefault("components", {})["securitySchemes"] = {
                "apiToken": {"type": "http", "scheme": "bearer", "description": "avz_… token"}
            }
            document["security"] = [{"apiToken": []}]
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _state_cookie_key(settings: HubSettings) -> str:
    """The configured key; a placeholder (development on loopback only) becomes a random one."""
    secret = settings.portal.secret_key.get_secret_value()
    return new_secret() if secret.strip().lower() in PLACEHOLDER_SECRETS else secret


def create_app(settings: HubSettings, *, engine: Engine | None = None) -> FastAPI:
    settings.check_portal()
    app = FastAPI(
        title="Altaviz portal API",
        version="1.0.0",
        description=(
            "Fleet, alerts, data quality, models and administration of one organisation. "
            "Authenticate with `Authorization: Bearer <personal API token>`; every path "
            "names the organisation, and a token works only for its own. Errors have one "
            "shape: `{error: {code, message, request_id}}`."
        ),
        openapi_url=f"{API_PREFIX}/openapi.json",
        # No interactive docs page: Swagger UI loads from a CDN, and the portal works offline.
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine or portal_engine(
        settings.database_url, concurrency=settings.portal.max_concurrent_requests
    )
    app.state.session_factory = session_factory(app.state.engine)
    app.state.oauth = build_registry(settings.portal)
    app.state.signing_key = _state_cookie_key(settings)
    app.state.api_limits = ApiLimits.from_settings(settings.portal)
    install_handlers(app)

    pages, api = _routers()
    guard = [Depends(csrf_guard)]
    for router in pages:
        app.include_router(router, dependencies=guard)
    for router in api:
        app.include_router(router, prefix=API_PREFIX, dependencies=guard)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _document_security(app)

    # Only Authlib's OAuth state lives here (a signed, short-lived cookie during sign-in).
    app.add_middleware(
        SessionMiddleware,
        secret_key=app.state.signing_key,
        session_cookie="altaviz_oauth",
        max_age=600,
        same_site="lax",
        https_only=settings.cookie_secure,
    )
    app.add_middleware(SecurityHeadersMiddleware, development=settings.development)
    # Outermost: admit a request only when it can get a connection and a thread.
    app.add_middleware(ConcurrencyLimit, limit=settings.portal.max_concurrent_requests)
    return app
