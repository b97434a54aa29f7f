import pytest

from shared.errors import MessageError
from shared.messages import Ack, AckStatus, decode_message, encode_message


def test_ack_round_trip() -> None:
    ack = Ack(batch_id="S.1-2", status=AckStatus.DURABLE, first_seq=1, last_seq=2)
    assert decode_message(encode_message(ack), Ack) == ack


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (b"{not json", "not JSON"),
        (b'{"batch_id": "x", "status": "maybe"}', "status"),
        (b'{"batch_id": "a/b", "status": "durable"}', "batch_id"),
        (b'{"batch_id": "x", "status": "durable", "surprise": 1}', "surprise"),
        (b"x" * 70000, "above"),
    ],
)
def test_malformed_acks_say_what_is_wrong(payload: bytes, problem: str) -> None:
    with pytest.raises(MessageError, match=problem):
        decode_message(payload, Ack)


def test_station_status_from_before_the_extension_still_parses() -> None:
    from shared.messages import StationStatus

    old = b'{"online": true, "agent_version": "0.1.0", "backlog_readings": 5}'
    status = decode_message(old, StationStatus)
    assert status.backlog_readings == 5 and status.forced_out_readings == 0
    assert status.last_model_update is None and status.panels == {}


def test_alarm_round_trip() -> None:
    from shared.messages import Alarm, AlarmEvent, AlarmSeverity

    alarm = Alarm(
        episode_id="e1",
        event=AlarmEvent.RAISED,
        org_id="org-a",
        station_id="S1",
        compressor_id="C01",
        condition="high_discharge_temp",
        severity=AlarmSeverity.WARNING,
        raised_at="2026-01-01T00:00:00+00:00",
        metric="discharge_temp_f",
        value=262.5,
        threshold=260.0,
    )
    assert decode_message(encode_message(alarm), Alarm) == alarm
