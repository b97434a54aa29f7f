import pytest

from shared.errors import InvalidIdentifier, TopicError
from shared.ids import check_id, make_batch_id
from shared.topics import (
    Kind,
    parse_topic,
    shared_subscription,
    station_prefix,
    subscription,
    topic,
)


def test_topic_round_trip() -> None:
    name = topic("org-a", "STATION-1", Kind.TELEMETRY)
    assert name == "altaviz/v1/org-a/STATION-1/telemetry"
    address = parse_topic(name)
    assert (address.org_id, address.station_id, address.kind) == (
        "org-a",
        "STATION-1",
        Kind.TELEMETRY,
    )
    assert address.topic == name


def test_subscriptions() -> None:
    assert subscription(Kind.ACK, org_id="o", station_id="s") == "altaviz/v1/o/s/ack"
    assert shared_subscription("ingest", Kind.TELEMETRY) == "$share/ingest/altaviz/v1/+/+/telemetry"
    assert station_prefix("o", "s") == "altaviz/v1/o/s/"


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("altaviz/v2/o/s/telemetry", "not of the form"),
        ("altaviz/v1/o/s/telemetry/extra", "not of the form"),
        ("altaviz/v1/o/s/selfies", "ends in 'selfies'"),
        ("altaviz/v1/o/+/telemetry", "station id '\\+' is not a valid identifier"),
    ],
)
def test_bad_topics_say_why(name: str, problem: str) -> None:
    with pytest.raises(TopicError, match=problem):
        parse_topic(name)


@pytest.mark.parametrize("bad", ["", "a/b", "a+b", "#", "../etc", "-lead", "x" * 65, "a..b"])
def test_identifiers_reject_topic_and_path_characters(bad: str) -> None:
    with pytest.raises(InvalidIdentifier):
        check_id("station id", bad)


def test_batch_ids_are_readable_and_bounded() -> None:
    assert make_batch_id("STATION-1", 1, 500) == "STATION-1.000000000001-000000000500"
    long_id = make_batch_id("S" * 64, 1, 2)
    assert len(long_id) <= 64 and long_id.endswith("000000000001-000000000002")
