"""Pure parts of delivery: the webhook signature a receiver checks, quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime

from hub.workflows.channels import sign, verify
from hub.workflows.models import NotificationPreference
from hub.workflows.notify import in_quiet_hours

BODY = b'{"id":"abc","event":"escalated"}'


def test_signature_checks_key_body_and_freshness() -> None:
    signature = sign("key-1", "1700000000", BODY)
    assert signature.startswith("v1=") and len(signature) == 3 + 64
    assert verify("key-1", "1700000000", BODY, signature, now=1700000100, tolerance_s=300)
    assert not verify("key-2", "1700000000", BODY, signature, now=1700000100, tolerance_s=300)
    assert not verify(
        "key-1", "1700000000", BODY + b" ", signature, now=1700000100, tolerance_s=300
    )
    assert not verify("key-1", "1700000001", BODY, signature, now=1700000100, tolerance_s=300)
    assert not verify(
        "key-1", "1700000000", BODY, signature, now=1700000400, tolerance_s=300
    )  # replay
    assert not verify("key-1", "soon", BODY, signature, now=1700000100, tolerance_s=300)


def test_quiet_hours_in_the_members_time_zone_across_midnight() -> None:
    night = NotificationPreference(
        quiet_start="22:00", quiet_end="06:00", timezone="America/Chicago"
    )
    # 03:30 UTC on 1 July is 22:30 in Chicago (CDT, UTC-5): quiet; 12:00 UTC is 07:00: not.
    assert in_quiet_hours(night, datetime(2026, 7, 1, 3, 30, tzinfo=UTC))
    assert not in_quiet_hours(night, datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
    assert in_quiet_hours(night, datetime(2026, 7, 1, 10, 59, tzinfo=UTC))  # 05:59 local
    assert not in_quiet_hours(night, datetime(2026, 7, 1, 11, 0, tzinfo=UTC))  # 06:00 local
    never = NotificationPreference(quiet_start=None, quiet_end=None, timezone="UTC")
    assert not in_quiet_hours(never, datetime(2026, 7, 1, 3, 30, tzinfo=UTC))
