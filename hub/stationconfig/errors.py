"""Errors of station configuration at the hub."""

from hub.errors import HubError


class StationConfigHubError(HubError):
    """Root: a configuration could not be prepared or published."""


class InvalidConfigInput(StationConfigHubError):
    """The edited document is not valid YAML, names an unknown section, or fails the schema."""

    exit_code = 2


class PublishFailed(StationConfigHubError):
    """The broker did not take the document (nothing was stored as desired)."""

    exit_code = 3
