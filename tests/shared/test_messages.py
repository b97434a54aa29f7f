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
