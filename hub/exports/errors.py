"""The exports package's errors: one root, each with the HTTP status the portal maps it to."""

from __future__ import annotations

from hub.errors import HubError


class ExportError(HubError):
    """Root of the exports package's errors."""

    http_status = 400
    code = "bad_request"


class InvalidExport(ExportError):
    """The dataset, scope or time range is not acceptable."""

    http_status = 422
    code = "invalid_input"


class EmptyExport(ExportError):
    """Nothing in the chosen scope and range: a 404 rather than a file with only a header."""

    http_status = 404
    code = "empty_export"
