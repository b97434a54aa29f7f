"""Errors of the hub (all subclasses of the shared root)."""

from shared.errors import AltavizError


class HubError(AltavizError):
    """Root of the hub's own errors."""


class LakehouseError(HubError):
    """Spark or Delta cannot be started or a table cannot be written."""

    exit_code = 3


class BrokerError(HubError):
    """The embedded MQTT broker cannot start."""

    exit_code = 3
