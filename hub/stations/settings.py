"""Where the broker's station credentials live (`stations:` in hub.yaml)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict


class StationProvisioningSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: mosquitto `password_file` the broker reads (this hub writes the station entries).
    password_file: Path = Path("var/hub/broker/passwd")
    #: mosquitto `acl_file`: each station reads and writes under its own topics only.
    acl_file: Path = Path("var/hub/broker/acl")
    #: mosquitto's `pid_file`: after a change the broker is sent SIGHUP to reload both files
    #: (None: reload it yourself, e.g. `docker compose kill -s HUP mosquitto`).
    broker_pid_file: Path | None = None
    #: What the edge config written by `provision` tells a gateway about the broker.
    broker_host: str = "127.0.0.1"
    broker_port: int = 1883
    broker_tls: bool = False
    #: The CA file the gateway checks the broker's certificate with (copied into the config).
    broker_ca_file: Path | None = None
