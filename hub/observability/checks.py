"""Dependency probes for /ready: the serving database, the MQTT broker, a directory, Spark."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from hub.observability.health import Check


def database_name(url: str) -> str:
    backend = make_url(url).get_backend_name()
    return "postgresql" if backend == "postgresql" else backend


def database_check(url: str, *, timeout_s: float = 2.0, engine: Engine | None = None) -> Check:
    """`SELECT 1` on the serving database (its own small engine unless one is given)."""
    if engine is None:
        from hub.db.session import make_engine

        if database_name(url) == "postgresql":
            engine = make_engine(
                url,
                pool_size=1,
                max_overflow=0,
                connect_args={"connect_timeout": max(1, int(timeout_s))},
            )
        else:
            engine = make_engine(url)
    probe_engine = engine

    def probe() -> None:
        with probe_engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    return Check(database_name(url), probe)


def broker_check(
    host: str, port: int, *, connected: Callable[[], bool] | None = None, timeout_s: float = 2.0
) -> Check:
    """The MQTT broker: the service's own client connected (when it has one), else a TCP
    connection to the broker's port."""

    def probe() -> None:
        if connected is not None:
            if not connected():
                raise ConnectionError(f"MQTT client not connected to {host}:{port}")
            return
        with socket.create_connection((host, port), timeout=timeout_s):
            pass

    return Check("mqtt broker", probe)


def directory_check(name: str, path: Path | str, *, writable: bool = True) -> Check:
    """A local directory exists (and is writable); object-store URLs (abfss://, s3a://) are
    checked by the engine that writes them, not here."""

    def probe() -> None:
        text_path = str(path)
        if "://" in text_path:
            return
        folder = Path(text_path)
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder} is not a directory")
        if writable and not os.access(folder, os.W_OK):
            raise PermissionError(f"{folder} is not writable")

    return Check(name, probe)


def spark_check(spark: Any) -> Check:
    """The SparkSession's context is alive (its JVM answers)."""

    def probe() -> None:
        if spark.sparkContext._jsc.sc().isStopped():
            raise RuntimeError("SparkContext stopped")

    return Check("spark", probe)
