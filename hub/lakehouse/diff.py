"""What changed between a recomputed slice of a table and what the table holds. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

#: Column `changed` adds: the key is not in the table yet (a writer may append).
NEW_ROW = "_is_new"


def changed(
    new: DataFrame, old: DataFrame, keys: Sequence[str], columns: Sequence[str]
) -> DataFrame:
    """Rows of `new` that `old` lacks or holds with a different value in any of `columns`."""
    compared = [c for c in columns if c not in keys]
    joined = new.alias("n").join(
        old.select(*keys, *compared, F.lit(True).alias("_present")).alias("o"),
        on=[F.col(f"n.{k}") == F.col(f"o.{k}") for k in keys],
        how="left",
    )
    # One SQL expression rather than hundreds of Column objects built over py4j.
    differs = " OR ".join(f"NOT (n.`{c}` <=> o.`{c}`)" for c in compared) or "false"
    condition = F.expr(f"o._present IS NULL OR {differs}")
    return joined.filter(condition).select("n.*", F.col("o._present").isNull().alias(NEW_ROW))


def missing(old: DataFrame, new: DataFrame, keys: Sequence[str]) -> DataFrame:
    """Keys of `old` that `new` no longer has (rows to delete)."""
    return old.select(*keys).join(new.select(*keys), on=list(keys), how="left_anti")
