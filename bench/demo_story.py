"""Issue 15's acceptance: `altaviz demo` tells the whole 7-day story while it runs.

Runs the demo (default DURATION 300 s, as `make demo DURATION=300` does) and, while
it runs, signs in to the portal with the printed sign-in and fetches the fleet page
and COMP-003's and COMP-007's pages every few seconds. Passes when, before the demo
process ended, the portal showed COMP-003 critical and COMP-007 needing attention
(warning or critical), never showed an age in the future, and the closing summary
names COMP-003's critical episode and COMP-007's episode. Prints what it saw and when.

    .venv/bin/python bench/demo_story.py [--duration 300] [--speed X] [--keep]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from common import REPO, commit

BANNER = re.compile(r"portal\s+(http://\S+)\s+sign in as (\S+) / (\S+)")
ATTENTION_ITEM = re.compile(
    r'<li><a href="[^"]*/compressors/(COMP-\d+)">[^<]*</a> at \S+ '
    r'<span class="badge (\w+)">.*?</li>',
    re.S,
)
FUTURE_AGE = re.compile(r"-\d+ (?:d|h|min|s) ago|\d+ (?:d|h|min|s) ahead")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Seen:
    """When (seconds after the demo started) the portal first showed each fact."""

    facts: dict[str, float] = field(default_factory=dict)
    fetches: int = 0
    failed_fetches: int = 0
    future_ages: list[str] = field(default_factory=list)

    def note(self, fact: str, at: float) -> None:
        if fact not in self.facts:
            self.facts[fact] = at
            print(f"  [{at:5.0f}s] portal shows {fact}", flush=True)


class Demo:
    def __init__(self, args: argparse.Namespace, data_dir: Path) -> None:
        command = [
            sys.executable, "-m", "hub.demo", "demo", "--duration", str(args.duration),
            "--data-dir", str(data_dir), "--portal-port", str(args.portal_port),
        ]  # fmt: skip
        if args.speed:
            command += ["--speed", str(args.speed)]
        if args.acquisition:
            command += ["--acquisition", args.acquisition]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self.banner = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            traceback = line.startswith("  File") or (
                line.startswith("    ")
                and not line.lstrip().startswith(("COMP-", "(", "Modbus", "RTU"))
            )
            if line.startswith(("[", "Summary", "  ", "The lake", "Stations", "Spark")) and not (
                traceback or "Error" in line
            ):
                print(f"  demo: {line.rstrip()}", flush=True)
            if BANNER.search(line):
                self.banner.set()
        self.banner.set()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def running(self) -> bool:
        return self.process.poll() is None


def sign_in(url: str, email: str, password: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=url, timeout=20.0)
    token = CSRF.search(client.get("/login").text)
    assert token, "no sign-in form"
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token.group(1)}
    )
    assert response.status_code == 303, f"sign-in failed: {response.status_code}"
    org = re.search(r"/o/([^/]+)/", client.get("/").headers.get("location", ""))
    assert org, "no organisation after sign-in"
    return client, org.group(1)


def watch(demo: Demo, client: httpx.Client, org: str, seen: Seen, every_s: float) -> None:
    while demo.running():
        at = demo.elapsed
        try:
            fleet = client.get(f"/o/{org}/fleet")
            pages = [client.get(f"/o/{org}/compressors/{c}") for c in ("COMP-003", "COMP-007")]
        except httpx.HTTPError:
            if demo.running():
                seen.failed_fetches += 1
            time.sleep(every_s)
            continue
        seen.fetches += 1
        attention = fleet.text.split("Needs attention", 1)[-1]
        for compressor_id, badge in ATTENTION_ITEM.findall(attention):
            if compressor_id in ("COMP-003", "COMP-007"):
                seen.note(f"{compressor_id} needing attention ({badge})", at)
        for page in (fleet, *pages):
            seen.future_ages += FUTURE_AGE.findall(page.text)
        for compressor_id, page in zip(("COMP-003", "COMP-007"), pages, strict=True):
            health = re.search(r'id="unit-health">(\w+)<', page.text)
            if health and health.group(1) in ("critical", "warning"):
                seen.note(f"{compressor_id} page {health.group(1)}", at)
        time.sleep(every_s)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=300.0)
    parser.add_argument("--speed", type=float)
    parser.add_argument("--acquisition", choices=("modbus", "simulated"))
    parser.add_argument("--portal-port", type=int, default=8765)
    parser.add_argument("--every", type=float, default=3.0, help="seconds between fetches")
    parser.add_argument("--keep", action="store_true", help="keep the demo's data directory")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="altaviz-demo-story-"))
    print(f"demo_story: make demo DURATION={args.duration:g} in {data_dir}", flush=True)
    demo = Demo(args, data_dir)
    seen = Seen()
    try:
        demo.banner.wait(timeout=300)
        found = BANNER.search("".join(demo.lines))
        if found is None:
            raise SystemExit("the demo printed no portal sign-in:\n" + "".join(demo.lines))
        client, org = sign_in(*found.groups())
        watch(demo, client, org, seen, args.every)
        code = demo.process.wait()
    finally:
        if demo.running():
            demo.process.terminate()
            demo.process.wait(timeout=60)
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    output = "".join(demo.lines)
    summary = output.split("Summary", 1)[-1]
    comp003 = re.search(r"COMP-003 \S+\s+critical", summary)
    comp007 = re.search(r"COMP-007 \S+\s+(warning|critical)", summary)
    checks = {
        "demo exited 0": code == 0,
        "portal showed COMP-003 critical": any(
            k.startswith("COMP-003") and "critical" in k for k in seen.facts
        ),
        "portal showed COMP-007 needing attention": any(
            k.startswith("COMP-007") and ("warning" in k or "critical" in k) for k in seen.facts
        ),
        "no age in the future": not seen.future_ages,
        "summary names COMP-003's critical episode": comp003 is not None,
        "summary names COMP-007's episode": comp007 is not None,
    }
    print()
    for name, ok in checks.items():
        print(f"  {'ok  ' if ok else 'FAIL'} {name}")
    load = os.getloadavg()[0]
    first = {k: round(v) for k, v in sorted(seen.facts.items(), key=lambda kv: kv[1])}
    print(f"  seen (s after start): {first}; {seen.fetches} fetch(es) of 3 pages")
    print(
        f"RESULT demo_story duration={args.duration:g} wall_s={demo.elapsed:.0f} "
        f"passed={sum(checks.values())}/{len(checks)} load1={load:.2f} commit={commit()}"
    )
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
