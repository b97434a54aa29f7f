"""N Modbus TCP panels on loopback (one port each), values drifting every second.

Used by bench/edge_cpu.py as a separate process, so the panels' CPU is not counted
as the agent's. Writes the ports, one per line, to --ports-file, then serves until killed.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from edge_common import REPO  # noqa: F401  (puts the repository on sys.path)

from shared.register_map import find_register_map
from tests.edge_agent.panels import PanelServer

NOMINAL = {
    "vibration_mms": (3.0, 0.08),
    "discharge_temp_f": (215.0, 0.6),
    "suction_pressure_psi": (65.0, 0.4),
    "discharge_pressure_psi": (1050.0, 2.0),
    "horsepower_consumption": (1200.0, 4.0),
    "gas_flow_mcf": (9000.0, 20.0),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--ports-file", required=True)
    args = parser.parse_args()
    register_map = find_register_map("standard-scaled")
    rng = np.random.default_rng(1)
    panels = [
        PanelServer(register_map, {"operating_state": "running"}).start() for _ in range(args.count)
    ]
    with open(args.ports_file, "w") as handle:
        handle.write("\n".join(str(p.port) for p in panels) + "\n")
    while True:
        for panel in panels:
            panel.set({k: float(m + rng.normal(0, sd)) for k, (m, sd) in NOMINAL.items()})
        time.sleep(1.0)


if __name__ == "__main__":
    main()
