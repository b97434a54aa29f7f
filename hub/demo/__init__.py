"""`altaviz demo`: the product on one machine, on embedded defaults.

The four Texas stations of `config/fleet.yaml` run the prototype's 7-day scenario in
accelerated simulated time (COMP-003 degrades from day 3 and fails on day 6, COMP-007
degrades from day 5). One edge agent per station — each its own process, as on a
gateway — scores, alarms, buffers and forwards through an embedded MQTT broker; the
hub ingests, runs the lakehouse continuously into Delta and the SQLite serving
database, and serves the portal with a demo sign-in. Simulated time is used end to
end: readings carry the simulator's clock, so the lake's hourly aggregates and alert
episodes are in simulated hours.

Everything lives under --data-dir, so a second run continues where the first stopped
(same scenario start, the edges' sequence numbers and buffers, the landing zone, the
streaming checkpoints) and no row is written twice.
"""

from hub.demo.cli import main

__all__ = ["main"]
