"""Errors the models package raises on purpose; `shared.cli_support.run_cli` maps them to exit codes."""

from __future__ import annotations

from shared.errors import AltavizError


class ModelsError(AltavizError):
    """Root of every error raised on purpose by `models`."""

    exit_code = 1


class InputFileError(ModelsError):
    """An input file or dataset directory is missing or unreadable."""

    exit_code = 3


class InputDataError(ModelsError):
    """The data was read but cannot be used: no numeric columns, too few rows, bad labels."""

    exit_code = 4


class ModelExportError(ModelsError):
    """A fitted model could not be turned into an ONNX graph or loaded by ONNX Runtime."""

    exit_code = 5
