"""Text input types: bounded, trimmed, and free of control characters (PostgreSQL refuses
NUL; the others have no business in names and notes)."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

#: No C0 control characters except tab, newline and carriage return.
PRINTABLE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=PRINTABLE)
]
ShortName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=PRINTABLE)
]
Label = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100, pattern=PRINTABLE)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000, pattern=PRINTABLE)]
RequiredNote = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000, pattern=PRINTABLE),
]
