"""Errors the simulator raises on purpose (mapped to exit codes by shared.cli_support)."""

from __future__ import annotations

from shared.errors import AltavizError


class SimulatorError(AltavizError):
    """Root of the simulator's errors."""


class ScenarioError(SimulatorError):
    """A scenario (built-in or file) is unusable."""

    exit_code = 2


class OutputError(SimulatorError):
    """An output directory or file cannot be written."""


class PanelError(SimulatorError):
    """The Modbus panel emulator cannot start (port in use, bad address)."""
