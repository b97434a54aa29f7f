"""Silver deduplication and change detection on tiny frames."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.lakehouse.silver import changed_rows, keep_first_delivery
from tests.hub.lakehouse.frames import RECEIVED, naive, silver_frame, silver_rows

pytestmark = pytest.mark.spark


def test_one_row_per_key_whatever_the_arrival_order(spark) -> None:  # type: ignore[no-untyped-def]
    first = silver_rows(3, batch_id=["b1"] * 3)
    redelivered = silver_rows(3, batch_id=["b2"] * 3, received_at=RECEIVED + timedelta(hours=1))
    # Two polls stamped alike (a clock problem): the earlier poll (lower seq) is kept.
    clash = silver_rows(1, first_seq=99, batch_id=["b3"], discharge_temp_f=[999.0])
    for rows in (first + redelivered + clash, clash + redelivered + first):
        kept = keep_first_delivery(silver_frame(spark, rows)).orderBy("timestamp").collect()
        assert [(r.seq, r.batch_id) for r in kept] == [(1, "b1"), (2, "b1"), (3, "b1")]
        assert kept[0].discharge_temp_f == 215.0


def test_changed_rows_are_new_or_different(spark) -> None:  # type: ignore[no-untyped-def]
    existing = silver_frame(spark, silver_rows(3))
    recomputed_rows = silver_rows(4)
    recomputed_rows[1]["rule_flags"] = 1  # a late neighbour changed this one's flags
    recomputed_rows[3]["timestamp"] = naive(recomputed_rows[2]["timestamp"] + timedelta(seconds=1))
    changed = changed_rows(silver_frame(spark, recomputed_rows), existing).orderBy("seq").collect()
    assert [r.seq for r in changed] == [2, 4]
