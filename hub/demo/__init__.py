"""`altaviz demo`: the product on one machine, on embedded defaults.

The four Texas stations of `config/fleet.yaml` run the prototype's 7-day scenario in
accelerated simulated time (days count from 0: COMP-003 degrades from day 3 and trips
on day 6.4, COMP-007 degrades from day 5). The simulator serves each station's control
panel over Modbus (hub.demo.panels); one edge agent per station — each its own
process, as on a gateway — polls it, scores, alarms, buffers and forwards through an
embedded MQTT broker; the hub ingests, runs the lakehouse continuously into Delta and
the SQLite serving database, and serves the portal with a demo sign-in. On day 1 an
outage drill stops BN-FTWORTH's agent for a while, so the hub raises a station-offline
alert and resolves it once the agent is back (hub.demo.drill).

Simulated time is used end to end and owned here (hub.demo.clock): panels, agents and
the hub's receipt stamps follow one clock, paced so the stations never run more than a
lake cycle past what the lakehouse took; the portal measures ages against the data.

Everything lives under --data-dir, so a second run continues where the first stopped
(same scenario start, the edges' sequence numbers and buffers, the landing zone, the
streaming checkpoints) and no row is written twice.
"""

from hub.demo.cli import main

__all__ = ["main"]
