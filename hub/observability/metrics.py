"""The hub's Prometheus metrics and the hooks that record them.

One process-wide registry (prometheus-client's default). Labels are low-cardinality
on purpose: outcomes, reasons, routes, channels; never a station or batch id (those
go in logs and traces). Every hook is cheap and never raises.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

BATCHES = Counter(
    "altaviz_ingest_batches",
    "Telemetry batches by outcome: landed, duplicate, quarantined (refused), conflict",
    ["outcome"],
)
QUARANTINED = Counter("altaviz_ingest_quarantined", "Quarantined payloads by reason", ["reason"])
READINGS_LANDED = Counter("altaviz_ingest_readings_landed", "Readings in newly landed batches")
QUARANTINE_BYTES = Gauge(
    "altaviz_ingest_quarantine_bytes", "Bytes kept in the quarantine directory"
)
MQTT_CONNECTED = Gauge(
    "altaviz_mqtt_connected", "1 while the service's MQTT client is connected", ["client"]
)
MICRO_BATCH_SECONDS = Histogram(
    "altaviz_pipeline_micro_batch_seconds",
    "Duration of one pipeline micro-batch",
    ["query"],
    buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600),
)
PIPELINE_READINGS = Counter(
    "altaviz_pipeline_readings", "Readings processed by pipeline micro-batches", ["query"]
)
PIPELINE_LAG = Gauge(
    "altaviz_pipeline_lag_seconds",
    "Age of the newest landed data a micro-batch had not yet processed when it ended",
    ["query"],
)
PIPELINE_LAST_COMMIT = Gauge(
    "altaviz_pipeline_last_commit_timestamp_seconds",
    "Unix time of the last committed micro-batch",
    ["query"],
)
SERVING_SYNC_SECONDS = Histogram(
    "altaviz_serving_sync_seconds",
    "Time to copy one micro-batch's gold changes into the serving database",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
SERVING_SYNC_FAILURES = Counter(
    "altaviz_serving_sync_failures", "Serving-database syncs that raised"
)
HTTP_SECONDS = Histogram(
    "altaviz_http_request_seconds",
    "HTTP request latency per route template",
    ["service", "method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
NOTIFICATIONS = Counter(
    "altaviz_notifications",
    "Notifications by channel (email, webhook, sms, ...) and outcome (sent, failed, suppressed)",
    ["channel", "outcome"],
)


def observe_batch(outcome: str, *, readings: int = 0) -> None:
    """Ingest decided one telemetry message: landed, duplicate, quarantined or conflict."""
    BATCHES.labels(outcome=outcome).inc()
    if outcome == "landed" and readings:
        READINGS_LANDED.inc(readings)


def observe_quarantine(reason: str, *, kept_bytes: int | None = None) -> None:
    QUARANTINED.labels(reason=reason).inc()
    if kept_bytes is not None:
        QUARANTINE_BYTES.set(kept_bytes)


def observe_mqtt_connected(client: str, connected: bool) -> None:
    MQTT_CONNECTED.labels(client=client).set(1 if connected else 0)


def observe_micro_batch(
    seconds: float,
    readings: int,
    lag_s: float | None = None,
    *,
    query: str = "lake",
    committed_at: float | None = None,
) -> None:
    """The pipeline finished one micro-batch of `query` (the lakehouse's one query: lake).

    `lag_s`: how far behind the newest landed data the query still is (None: unknown).
    """
    MICRO_BATCH_SECONDS.labels(query=query).observe(max(seconds, 0.0))
    PIPELINE_READINGS.labels(query=query).inc(max(readings, 0))
    if lag_s is not None:
        PIPELINE_LAG.labels(query=query).set(max(lag_s, 0.0))
    if committed_at is None:
        import time

        committed_at = time.time()
    PIPELINE_LAST_COMMIT.labels(query=query).set(committed_at)


def observe_serving_sync(seconds: float, *, failed: bool = False) -> None:
    SERVING_SYNC_SECONDS.observe(max(seconds, 0.0))
    if failed:
        SERVING_SYNC_FAILURES.inc()


def observe_http(service: str, method: str, route: str, status: int, seconds: float) -> None:
    HTTP_SECONDS.labels(service=service, method=method, route=route, status=str(status)).observe(
        seconds
    )


def observe_notification(channel: str, outcome: str) -> None:
    """A notification was sent, failed, or was suppressed (quiet hours, deduplicated)."""
    NOTIFICATIONS.labels(channel=channel, outcome=outcome).inc()
