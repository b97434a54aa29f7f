"""Abuse limits: per-address and per-account backoff on sign-in, password reset and
sign-up (kept in the database, so every portal process sees the same counts), and
per-token / per-org request limits on the JSON API (the `limits` library)."""

from __future__ import annotations

import math
import time
from datetime import timedelta

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.db.base import utc_now
from hub.portal.auth.models import LoginAttempt
from hub.portal.errors import RateLimited
from hub.portal.tenancy import set_db_scope
from hub.settings import PortalSettings


def _count(session: Session, *where: object) -> int:
    return int(session.scalar(select(func.count()).select_from(LoginAttempt).where(*where)) or 0)


def check(
    *, session: Session, kind: str, email: str, client_ip: str, per_ip: int, per_account: int,
    window: timedelta,
) -> None:  # fmt: skip
    """RateLimited (with Retry-After) when the address or the account used up its window."""
    set_db_scope(session, login_email=email, client_ip=client_ip)
    since = utc_now() - window
    recent = (LoginAttempt.kind == kind, LoginAttempt.at > since)
    if (
        _count(session, LoginAttempt.client_ip == client_ip, *recent) >= per_ip
        or _count(session, LoginAttempt.email == email, *recent) >= per_account
    ):
        raise RateLimited(
            "Too many attempts; wait a while and try again.",
            retry_after_s=int(window.total_seconds()),
        )


def record(
    *, session: Session, kind: str, email: str, client_ip: str, succeeded: bool = True
) -> None:
    set_db_scope(session, login_email=email, client_ip=client_ip)
    session.add(
        LoginAttempt(email=email, client_ip=client_ip, succeeded=succeeded, kind=kind, at=utc_now())
    )
    session.flush()


class ApiLimits:
    """Requests per API token and per organisation on /api/v1 (a moving window each).

    The default storage is this process's memory; with several portal processes point
    `portal.api_limit_storage` at a shared store (e.g. redis://) so they count together.
    """

    def __init__(self, *, per_token: str, per_org: str, storage_uri: str) -> None:
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self.per_token = parse(per_token)
        self.per_org = parse(per_org)

    @classmethod
    def from_settings(cls, settings: PortalSettings) -> ApiLimits:
        return cls(
            per_token=settings.api_rate_per_token, per_org=settings.api_rate_per_org,
            storage_uri=settings.api_limit_storage,
        )  # fmt: skip

    def hit_token(self, token_id: str) -> None:
        self._hit(self.per_token, "token", token_id, "this API token")

    def hit_org(self, org_id: str) -> None:
        self._hit(self.per_org, "org", org_id, "this organisation")

    def _hit(self, item: RateLimitItem, kind: str, key: str, whose: str) -> None:
        if self.limiter.hit(item, kind, key):
            return
        stats = self.limiter.get_window_stats(item, kind, key)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(
            f"Too many requests for {whose} ({item}); retry in {retry_after} s.",
            retry_after_s=retry_after,
        )
