"""The station entries of mosquitto's password file and ACL file.

Each station owns one password line (`org.station:$7$...`, mosquitto's PBKDF2-SHA512 form)
and one ACL block that lets it read and write under `altaviz/v1/<org>/<station>/` only.
Anything else in the files (the hub's own service accounts, comments) is kept as it is.
Writes are atomic (temporary file + rename) under an exclusive lock, so two provisioning
commands never lose each other's lines.
"""

from __future__ import annotations

import fcntl
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hub.portal.fleet.credentials import topic_prefix

_MARK = "# altaviz station "


def acl_block(username: str, org_id: str, station_id: str) -> str:
    return (
        f"{_MARK}{username}\nuser {username}\ntopic readwrite {topic_prefix(org_id, station_id)}#\n"
    )


@contextmanager
def locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    # mosquitto drops to its own user and must read both files; they hold only hashes.
    tmp.chmod(0o644)
    os.replace(tmp, path)


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def password_users(path: Path) -> set[str]:
    return {line.split(":", 1)[0] for line in _read(path).splitlines() if ":" in line}


def set_password(path: Path, username: str, password_hash: str) -> None:
    lines = [ln for ln in _read(path).splitlines() if ln.split(":", 1)[0] != username]
    _write(path, "\n".join([*lines, f"{username}:{password_hash}"]) + "\n")


def remove_password(path: Path, username: str) -> bool:
    lines = _read(path).splitlines()
    kept = [ln for ln in lines if ln.split(":", 1)[0] != username]
    _write(path, "\n".join(kept) + ("\n" if kept else ""))
    return len(kept) != len(lines)


def _blocks(text: str) -> list[str]:
    """The ACL text as blocks separated by blank lines (mosquitto's own layout)."""
    blocks, current = [], []
    for line in text.splitlines():
        if line.strip():
            current.append(line)
        elif current:
            blocks.append("\n".join(current) + "\n")
            current = []
    if current:
        blocks.append("\n".join(current) + "\n")
    return blocks


def set_acl(path: Path, username: str, org_id: str, station_id: str) -> None:
    blocks = [b for b in _blocks(_read(path)) if not b.startswith(f"{_MARK}{username}\n")]
    blocks.append(acl_block(username, org_id, station_id))
    _write(path, "\n".join(blocks))


def remove_acl(path: Path, username: str) -> bool:
    blocks = _blocks(_read(path))
    kept = [b for b in blocks if not b.startswith(f"{_MARK}{username}\n")]
    _write(path, "\n".join(kept))
    return len(kept) != len(blocks)


def reload_broker(pid_file: Path | None) -> bool:
    """SIGHUP mosquitto so it reads both files again; False when there is no pid file."""
    if pid_file is None:
        return False
    pid = int(pid_file.read_text().strip())
    os.kill(pid, signal.SIGHUP)
    return True
