"""Plan gates as route dependencies: `@api.get(..., dependencies=[feature_required("ml")])`."""

from __future__ import annotations

from typing import Any

from fastapi import Depends

from hub.portal.auth.dependencies import DbSession, Tenant
from hub.portal.billing import gates
from hub.portal.billing.plans import FEATURES


def feature_required(feature: str) -> Any:
    """A dependency that answers 402 unless the URL's org's plan includes `feature`."""
    if feature not in FEATURES:
        raise ValueError(f"unknown feature {feature!r}; one of {', '.join(FEATURES)}")

    def gate(session: DbSession, scope: Tenant) -> None:
        gates.require_feature(scope.org_id, feature, session=session)

    return Depends(gate)
