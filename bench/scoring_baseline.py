"""The demo's baseline models, timed, then scored offline on the prototype-7day story.

    .venv/bin/python bench/scoring_baseline.py

Trains the baseline (hub/scoring/baseline.py: 27 simulated days before the story, one
fault of each mode), then runs the hub's scoring functions over the whole simulated story
(10 compressors, one reading a minute): the hourly model view, drift and RUL. Prints the
training time, COMP-003's RUL trajectory and the early-warning line the demo prints, and
`RESULT scoring_baseline train_s=<s> lead_h=<h>`.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import commit
from bench.lake_common import REPO, load_average
from hub.scoring.anomaly import model_hours
from hub.scoring.baseline import simulate_history, train_baseline
from hub.scoring.bundles import AnomalyModel, DriftForecaster, RulEstimator
from hub.scoring.hourly import rul_scores
from hub.scoring.summary import EarlyWarning, RulPoint, failure_time, first_warning
from models.drift import DriftLimits
from shared.bundle import generate_signing_key, parse_manifest, read_archive
from shared.fleet import load_fleet
from simulator.engine import Simulation
from simulator.history import write_history
from simulator.scenario import load_scenario

FLEET = REPO / "config" / "fleet.yaml"


def _open(archive: bytes, loader):  # type: ignore[no-untyped-def]
    members = read_archive(archive)
    manifest = parse_manifest(members.pop("manifest.json"))
    members.pop("manifest.sig")
    return loader(manifest, members)


def main() -> int:
    story = load_scenario("prototype-7day")
    print(f"load average before: {load_average()}")
    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        started = time.monotonic()
        run = simulate_history(FLEET, root / "history", history_end=story.start)
        bundles = train_baseline(
            run, signing_key=generate_signing_key(), version="bench", reading_interval_s=60.0,
            limits=DriftLimits.from_thresholds(REPO / "config" / "thresholds.yaml"),
        )  # fmt: skip
        train_s = time.monotonic() - started
        detector = _open(bundles[0].archive, AnomalyModel)
        rul = _open(bundles[1].archive, RulEstimator.from_bundle)
        drift = _open(bundles[2].archive, DriftForecaster.from_bundle)
        write_history(Simulation(load_fleet(FLEET), story), root / "story")
        readings = pq.read_table(root / "story" / "readings.parquet").to_pandas()
    readings["org_id"] = "demo-org"
    hours = model_hours(readings, detector, interval_s=float(story.resolution_s))
    scores = rul_scores(hours, rul, drift=drift)
    unit = scores[scores["compressor_id"] == "COMP-003"]
    points = [
        RulPoint(
            r.scored_at.to_pydatetime(), None if r.score != r.score else r.score, r.lower, r.upper
        )
        for r in unit.itertuples()
    ]
    failure = failure_time(story, "COMP-003")
    warning = EarlyWarning("COMP-003", failure, story.start, first_warning(points, failure), points)
    print(f"baseline trained (simulation included) in {train_s:.1f} s")
    print("\n".join(warning.lines(every_h=12)))
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    print(f"commit {commit()}")
    lead = f"{warning.lead_h:.1f}" if warning.lead_h is not None else "nan"
    print(f"RESULT scoring_baseline train_s={train_s:.1f} lead_h={lead}")
    return 0 if warning.lead_h is not None else 1


if __name__ == "__main__":
    sys.exit(main())
