"""The measured figures the landing page quotes. Each `value` appears verbatim in
docs/benchmarks.md (a test checks it), so the page claims nothing no script measured."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    value: str
    what: str
    #: The docs/benchmarks.md section it comes from.
    section: str


FIGURES = (
    Figure("1,240,616\u20131,369,663", "readings/s drained from a station's buffer after an outage",
           "Edge agent: backlog drain"),
    Figure("8.82", "bytes per reading on the wire (Parquet batches over MQTT)",
           "Edge agent: backlog drain"),
    Figure("3.20\u20133.86 %", "of one core for the edge agent at 50 compressors x 1 Hz",
           "Edge agent: CPU and memory"),
    Figure("69.4 s", "p95 from the edge publishing a reading to the portal showing it",
           "Lakehouse: end-to-end latency"),
    Figure("99.3 ms", "p95 for the fleet overview page (client side)", "Portal"),
    Figure("74.1 %", "fewer unplanned shutdowns in a simulated fleet-year when crews act on the "
           "warnings (with 76 false dispatches)", "What the warnings are worth"),
)  # fmt: skip
