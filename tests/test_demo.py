"""`altaviz demo` end to end, twice: the second run continues the story and adds only new rows.

Each run's portal is fetched while the run goes, with the printed sign-in (twice on the
same SQLite database: the second sign-in must work too). The whole story's acceptance
(COMP-003 critical and COMP-007 on the portal during a 300 s run) is bench/demo_story.py.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from deltalake import DeltaTable

from tests.support.services import free_port, require

REPO = Path(__file__).resolve().parents[1]


BANNER = re.compile(r"portal\s+(http://\S+)\s+sign in as (\S+) / (\S+)")


def _fetch_portal_while_running(lines: list[str]) -> dict[str, str]:
    """Sign in with the printed credentials; the fleet, alerts and a station page."""
    found = BANNER.search("".join(lines))
    assert found, "".join(lines)
    url, email, password = found.groups()
    with httpx.Client(base_url=url, timeout=30.0) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert token
        response = client.post(
            "/login", data={"email": email, "password": password, "csrf_token": token.group(1)}
        )
        assert response.status_code == 303, response.text[:500]
        home = client.get("/")  # the signed-in home: the org's fleet page
        org = home.headers["location"].split("/")[2]
        return {
            page: client.get(f"/o/{org}/{page}").text
            for page in ("fleet", "alerts", "stations/PB-MIDLAND")
        }


def _run_demo(data_dir: Path, port: int) -> tuple[str, dict[str, str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "hub.demo", "demo", "--duration", "20", "--pipeline-interval", "1000",
         "--data-dir", str(data_dir), "--portal-port", str(port)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    lines: list[str] = []
    pages: dict[str, str] = {}
    try:
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Spark ready"):  # the stations run; the portal is up
                pages = _fetch_portal_while_running(lines)
        assert process.wait(timeout=900) == 0, "".join(lines)[-3000:]
    finally:
        if process.poll() is None:
            process.kill()
    return "".join(lines), pages


@pytest.mark.slow
@pytest.mark.spark
def test_demo_runs_twice_without_duplicates(tmp_path: Path) -> None:
    require(
        any((REPO / ".cache" / "jars").glob("delta-spark_*.jar")), "Delta Lake jars (make jars)"
    )
    data_dir = tmp_path / "demo"
    port = free_port()
    first, first_pages = _run_demo(data_dir, port)
    first_rows = int(re.search(r"bronze rows: (\d+) \(\+(\d+) this run\)", first).group(1))  # type: ignore[union-attr]
    assert first_rows > 0, first
    # The agents polled the simulator's panels over Modbus, one station in RTU framing.
    assert re.search(r"RTU framing over TCP: [1-9]\d* request\(s\)", first), first
    assert len(re.findall(r"Modbus TCP: [1-9]\d* request\(s\)", first)) == 3, first
    second, second_pages = _run_demo(data_dir, port)
    for pages in (first_pages, second_pages):
        assert "Needs attention" in pages["fleet"]
        assert 'id="state-vs-condition"' in pages["alerts"]
        assert not re.search(r"-\d+ (d|h|min|s) ago", "".join(pages.values()))
    match = re.search(r"bronze rows: (\d+) \(\+(\d+) this run\)", second)
    assert match, second
    total, added = int(match.group(1)), int(match.group(2))
    assert added > 0 and total == first_rows + added
    bronze = DeltaTable(str(data_dir / "hub" / "lake" / "bronze" / "readings")).to_pyarrow_table(
        columns=["station_id", "seq"]
    )
    assert bronze.num_rows == total
    seqs: dict[str, list[int]] = {}
    for station, seq in zip(
        bronze.column("station_id").to_pylist(), bronze.column("seq").to_pylist(), strict=True
    ):
        seqs.setdefault(station, []).append(seq)
    # Four stations, one edge agent each; nothing lost or doubled between runs either.
    assert sorted(seqs) == ["BN-FTWORTH", "EF-KARNES", "HV-CARTHAGE", "PB-MIDLAND"]
    for station, numbers in seqs.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), station
    # The lakehouse ran through to the serving database the portal reads.
    silver = re.search(r"silver rows: (\d+)", second)
    assert silver and int(silver.group(1)) == total, second
    assert re.search(r"alert episodes: \d+ \(\d+ with the condition present", second), second
    with sqlite3.connect(data_dir / "hub" / "serving.db") as db:
        statuses = db.execute("select count(*) from compressor_status").fetchone()[0]
    assert statuses == 10
    # Simulated time continued from where the first run stopped.
    day = [float(d) for d in re.findall(r"the stations reached day ([\d.]+)", first + second)]
    assert len(day) == 2 and day[1] > day[0], (first, second)
