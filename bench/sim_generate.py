"""Time and peak memory of `altaviz-sim generate` at the two sizes issue 3 names.

    .venv/bin/python bench/sim_generate.py            # both cases
    .venv/bin/python bench/sim_generate.py --case small

Each case runs the real command in a child process; peak memory is that process's
maximum resident set size (from wait4). Output goes to a temporary directory that
is removed afterwards unless --keep is given.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]

CASES = {
    "small": {
        "title": "90 days x 10 compressors at 1-minute resolution",
        "args": ["--fleet", str(REPO / "config" / "fleet.yaml"), "--scenario", "random",
                 "--duration", "90d", "--resolution", "60"],
    },
    "large": {
        "title": "1 day x 1,000 compressors at 1 Hz",
        "args": ["--fleet", str(REPO / "config" / "fleet-1000.yaml"), "--scenario", "random",
                 "--duration", "1d", "--resolution", "1"],
    },
}  # fmt: skip


def run_case(name: str, out_root: Path) -> dict[str, float | int | str]:
    case = CASES[name]
    out = out_root / name
    command = [
        sys.executable,
        "-m",
        "simulator",
        "--log-level",
        "WARNING",
        "generate",
        *case["args"],
        "--out",
        str(out),
    ]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    stdout = process.stdout.read().decode() if process.stdout else ""
    stderr = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{name}: generate failed\n{stdout}\n{stderr}")
    readings = out / "readings.parquet"
    truth = out / "truth.parquet"
    rows = pq.ParquetFile(readings).metadata.num_rows
    return {
        "case": case["title"],
        "rows": rows,
        "seconds": elapsed,
        "rows_per_s": rows / elapsed,
        "peak_rss_mib": usage.ru_maxrss / 1024,  # Linux reports KiB
        "readings_mib": readings.stat().st_size / 2**20,
        "readings_bytes_per_row": readings.stat().st_size / rows,
        "truth_mib": truth.stat().st_size / 2**20,
        "command": " ".join(["altaviz-sim", "generate", *case["args"], "--out", "DIR"]).replace(
            str(REPO) + "/", ""
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--case", choices=sorted(CASES), action="append", help="default: both")
    parser.add_argument("--keep", type=Path, help="write the runs here and keep them")
    args = parser.parse_args()
    cases = args.case or ["small", "large"]
    out_root = args.keep or Path(tempfile.mkdtemp(prefix="altaviz-sim-bench-"))
    print(
        f"machine: {os.cpu_count()} CPU(s), Python {platform.python_version()}, {platform.machine()}"
    )
    try:
        for name in cases:
            result = run_case(name, out_root)
            print(f"\n{result['case']}")
            print(f"  command      {result['command']}")
            print(f"  readings     {result['rows']:,}")
            print(
                f"  wall time    {result['seconds']:.1f} s ({result['rows_per_s']:,.0f} readings/s, readings + truth + events)"
            )
            print(
                f"  peak memory  {result['peak_rss_mib']:.0f} MiB (max RSS of the generate process)"
            )
            print(
                f"  readings.parquet {result['readings_mib']:.1f} MiB ({result['readings_bytes_per_row']:.1f} bytes/reading), truth.parquet {result['truth_mib']:.1f} MiB"
            )
    finally:
        if args.keep is None:
            shutil.rmtree(out_root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
