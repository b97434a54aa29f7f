"""OpenTelemetry traces, off by default: to any OTLP/HTTP collector or to Azure Monitor.

Library code only asks `opentelemetry.trace.get_tracer(__name__)` for spans; without a
configured provider they cost nothing. The exporter is chosen here, once per process.
"""

from __future__ import annotations

import atexit
import logging
from typing import Any

from hub.observability.settings import ObservabilitySettings

log = logging.getLogger(__name__)

_provider: Any = None


def configure_tracing(settings: ObservabilitySettings, *, service: str) -> bool:
    """Install the exporter `settings.traces` names; True when traces are on."""
    global _provider
    if settings.traces == "none":
        return False
    if settings.traces == "azure_monitor":
        from azure.monitor.opentelemetry import configure_azure_monitor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace.sampling import ParentBasedTraceIdRatio

        assert settings.azure_connection_string is not None  # the settings validator checked
        configure_azure_monitor(
            connection_string=settings.azure_connection_string.get_secret_value(),
            resource=Resource.create({"service.name": f"altaviz-{service}"}),
            sampler=ParentBasedTraceIdRatio(settings.sample_ratio),
            enable_live_metrics=False,
        )
        log.info("traces: Azure Monitor (service altaviz-%s)", service)
        return True
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBasedTraceIdRatio

    provider = TracerProvider(
        resource=Resource.create({"service.name": f"altaviz-{service}"}),
        sampler=ParentBasedTraceIdRatio(settings.sample_ratio),
    )
    provider.add_span_processor(
        BatchSpanProcessor(
            OTLPSpanExporter(endpoint=settings.otlp_endpoint), schedule_delay_millis=500
        )
    )
    trace.set_tracer_provider(provider)
    _provider = provider
    atexit.register(shutdown_tracing)  # the last spans leave before the process does
    log.info("traces: OTLP to %s (service altaviz-%s)", settings.otlp_endpoint, service)
    return True


def shutdown_tracing() -> None:
    """Flush and stop the exporter (at process exit)."""
    global _provider
    if _provider is not None:
        _provider.shutdown()
        _provider = None


class TraceContextFilter(logging.Filter):
    """Adds the service name and, inside a span, its trace and span ids to JSON log lines."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        fields = dict(getattr(record, "fields", None) or {})
        fields.setdefault("service", self.service)
        try:
            from opentelemetry import trace

            context = trace.get_current_span().get_span_context()
            if context.is_valid:
                fields["trace_id"] = format(context.trace_id, "032x")
                fields["span_id"] = format(context.span_id, "016x")
        except ImportError:  # pragma: no cover - opentelemetry-api comes with [hub]
            pass
        record.fields = fields
        return True
