"""Shared pieces of the lakehouse benchmarks: settings on a work directory, load, timing."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import REPO
from hub.settings import HubSettings


def bench_settings(work: Path, **overrides: Any) -> HubSettings:
    """Hub settings with everything under `work` (landing, lake, SQLite serving database)."""
    pipeline = {"maintenance_interval_h": 0, **overrides.pop("pipeline", {})}
    spark = {"jars_dir": str(REPO / ".cache" / "jars"), **overrides.pop("spark", {})}
    return HubSettings.load(
        REPO / "config" / "hub.yaml",
        data_dir=work / "hub",
        lake_root=str((work / "hub" / "lake").resolve()),
        database_url=f"sqlite:///{(work / 'serving.db').resolve()}",
        log_level="WARNING",
        pipeline=pipeline,
        spark=spark,
        **overrides,
    )


def fresh(work: Path) -> Path:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    return work


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f} (1/5/15 min, {os.cpu_count()} CPUs)"


@contextmanager
def timed(results: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    results[name] = time.perf_counter() - started
