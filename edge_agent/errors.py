"""Errors of the edge agent (all subclasses of the shared root)."""

from shared.errors import AltavizError


class EdgeError(AltavizError):
    """Root of the edge agent's own errors."""


class BufferError_(EdgeError):
    """The DuckDB buffer cannot be opened or written."""

    exit_code = 3
