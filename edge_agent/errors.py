"""Errors of the edge agent (all subclasses of the shared root)."""

from shared.errors import AltavizError, ConfigError


class EdgeError(AltavizError):
    """Root of the edge agent's own errors."""


class BufferError_(EdgeError):
    """The DuckDB buffer cannot be opened or written."""

    exit_code = 3


class ModelError(EdgeError):
    """A model cannot be loaded or misbehaves when scoring (the agent rolls back)."""


class ModelFetchError(EdgeError):
    """A model bundle could not be downloaded (the running model is unchanged)."""


class RegisterMapError(ConfigError):
    """A register map is unusable: one clear start-up error, exit code 2."""


class PanelError(EdgeError):
    """A panel did not answer after bounded retries (a comm_error, never a crash)."""
