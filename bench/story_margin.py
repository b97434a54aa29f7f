"""How far the demo story's COMP-003 gets above its critical limit, by story start.

    .venv/bin/python bench/story_margin.py                       # 73 starts a year, 00:00 and 12:00 UTC
    .venv/bin/python bench/story_margin.py 2026-12-08T00:38:00+00:00 2026-12-07T12:00:00+00:00

The demo (`altaviz demo`) starts the prototype-7day story at the next noon UTC
(hub/demo/story.py; it used to start at the minute of its first run). COMP-003's critical episode needs gold's `discharge_temp_above_baseline_f` (the 1 h running
mean of discharge temperature minus the median of the previous `baseline_days` UTC days'
running means, hub/lakehouse/conditions.py) above `alerts.conditions.discharge_temp_rising`'s
critical limit. The simulated weather and the day boundaries move with the start, so the
peak does too. This computes that signal from the simulator's readings with pandas
(`hub.demo.story.discharge_temp_peak`: gold's definition; it gave the lake's own peaks,
58.5 and 57.9 °F, for two demo runs' starts) and prints the peak per start and, per UTC
hour of the starts, the lowest peak. Last line:
`RESULT story_margin starts=<n> critical_f=<limit> min_peak_f_by_hour=<hh:mm=peak,...> commit=<c>`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import commit
from hub.demo.story import discharge_temp_peak
from hub.settings import AlertSettings

CONDITION = "discharge_temp_rising"


def _year_of_starts() -> list[str]:
    first = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        (first + timedelta(days=5 * i, hours=hour)).isoformat()
        for hour in (0, 12)
        for i in range(73)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("starts", nargs="*", help="ISO instants (default: a year at 00:00, 12:00)")
    args = parser.parse_args()
    critical = AlertSettings().conditions[CONDITION].critical
    starts = args.starts or _year_of_starts()
    lowest: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="story-margin-") as work:
        for start in starts:
            peak, day = discharge_temp_peak(start, work=Path(work))
            hour = pd.Timestamp(start).tz_convert("UTC").strftime("%H:%M")
            lowest[hour] = min(lowest.get(hour, peak), peak)
            mark = "critical" if critical is not None and peak > critical else "NOT critical"
            print(f"start {start}: peak {peak:.1f} F above baseline at day {day:.2f} ({mark})")
    by_hour = ",".join(f"{hour}={peak:.1f}" for hour, peak in sorted(lowest.items()))
    print(f"RESULT story_margin starts={len(starts)} critical_f={critical} "
          f"min_peak_f_by_hour={by_hour} commit={commit()}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
