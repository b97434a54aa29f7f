"""Sign-in errors (mapped with every other PortalError in hub.portal.errors)."""

from hub.portal.errors import InvalidInput, NotAuthenticated, RateLimited


class InvalidCredentials(NotAuthenticated):
    """Wrong e-mail or password."""

    code = "invalid_credentials"


class AccountLocked(RateLimited):
    """Too many failed sign-ins: this account is locked for a while."""

    code = "account_locked"


class InvalidLink(InvalidInput):
    """This link is invalid or has expired."""

    code = "invalid_link"


class WeakPassword(InvalidInput):
    """Passwords need at least 10 characters."""

    code = "weak_password"
