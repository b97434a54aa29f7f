"""Settings of the hub's health endpoints, metrics and traces (`observability:` in hub.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

Port = int | None


class ObservabilitySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Address of the /health, /ready and /metrics endpoint of the services without their own
    #: HTTP server (ingest, pipeline, workflows, bundle server); 0.0.0.0 in a container.
    host: str = "127.0.0.1"
    #: Its port per service: None switches it off, 0 takes any free port (tests).
    ingest_port: Port = Field(9101, ge=0, le=65535)
    pipeline_port: Port = Field(9102, ge=0, le=65535)
    workflows_port: Port = Field(9103, ge=0, le=65535)
    bundles_port: Port = Field(9104, ge=0, le=65535)
    #: A dependency check of /ready gives up after this long and names the dependency.
    ready_timeout_s: float = Field(2.0, gt=0, le=30)
    #: OpenTelemetry traces: off, to an OTLP/HTTP collector, or to Azure Monitor.
    traces: Literal["none", "otlp", "azure_monitor"] = "none"
    #: OTLP/HTTP traces endpoint, e.g. http://otel-collector:4318/v1/traces.
    otlp_endpoint: str | None = None
    #: Application Insights connection string (from Key Vault through the environment:
    #: ALTAVIZ_HUB_OBSERVABILITY__AZURE_CONNECTION_STRING).
    azure_connection_string: SecretStr | None = None
    #: Share of traces kept (parent-based ratio sampling).
    sample_ratio: float = Field(1.0, ge=0, le=1)

    @model_validator(mode="after")
    def _exporter_configured(self) -> ObservabilitySettings:
        if self.traces == "otlp" and not self.otlp_endpoint:
            raise ValueError("traces: otlp needs otlp_endpoint")
        if self.traces == "azure_monitor" and not self.azure_connection_string:
            raise ValueError("traces: azure_monitor needs azure_connection_string")
        return self

    def port_for(self, service: str) -> Port:
        return {
            "ingest": self.ingest_port,
            "pipeline": self.pipeline_port,
            "workflows": self.workflows_port,
            "bundles": self.bundles_port,
        }.get(service)
