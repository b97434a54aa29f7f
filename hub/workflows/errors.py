"""The workflows' errors: one root, narrow subclasses (the portal maps them to HTTP)."""

from __future__ import annotations

from hub.errors import HubError


class WorkflowError(HubError):
    """Root of the workflows' own errors."""


class InvalidField(WorkflowError):
    """A policy, rule, preference or channel has a value we refuse; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotFoundError(WorkflowError):
    """The rule, channel or notification does not exist in this organisation."""


class DeliveryFailed(WorkflowError):
    """One delivery attempt failed; `permanent` means retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool = False, status: int | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.status = status
