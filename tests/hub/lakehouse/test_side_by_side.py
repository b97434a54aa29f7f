"""A small micro-batch runs independent steps in threads: every step ends before the batch
does, a failure is raised only after the others finished, and concurrent MERGEs each
commit under their own idempotency identity (Delta reads it from the shared session)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from pyspark.sql import types as T

from hub.lakehouse.batch import _side_by_side
from hub.lakehouse.io import Lake, Txn
from hub.lakehouse.tables import TableSpec

pytestmark = pytest.mark.spark


def test_steps_run_side_by_side_and_all_end_before_a_failure_is_raised(spark) -> None:  # type: ignore[no-untyped-def]
    both_running = threading.Barrier(2, timeout=10)
    finished: list[str] = []

    def failing() -> None:
        both_running.wait()  # only passes if the other step runs at the same time
        raise RuntimeError("step failed")

    def slow() -> None:
        both_running.wait()
        time.sleep(0.5)
        finished.append("slow")

    with pytest.raises(RuntimeError, match="step failed"):
        _side_by_side(spark, True, failing, slow)
    assert finished == ["slow"]  # the other step had ended when the failure surfaced


def test_a_large_batch_runs_its_steps_one_after_the_other(spark) -> None:  # type: ignore[no-untyped-def]
    order: list[str] = []
    threads: set[int] = set()

    def step(name: str):  # type: ignore[no-untyped-def]
        def run() -> None:
            order.append(name)
            threads.add(threading.get_ident())

        return run

    _side_by_side(spark, False, step("a"), step("b"), step("c"))
    assert order == ["a", "b", "c"] and threads == {threading.get_ident()}


def _spec(name: str) -> TableSpec:
    schema = T.StructType(
        [T.StructField("key", T.StringType(), False), T.StructField("value", T.LongType(), True)]
    )
    return TableSpec(name=name, layer="gold", schema=schema, keys=("key",))


def _txns(table: str) -> list[tuple[str, int]]:
    found = []
    for path in sorted(Path(table, "_delta_log").glob("*.json")):
        for line in path.read_text().splitlines():
            txn = json.loads(line).get("txn")
            if txn:
                found.append((txn["appId"], txn["version"]))
    return found


def test_concurrent_merges_commit_under_their_own_identity(spark, tmp_path) -> None:  # type: ignore[no-untyped-def]
    lake = Lake(spark, str(tmp_path / "lake"))
    specs = [_spec(f"t{i}") for i in range(4)]
    for spec in specs:
        spark.createDataFrame([("a", 0)], spec.schema).write.format("delta").save(lake.path(spec))

    def merge(spec: TableSpec, version: int):  # type: ignore[no-untyped-def]
        def run() -> None:
            rows = spark.createDataFrame([("a", version), ("b", version)], spec.schema)
            lake.merge(spec, rows, txn=Txn(f"test:{spec.name}", version))

        return run

    for version in range(3):
        _side_by_side(spark, True, *(merge(spec, version) for spec in specs))
    for spec in specs:
        assert _txns(lake.path(spec)) == [(f"test:{spec.name}", v) for v in range(3)]
        values = {r.key: r.value for r in lake.read(spec).collect()}
        assert values == {"a": 2, "b": 2}
    # A replay of a committed version changes nothing, in whichever thread it runs.
    _side_by_side(spark, True, *(merge(spec, 1) for spec in specs))
    for spec in specs:
        assert {r.value for r in lake.read(spec).collect()} == {2}
