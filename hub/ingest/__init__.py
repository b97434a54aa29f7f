"""Telemetry ingest: validate, land durably and idempotently, then acknowledge."""
