"""Identifiers that travel in topics, file names and database rows.

They are deliberately narrow: they become MQTT topic levels (no '/', '+', '#'),
file names (no path separators) and partition values.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import StringConstraints

from shared.errors import InvalidIdentifier

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_ID_RE = re.compile(ID_PATTERN)

OrgId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
StationId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
CompressorId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
BatchId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]


def check_id(kind: str, value: object) -> str:
    """Return `value` if it is a valid identifier, else raise a clear error."""
    if not isinstance(value, str) or not _ID_RE.match(value) or ".." in value:
        raise InvalidIdentifier(
            f"{kind} {value!r} is not a valid identifier: use 1-64 letters, digits, "
            "'_', '-' or '.', starting with a letter or digit"
        )
    return value


def make_batch_id(station_id: str, first_seq: int, last_seq: int) -> str:
    """Batch ids name a station's contiguous sequence range, so they are readable and unique."""
    check_id("station id", station_id)
    batch_id = f"{station_id}.{first_seq:012d}-{last_seq:012d}"
    if len(batch_id) > 64:
        # Long station ids: keep the range, which is what makes the id unique per station.
        batch_id = f"{station_id[: 64 - 27]}.{first_seq:012d}-{last_seq:012d}"
    return check_id("batch id", batch_id)
