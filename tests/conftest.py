"""Session-wide real services: mosquitto, PostgreSQL, one SparkSession with Delta."""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.services import (
    Mosquitto,
    Postgres,
    in_ci,
    mosquitto_binary,
    postgres_bin_dir,
    require,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
JARS_DIR = REPO_ROOT / ".cache" / "jars"
ARTIFACTS_DIR = REPO_ROOT / "test-artifacts"


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A fresh real mosquitto per test (it can be stopped and restarted by the test)."""
    require(mosquitto_binary() is not None, "mosquitto")
    broker = Mosquitto(tmp_path / "mosquitto").start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A throwaway PostgreSQL cluster for the whole test session."""
    require(postgres_bin_dir() is not None, "PostgreSQL (initdb, pg_ctl)")
    # Not under pytest's tmp dir: that is private to root and the server runs as `postgres`.
    workdir = Path(tempfile.mkdtemp(prefix="altaviz-pg-"))
    cluster = Postgres(workdir).start()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def spark():  # type: ignore[no-untyped-def]
    """One SparkSession with Delta Lake for the whole session (~5 s to start)."""
    require(importlib.util.find_spec("pyspark") is not None, "pyspark (the .[hub] extra)")
    require(shutil.which("java") is not None, "Java 17")
    require(any(JARS_DIR.glob("delta-spark_*.jar")), f"Delta Lake jars in {JARS_DIR} (make jars)")
    from hub.lakehouse.spark import build_spark
    from hub.settings import SparkSettings

    session = build_spark(
        SparkSettings(jars_dir=JARS_DIR, shuffle_partitions=2, driver_memory="2g"),
        app_name="altaviz-tests",
    )
    yield session
    session.stop()


@pytest.fixture
def artifacts_dir(request: pytest.FixtureRequest) -> Path:
    """A per-test folder under test-artifacts/ (screenshots, logs) kept after the run."""
    folder = ARTIFACTS_DIR / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def pytest_report_header() -> list[str]:
    return [f"CI={os.environ.get('CI', '')!s} (missing services {'fail' if in_ci() else 'skip'})"]
