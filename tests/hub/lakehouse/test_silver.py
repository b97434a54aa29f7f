"""Silver's pass over one compressor: deduplication, and which rows a MERGE must write."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from hub.lakehouse.diff import NEW_ROW
from hub.lakehouse.flags import ReadingRule
from hub.lakehouse.silver import (
    CHANGED,
    STORED,
    keep_first_delivery,
    silver_pass,
    silver_rows_after,
)
from hub.settings import QualitySettings
from tests.hub.lakehouse.frames import RECEIVED, START, naive, silver_frame, silver_rows

RULES = QualitySettings(expected_interval_s=1, stuck_min_s=600, stuck_min_readings=5)
REGION = (naive(START - timedelta(hours=1)), naive(START + timedelta(hours=1)))


def _frame(*row_lists: list[dict], stored: bool = False) -> pd.DataFrame:  # type: ignore[type-arg]
    rows = [row for rows in row_lists for row in rows]
    frame = pd.DataFrame(rows).astype({"dt_s": "float64"})
    frame[STORED] = stored
    frame["_region_start"], frame["_region_end"] = REGION
    return frame


def test_one_row_per_key_whatever_the_arrival_order() -> None:
    first = silver_rows(3, batch_id=["b1"] * 3)
    redelivered = silver_rows(3, batch_id=["b2"] * 3, received_at=RECEIVED + timedelta(hours=1))
    # Two polls stamped alike (a clock problem): the earlier poll (lower seq) is kept.
    clash = silver_rows(1, first_seq=99, batch_id=["b3"], discharge_temp_f=[999.0])
    for rows in (first + redelivered + clash, clash + redelivered + first):
        kept = keep_first_delivery(pd.DataFrame(rows))
        assert [(r.seq, r.batch_id) for r in kept.itertuples()] == [(1, "b1"), (2, "b1"), (3, "b1")]
        assert kept.iloc[0]["discharge_temp_f"] == 215.0


def test_a_redelivered_batch_changes_nothing_and_new_rows_are_appends() -> None:
    stored = _frame(silver_rows(3), stored=True)
    flagged = silver_rows_after(stored, RULES, late_horizon_s=1e9)
    stored = _frame(flagged.drop(columns=[CHANGED, NEW_ROW]).to_dict("records"), stored=True)

    again = silver_rows_after(
        pd.concat([stored, _frame(silver_rows(3, received_at=RECEIVED + timedelta(hours=1)))]),
        RULES,
        late_horizon_s=1e9,
    )
    assert not again[CHANGED].any()  # the stored copies win; their flags hold

    grown = silver_rows_after(
        pd.concat([stored, _frame(silver_rows(5)[3:])]), RULES, late_horizon_s=1e9
    )
    assert list(grown.loc[grown[CHANGED], "seq"]) == [4, 5]
    assert grown.loc[grown[CHANGED], NEW_ROW].all()


def test_a_late_neighbour_reflags_a_stored_row_inside_the_region() -> None:
    rows = silver_rows(4, interval_s=2)
    stored_rows = [rows[0], rows[1], rows[3]]
    stored = _frame(silver_rows_after(_frame(stored_rows), RULES, late_horizon_s=1e9)
                    .drop(columns=[CHANGED, NEW_ROW]).to_dict("records"), stored=True)  # fmt: skip
    assert stored.iloc[2]["rule_flags"] & ReadingRule.GAP  # seq 4 came 4 s after seq 2
    late = silver_rows_after(pd.concat([stored, _frame([rows[2]])]), RULES, late_horizon_s=1e9)
    changed = late.loc[late[CHANGED]]
    assert list(changed["seq"]) == [3, 4]  # the late reading, and its neighbour's gap flag
    assert list(changed[NEW_ROW]) == [True, False]
    assert not late.iloc[3]["rule_flags"] & ReadingRule.GAP


@pytest.mark.spark
def test_silver_pass_in_spark_matches_the_pandas_pass(spark) -> None:  # type: ignore[no-untyped-def]
    readings = silver_frame(spark, silver_rows(5), silver_rows(3, compressor="C02"))
    stored = silver_frame(spark, [])
    region = spark.createDataFrame(
        [("org-a", "STATION-1", c, *REGION) for c in ("C01", "C02")],
        "org_id string, station_id string, compressor_id string, "
        "range_start timestamp, range_end timestamp",
    )
    out = silver_pass(readings, stored, region, RULES, late_horizon_s=1e9).collect()
    assert len(out) == 8 and all(r[CHANGED] and r[NEW_ROW] and not r[STORED] for r in out)
    assert {r.compressor_id for r in out if r.rule_flags & ReadingRule.GAP} == {"C01", "C02"}
