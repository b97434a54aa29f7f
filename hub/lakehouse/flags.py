"""Quality-rule flags recorded in silver: bit masks, one per sensor and one per reading.

A flag records what a rule saw; it never changes or removes the value it flags.
"""

from __future__ import annotations

from enum import IntFlag


class SensorRule(IntFlag):
    """Bits of `<sensor>_flags` (smallint) in silver."""

    NONE = 0
    QUALITY = 1  # the gateway marked the value not OK (comm error, device exception, ...)
    INSTRUMENT = 2  # outside what the instrument can physically read
    RANGE = 4  # outside the credible envelope for this compressor in this operating state
    RATE = 8  # changed faster than credible since the previous reading (same state)
    STUCK = 16  # identical for at least stuck_min_s and stuck_min_readings (running)


class ReadingRule(IntFlag):
    """Bits of `rule_flags` (int) in silver."""

    NONE = 0
    GAP = 1  # follows a silence longer than gap_factor x the station's cadence
    CLOCK_SKEW = 2  # gateway clock jumped, runs ahead of the hub, went backwards or off cadence
    LATE = 4  # reached the hub more than late_horizon_h after it was taken
    COMM_LOSS = 8  # the panel did not answer: no sensor value at all
    SENSOR = 16  # at least one sensor flag is set
    FUTURE = 32  # stamped more than late_horizon_h ahead of its receipt (a wrong clock)


#: Reading flags that keep a reading out of gold (it stays in silver, counted in data quality).
NOT_FOR_GOLD = ReadingRule.LATE | ReadingRule.FUTURE


#: Sensor flags that make a value unusable for features and alerts (it stays in silver).
SENSOR_FAULT = SensorRule.QUALITY | SensorRule.INSTRUMENT | SensorRule.STUCK
