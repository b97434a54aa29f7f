"""Jinja2 templates for the server-rendered pages (autoescaped; no inline scripts)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context

TEMPLATES_DIR = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def _ago(moment: datetime | None, now: datetime | None = None) -> str:
    if moment is None:
        return "never"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    # A time stamped ahead of the clock it is read against (a fast gateway clock): say so.
    suffix = "ago" if seconds > -60 else "ahead"
    seconds = -seconds if seconds <= -60 else max(seconds, 0)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} {suffix}"
    return f"{seconds} s {suffix}"


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@pass_context
def _data_ago(context: Context, moment: datetime | None) -> str:
    """Age of a data timestamp, against the page's `data_now` (the data's own clock)."""
    return _ago(moment, context.get("data_now"))


templates.env.filters["ago"] = _ago
templates.env.filters["data_ago"] = _data_ago
templates.env.filters["when"] = _when


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> HTMLResponse:
    ctx = {"request": request, **(context or {})}
    return templates.TemplateResponse(request, name, ctx, status_code=status)


def render_error(request: Request, *, status: int, code: str, message: str) -> HTMLResponse:
    return render(
        request,
        "error.html",
        {"status": status, "code": code, "message": message,
         "request_id": getattr(request.state, "request_id", "-")},
        status=status,
    )  # fmt: skip
