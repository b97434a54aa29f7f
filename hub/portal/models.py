"""Every portal table, imported together (Alembic's env.py and the app import this)."""

from hub.portal.audit.models import AuditEvent
from hub.portal.auth.models import (
    LoginAttempt,
    OAuthIdentity,
    PasswordResetToken,
    User,
    UserSession,
)
from hub.portal.billing.models import BillingAccount, StripeEvent
from hub.portal.fleet.models import StationCredential
from hub.portal.orgs.models import Invitation, Membership, OrgSso
from hub.portal.tokens.models import ApiToken

__all__ = [
    "ApiToken",
    "AuditEvent",
    "BillingAccount",
    "Invitation",
    "LoginAttempt",
    "Membership",
    "OAuthIdentity",
    "OrgSso",
    "PasswordResetToken",
    "StationCredential",
    "StripeEvent",
    "User",
    "UserSession",
]
