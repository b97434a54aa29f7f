"""Where each table and checkpoint lives under the lake root (local path or object store)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LakePaths:
    root: str

    def _join(self, *parts: str) -> str:
        return "/".join([self.root.rstrip("/"), *parts])

    @property
    def bronze_readings(self) -> str:
        return self._join("bronze", "readings")

    def checkpoint(self, name: str) -> str:
        return self._join("_checkpoints", name)
