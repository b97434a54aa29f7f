"""Operations hooks of the hub's services: /health and /ready, Prometheus metrics, JSON log
context and OpenTelemetry traces (off by default).

Every service process calls `start_service(...)` once at its entry point; code that does the
work calls the `observe_*` functions of `hub.observability.metrics` (cheap, never raise).
"""
