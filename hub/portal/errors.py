"""The portal's errors, mapped to HTTP statuses in exactly one place (`install_handlers`).

Every error body has one shape: {"error": {"code", "message", "request_id", "details"?}}.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.errors import HubError

log = logging.getLogger(__name__)


class PortalError(HubError):
    """Root of the portal's errors; `status` and `code` say how a client sees it."""

    status = 400
    code = "bad_request"
    #: Extra response headers (e.g. Retry-After on 429).
    headers: dict[str, str] | None = None

    def __init__(self, message: str = "", *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or self.code).strip()
        self.details = details


class NotAuthenticated(PortalError):
    """Sign in first."""

    status = 401
    code = "not_authenticated"


class Forbidden(PortalError):
    """Your role does not allow this."""

    status = 403
    code = "forbidden"


class NotFound(PortalError):
    """Not found."""

    status = 404
    code = "not_found"


class Conflict(PortalError):
    """That conflicts with the current state."""

    status = 409
    code = "conflict"


class InvalidInput(PortalError):
    """The request is not valid."""

    status = 422
    code = "invalid_input"


class CsrfFailed(PortalError):
    """The form has expired or did not come from this site; reload and try again."""

    status = 403
    code = "csrf_failed"


class RateLimited(PortalError):
    """Too many attempts; wait a minute and try again."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str = "", *, retry_after_s: int = 60) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after_s)}


class PlanLimit(PortalError):
    """Your plan does not include this; upgrade under Billing."""

    status = 402
    code = "plan_limit"


class ServiceUnavailable(PortalError):
    """A service the portal needs is not configured."""

    status = 503
    code = "unavailable"


class ErrorDetail(BaseModel):
    loc: list[str]
    message: str


class ErrorInfo(BaseModel):
    code: str
    message: str
    request_id: str
    details: list[ErrorDetail] | None = None


class ErrorBody(BaseModel):
    """Every error the API returns has this shape."""

    error: ErrorInfo


_ERROR_STATUSES = {
    400: "Bad request",
    401: "Not signed in, or the API token is invalid",
    402: "Not included in the organisation's plan",
    403: "The caller's role does not allow this",
    404: "Not found (or not visible to the caller)",
    409: "Conflicts with the current state",
    422: "The request is not valid",
    429: "Too many attempts",
    503: "A service the portal needs is not configured",
}
#: Documented on every API router, so clients (and schemathesis) know the error shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text} for status, text in _ERROR_STATUSES.items()
}


def request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", "-"))


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path.startswith("/billing/webhook")


def error_body(
    request: Request, code: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "request_id": request_id(request)}
    if details:
        error["details"] = details
    return {"error": error}


def _respond(
    request: Request,
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    response: Response
    if wants_json(request):
        response = JSONResponse(error_body(request, code, message, details), status_code=status)
    elif status == 401:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    else:
        from hub.portal.templating import render_error

        response = render_error(request, status=status, code=code, message=message)
    response.headers.update(headers or {})
    return response


def install_handlers(app: FastAPI) -> None:
    """The one place where errors become HTTP statuses."""

    @app.exception_handler(PortalError)
    async def _portal_error(request: Request, exc: PortalError) -> Response:
        return _respond(request, exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        details = [
            {"loc": [str(p) for p in err.get("loc", ())], "message": str(err.get("msg", ""))}
            for err in exc.errors()
        ]
        return _respond(request, 422, "invalid_input", "The request is not valid.", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _respond(request, exc.status_code, code, str(exc.detail))

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> Response:
        # The database refused a value validation let through (a backstop, logged).
        log.warning("database refused a value (request %s): %s", request_id(request), exc.orig)
        return _respond(request, 422, "invalid_input", "A value is not acceptable.")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error (request %s)", request_id(request))
        return _respond(request, 500, "internal_error", "Something went wrong on our side.")
