"""The root of every error our packages raise on purpose.

Entry points map these to process exit codes in one place (`shared.cli_support`);
the portal maps them to HTTP statuses in one place.
"""

from __future__ import annotations


class AltavizError(Exception):
    """Base class for errors that carry a message meant for a person."""

    exit_code = 1


class ConfigError(AltavizError):
    """A configuration file or environment override is unusable."""

    exit_code = 2


class ContractError(AltavizError):
    """Data crossing a boundary does not follow the shared contract."""


class InvalidIdentifier(ContractError):
    """An org, station, compressor or batch id has characters we do not allow."""


class TopicError(ContractError):
    """An MQTT topic does not follow the v1 topic layout."""


class MessageError(ContractError):
    """A JSON control message (ack, alarm, status, manifest) is malformed."""


class BatchError(ContractError):
    """A telemetry batch was refused; `reason` is a short machine-readable code."""

    reason = "invalid_batch"


class BatchTooLarge(BatchError):
    reason = "too_large"


class BatchCorrupt(BatchError):
    """The payload is not a readable Parquet file."""

    reason = "corrupt"


class BatchMetadataError(BatchError):
    """Key-value metadata is missing, malformed or disagrees with the rows."""

    reason = "bad_metadata"


class BatchSchemaError(BatchError):
    """Columns are missing, extra or of the wrong type."""

    reason = "bad_schema"


class BatchContentError(BatchError):
    """Rows break an invariant (station, sequence numbers, nulls)."""

    reason = "bad_content"
