"""What every hub service process does at its entry point for operations."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from hub.errors import HubError
from hub.observability.health import Check, HealthServer
from hub.observability.metrics import observe_serving_sync
from hub.observability.settings import ObservabilitySettings
from hub.observability.tracing import TraceContextFilter, configure_tracing

log = logging.getLogger(__name__)


class ObservabilityError(HubError):
    """A service's health endpoint cannot start (its port is taken or not allowed)."""

    exit_code = 2


def start_service(
    service: str, settings: ObservabilitySettings, checks: Sequence[Check] = ()
) -> HealthServer | None:
    """Log context and traces for `service`, and its /health, /ready and /metrics endpoint
    (None when its port is switched off, or for the portal, which serves them itself)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, TraceContextFilter) for f in handler.filters):
            handler.addFilter(TraceContextFilter(service))
    configure_tracing(settings, service=service)
    port = settings.port_for(service)
    if port is None:
        return None
    try:
        server = HealthServer(
            service, checks, host=settings.host, port=port, ready_timeout_s=settings.ready_timeout_s
        )
    except OSError as exc:
        raise ObservabilityError(
            f"observability.{service}_port: cannot listen on {settings.host}:{port} "
            f"({exc.strerror}); another process has it, or set another port"
        ) from None
    return server.start()


def timed_serving_sync(sync: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap the pipeline's after-commit serving sync so each call's duration is a metric."""

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            result = sync(*args, **kwargs)
        except Exception:
            observe_serving_sync(time.perf_counter() - started, failed=True)
            raise
        observe_serving_sync(time.perf_counter() - started)
        return result

    timed.__wrapped__ = sync  # type: ignore[attr-defined]
    return timed


def ingest_checks(settings: Any, *, connected: Callable[[], bool]) -> list[Check]:
    """Ingest is ready when its MQTT client is connected, the serving database (its station
    directory) answers and the landing zone is writable."""
    from hub.observability.checks import broker_check, database_check, directory_check

    return [
        broker_check(settings.mqtt.host, settings.mqtt.port, connected=connected),
        database_check(settings.database_url),
        directory_check("landing zone", settings.landing_dir),
    ]


def pipeline_checks(settings: Any) -> list[Check]:
    """The pipeline reads the landing zone, writes the lake and the serving database (Spark
    is added once its session is up: `checks.spark_check`)."""
    from hub.observability.checks import database_check, directory_check

    return [
        database_check(settings.database_url),
        directory_check("landing zone", settings.landing_dir, writable=False),
        directory_check("lake", settings.lake_root),
    ]


def bundle_server_health(settings: Any, artifact_root: Any) -> HealthServer | None:
    """The bundle server's /health, /ready (artifact store, serving database), /metrics."""
    from hub.observability.checks import database_check, directory_check

    return start_service(
        "bundles",
        settings.observability,
        [
            directory_check("artifact store", artifact_root, writable=False),
            database_check(settings.database_url),
        ],
    )


def workflows_health(settings: Any, *extra: Check) -> HealthServer | None:
    """The workflows scheduler's /health, /ready (serving database, broker, plus `extra`)."""
    from hub.observability.checks import broker_check, database_check

    return start_service(
        "workflows",
        settings.observability,
        [
            database_check(settings.database_url),
            broker_check(settings.mqtt.host, settings.mqtt.port),
            *extra,
        ],
    )
