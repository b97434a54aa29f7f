"""Silver quality rules on tiny frames: each rule flags, no value is ever changed or dropped."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from hub.lakehouse.flags import ReadingRule, SensorRule
from hub.lakehouse.quality import apply_quality_rules
from hub.settings import QualitySettings
from shared.schema import SENSOR_FIELDS, OperatingState, Quality, ReadingFlag
from tests.hub.lakehouse.frames import RECEIVED, START, naive, silver_frame, silver_rows

pytestmark = pytest.mark.spark

RULES = QualitySettings(
    expected_interval_s=60, stuck_min_s=600, stuck_min_readings=5, context_s=1800
)
HORIZON_S = 7 * 86400


def _flags(spark, rows, rules=RULES):  # type: ignore[no-untyped-def]
    frame = silver_frame(spark, rows)
    flagged = apply_quality_rules(frame, rules, late_horizon_s=HORIZON_S)
    out = flagged.orderBy("compressor_id", "timestamp").collect()
    assert len(out) == len(rows)  # no reading dropped
    ordered = sorted(rows, key=lambda r: (r["compressor_id"], r["timestamp"]))
    for before, after in zip(ordered, out, strict=True):
        for sensor in SENSOR_FIELDS:  # no value changed or nulled
            expected = None if before[sensor] is None else float(np.float32(before[sensor]))
            assert after[sensor] == expected
    return out


def test_range_is_per_state_and_compressor_and_instrument_limits_are_faults(spark) -> None:  # type: ignore[no-untyped-def]
    rules = RULES.model_copy(
        update={"compressor_envelopes": {"C02": {"running": {"discharge_temp_f": (100.0, 200.0)}}}}
    )
    temps = [215.0, 400.0, 215.0, 700.0]
    running = silver_rows(4, interval_s=60, discharge_temp_f=temps)
    other = silver_rows(4, compressor="C02", interval_s=60, discharge_temp_f=temps)
    standby = silver_rows(
        2, compressor="C03", interval_s=60, discharge_temp_f=[400.0, 400.0],
        operating_state=[OperatingState.STANDBY_PRESSURIZED] * 2,
    )  # fmt: skip
    out = _flags(spark, running + other + standby, rules)
    flags = {(r.compressor_id, r.seq): r.discharge_temp_f_flags for r in out}
    assert flags[("C01", 1)] == 0
    assert flags[("C01", 2)] & SensorRule.RANGE  # 400 °F: above the running envelope (350)
    assert flags[("C01", 4)] & SensorRule.INSTRUMENT  # 700 °F: beyond what the probe reads
    assert not flags[("C01", 2)] & SensorRule.INSTRUMENT
    assert flags[("C02", 1)] & SensorRule.RANGE  # this unit's own envelope is 100-200
    assert not flags[("C03", 1)] & SensorRule.RANGE  # no envelope for standby
    assert all(r.rule_flags & ReadingRule.SENSOR for r in out if r.discharge_temp_f_flags)


def test_rate_of_change_compares_like_states_only(spark) -> None:  # type: ignore[no-untyped-def]
    pressure = [1050.0, 1050.0, 2400.0, 2400.0, 10.0]
    states = [OperatingState.RUNNING] * 4 + [OperatingState.SHUTDOWN_DEPRESSURIZED]
    out = _flags(
        spark, silver_rows(5, discharge_pressure_psi=pressure, operating_state=states, interval_s=1)
    )
    rates = [bool(r.discharge_pressure_psi_flags & SensorRule.RATE) for r in out]
    assert rates == [False, False, True, False, False]  # the trip to shutdown is not a rate fault


def test_stuck_flags_the_whole_run_while_running_only(spark) -> None:  # type: ignore[no-untyped-def]
    temps = [215.0, 216.0] + [230.0] * 12 + [217.0, 218.0]
    stopped = silver_rows(
        16, compressor="C02", interval_s=60, vibration_mms=[0.0] * 16,
        operating_state=[OperatingState.SHUTDOWN_DEPRESSURIZED] * 16,
    )  # fmt: skip
    out = _flags(spark, silver_rows(16, interval_s=60, discharge_temp_f=temps) + stopped)
    stuck = [
        bool(r.discharge_temp_f_flags & SensorRule.STUCK) for r in out if r.compressor_id == "C01"
    ]
    assert stuck == [False, False] + [True] * 12 + [False, False]
    assert not any(
        r.vibration_mms_flags & SensorRule.STUCK for r in out if r.compressor_id == "C02"
    )


def test_short_repeats_are_not_stuck(spark) -> None:  # type: ignore[no-untyped-def]
    temps = [215.0] + [230.0] * 4 + [217.0]  # 4 readings over 3 minutes: below both limits
    out = _flags(spark, silver_rows(6, interval_s=60, discharge_temp_f=temps))
    assert not any(r.discharge_temp_f_flags & SensorRule.STUCK for r in out)


def test_gap_dropout_and_comm_loss(spark) -> None:  # type: ignore[no-untyped-def]
    rows = silver_rows(6, interval_s=60)
    for row in rows[3:]:
        row["timestamp"] += timedelta(minutes=10)  # ten minutes of silence before the 4th
    for sensor in SENSOR_FIELDS:  # the 5th: the panel did not answer
        rows[4][sensor] = None
        rows[4][f"{sensor}_quality"] = int(Quality.COMM_ERROR)
    out = _flags(spark, rows)
    gaps = [bool(r.rule_flags & ReadingRule.GAP) for r in out]
    assert gaps == [True, False, False, True, False, False]  # the first has nothing before it
    assert out[3].dt_s == pytest.approx(660.0)
    assert out[4].rule_flags & ReadingRule.COMM_LOSS
    assert all(getattr(out[4], f"{s}_flags") & SensorRule.QUALITY for s in SENSOR_FIELDS)
    assert out[4].vibration_mms is None  # it was null on arrival; nothing else is


def test_clock_skew_jump_slew_future_and_backwards(spark) -> None:  # type: ignore[no-untyped-def]
    rows = silver_rows(8, interval_s=60)
    rows[2]["reading_flags"] = int(ReadingFlag.CLOCK_JUMP | ReadingFlag.SIMULATED)
    rows[4]["timestamp"] -= timedelta(seconds=1)  # slewing: 59 s after the previous poll
    later = silver_rows(2, compressor="C02", interval_s=60, first_seq=100)
    later[1]["timestamp"] = naive(RECEIVED + timedelta(minutes=30))  # ahead of the hub's clock
    backwards = silver_rows(3, compressor="C03", interval_s=60, seq=[10, 12, 11])
    out = _flags(spark, rows + later + backwards)
    skew = {(r.compressor_id, r.seq): bool(r.rule_flags & ReadingRule.CLOCK_SKEW) for r in out}
    assert [skew[("C01", s)] for s in range(1, 9)] == [
        False,
        False,
        True,
        False,
        True,
        True,
        False,
        False,
    ]
    assert skew[("C02", 101)] and not skew[("C02", 100)]
    assert skew[("C03", 11)]  # stamped after seq 12: the clock went backwards


def test_late_arrivals_are_flagged_and_kept(spark) -> None:  # type: ignore[no-untyped-def]
    rows = silver_rows(2, interval_s=60, received_at=START + timedelta(days=9))
    out = _flags(spark, rows)
    assert all(r.rule_flags & ReadingRule.LATE for r in out)


def test_a_reading_far_in_the_future_is_flagged_and_kept(spark) -> None:  # type: ignore[no-untyped-def]
    rows = silver_rows(2, interval_s=60)
    rows[1]["timestamp"] = naive(RECEIVED + timedelta(days=30))  # a gateway clock far off
    out = _flags(spark, rows)
    assert [bool(r.rule_flags & ReadingRule.FUTURE) for r in out] == [False, True]
    assert out[1].rule_flags & ReadingRule.CLOCK_SKEW
