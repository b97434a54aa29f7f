"""Compressor fleet simulator: readings with ground truth, live streams, Modbus panels."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("altaviz")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"
