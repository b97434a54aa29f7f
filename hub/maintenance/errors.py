"""The maintenance package's errors: one root, each with the HTTP status it maps to (the
portal maps them in its one error handler, hub/portal/errors.py)."""

from __future__ import annotations

from typing import Any

from hub.errors import HubError


class MaintenanceError(HubError):
    """Root of the maintenance package's errors."""

    http_status = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class UnknownObject(MaintenanceError):
    """No such compressor, episode, work order or attachment in this organisation."""

    http_status = 404
    code = "not_found"


class InvalidWorkOrder(MaintenanceError):
    """A value is not acceptable (with `details` naming the fields)."""

    http_status = 422
    code = "invalid_input"


class WrongState(MaintenanceError):
    """The work order's state does not allow this (e.g. closing it twice)."""

    http_status = 409
    code = "conflict"


class ImportRejected(MaintenanceError):
    """A CSV import with rows at fault: nothing was written; `details` names each row."""

    http_status = 422
    code = "import_rejected"
