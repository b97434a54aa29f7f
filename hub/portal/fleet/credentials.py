"""Station MQTT passwords in mosquitto's own hash format, so a broker can load them."""

from __future__ import annotations

import base64
import hashlib
import os

#: mosquitto_passwd's PBKDF2-SHA512 format ("$7$"): iterations, 12-byte salt, 64-byte hash.
ITERATIONS = 101


def mosquitto_hash(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, ITERATIONS, dklen=64)
    return f"$7${ITERATIONS}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_mosquitto_hash(stored: str, password: str) -> bool:
    try:
        _, kind, iterations, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if kind != "7":
        return False
    digest = hashlib.pbkdf2_hmac(
        "sha512", password.encode(), base64.b64decode(salt_b64), int(iterations), dklen=64
    )
    return digest == base64.b64decode(digest_b64)


def username_for(org_id: str, station_id: str) -> str:
    return f"{org_id}.{station_id}"


def topic_prefix(org_id: str, station_id: str) -> str:
    return f"altaviz/v1/{org_id}/{station_id}/"


def mosquitto_files(credentials: list[tuple[str, str, str, str]]) -> tuple[str, str]:
    """(password_file, acl_file) for mosquitto from (org, station, username, hash) rows.

    Each station may publish and subscribe under its own topic prefix only.
    """
    passwords = "".join(f"{username}:{hashed}\n" for _, _, username, hashed in credentials)
    acl = "".join(
        f"user {username}\ntopic readwrite {topic_prefix(org, station)}#\n\n"
        for org, station, username, _ in credentials
    )
    return passwords, acl
