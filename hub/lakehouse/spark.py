"""Build the one SparkSession a hub process uses, with Delta Lake from local jars."""

from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path

from hub.errors import LakehouseError
from hub.settings import SparkSettings

log = logging.getLogger(__name__)

_VERSION_SUFFIX = re.compile(r"-\d[^-]*\.jar$")


def delta_jars(jars_dir: Path) -> list[str]:
    """Jars from `make jars`, minus artifacts pyspark already ships (its versions win)."""
    import pyspark

    if not jars_dir.is_dir() or not any(jars_dir.glob("delta-spark_*.jar")):
        raise LakehouseError(
            f"Delta Lake jars not found in {jars_dir}; run `make jars` (it fetches them with Maven)"
        )
    bundled_dir = Path(pyspark.__file__).parent / "jars"
    bundled = {_VERSION_SUFFIX.sub("", name) for name in os.listdir(bundled_dir)}
    return sorted(
        str(jar.resolve())
        for jar in jars_dir.glob("*.jar")
        if _VERSION_SUFFIX.sub("", jar.name) not in bundled
    )


def build_spark(settings: SparkSettings, *, app_name: str = "altaviz-hub"):  # type: ignore[no-untyped-def]
    from pyspark.sql import SparkSession

    log_config = Path(__file__).with_name("log4j2.properties").resolve()
    java_options = f"-Dlog4j2.configurationFile=file:{log_config}"
    conf = {
        "spark.driver.extraJavaOptions": java_options,
        "spark.jars": ",".join(delta_jars(settings.jars_dir)),
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.shuffle.partitions": str(settings.shuffle_partitions),
        "spark.databricks.delta.snapshotPartitions": str(settings.shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.memory": settings.driver_memory,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.streaming.schemaInference": "false",
        "spark.databricks.delta.schema.autoMerge.enabled": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        # Wide diffs (a hundred columns compared) make constraint inference blow up the optimizer.
        "spark.sql.constraintPropagation.enabled": "false",
        # Micro-batches are small: adaptive execution's extra jobs per stage cost more than
        # they save (a cluster with big batches may turn it back on in `conf`).
        "spark.sql.adaptive.enabled": "false",
        # MERGE sources are already materialized (localCheckpoint) by the pipeline.
        "spark.databricks.delta.merge.materializeSource": "none",
        **settings.conf,
    }
    # Python workers (pandas UDFs) run this interpreter unless the environment names one.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(settings.master).appName(app_name)
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # py4j/JVM start-up failures have many types
        raise LakehouseError(f"Spark could not start ({settings.master}): {exc}") from exc
    spark.sparkContext.setLogLevel("WARN")
    log.info("Spark %s ready on %s", spark.version, settings.master)
    return spark
