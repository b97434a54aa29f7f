"""CSRF for forms shown before sign-in (login, reset): a double-submit cookie.

Signed-in forms use the session's own token instead (hub.portal.auth.dependencies).
"""

from __future__ import annotations

from fastapi import Request, Response

from hub.portal.errors import CsrfFailed
from hub.portal.security import new_secret, same_secret

COOKIE = "altaviz_csrf"


def anonymous_token(request: Request) -> str:
    existing = request.cookies.get(COOKIE, "")
    return existing if 20 <= len(existing) <= 100 else new_secret(24)


def set_anonymous_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        COOKIE, token, httponly=True, samesite="strict", path="/",
        secure=request.app.state.settings.cookie_secure, max_age=3600,
    )  # fmt: skip


def verify_anonymous(request: Request, sent: str) -> None:
    expected = request.cookies.get(COOKIE, "")
    if not expected or not sent or not same_secret(expected, sent):
        raise CsrfFailed()
