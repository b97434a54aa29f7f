from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shared.batch import BatchMeta, decode_batch, encode_batch, read_batch_meta
from shared.errors import (
    BatchContentError,
    BatchCorrupt,
    BatchMetadataError,
    BatchSchemaError,
    BatchTooLarge,
)
from shared.reading_table import READING_SCHEMA
from shared.schema import Quality
from tests.support.factories import batch_meta, batch_payload, readings


def test_round_trip_keeps_rows_and_identity() -> None:
    table = readings(50, compressors=3)
    meta = batch_meta(table)
    decoded = decode_batch(
        encode_batch(table, meta), expected_org="org-a", expected_station="STATION-1"
    )
    assert decoded.meta.batch_id == meta.batch_id
    assert (decoded.meta.first_seq, decoded.meta.last_seq, decoded.meta.row_count) == (1, 50, 50)
    assert decoded.table.schema.equals(READING_SCHEMA, check_metadata=False)
    assert sorted(decoded.table.column("seq").to_pylist()) == list(range(1, 51))
    original = table.sort_by("seq").column("discharge_temp_f").to_pylist()
    assert decoded.table.sort_by("seq").column("discharge_temp_f").to_pylist() == original


def test_metadata_is_readable_from_the_footer_alone() -> None:
    meta = read_batch_meta(batch_payload(5))
    assert meta.station_id == "STATION-1" and meta.schema_version == 1


def test_oversized_payload_is_refused_with_sizes() -> None:
    payload = batch_payload(200)
    with pytest.raises(BatchTooLarge, match=rf"{len(payload)} bytes, above the 1024-byte limit"):
        decode_batch(payload, max_bytes=1024)


@pytest.mark.parametrize("payload", [b"", b"not parquet at all", b"PAR1" + b"\0" * 40 + b"PAR1"])
def test_garbage_is_corrupt(payload: bytes) -> None:
    with pytest.raises(BatchCorrupt):
        decode_batch(payload)


def test_truncated_file_is_corrupt() -> None:
    payload = batch_payload(20)
    with pytest.raises(BatchCorrupt, match="Parquet"):
        decode_batch(payload[: len(payload) // 2])


def test_station_mismatch_between_topic_and_metadata() -> None:
    with pytest.raises(
        BatchMetadataError,
        match=r"names station 'STATION-1' but it was sent by station 'STATION-2'",
    ):
        decode_batch(batch_payload(5), expected_station="STATION-2")


def test_rows_of_another_station_are_refused() -> None:
    table = readings(4, station_id="STATION-9")
    meta = batch_meta(readings(4))  # says STATION-1
    with pytest.raises(BatchContentError, match="rows name station\\(s\\) 'STATION-9'"):
        decode_batch(encode_batch(table, meta))


def test_missing_metadata_keys_are_named() -> None:
    sink = io.BytesIO()
    pq.write_table(readings(3), sink)
    with pytest.raises(BatchMetadataError, match=r"missing altaviz\.org_id"):
        decode_batch(sink.getvalue())


def test_wrong_row_count_in_metadata() -> None:
    table = readings(6)
    meta = batch_meta(table)
    payload = encode_batch(table, meta)
    forged = BatchMeta(**{**meta.__dict__, "row_count": 7})
    tampered = pa.table(decode_batch(payload).table).replace_schema_metadata(forged.to_kv())
    sink = io.BytesIO()
    pq.write_table(tampered, sink)
    with pytest.raises(BatchMetadataError, match="row_count=7 but the batch has 6 rows"):
        decode_batch(sink.getvalue())


def test_sequence_range_must_match_rows() -> None:
    table = readings(5)
    with pytest.raises(BatchMetadataError, match=r"seq 1\.\.9 but rows span 1\.\.5"):
        decode_batch(encode_batch(table, batch_meta(table, last_seq=9)))


def test_repeated_sequence_number() -> None:
    table = readings(4, seq=[1, 2, 2, 4])
    with pytest.raises(BatchContentError, match="repeats a sequence number"):
        decode_batch(encode_batch(table, batch_meta(table)))


def test_schema_problems_are_listed() -> None:
    table = readings(3).drop_columns(["gas_flow_mcf"]).append_column("extra", pa.array([1, 2, 3]))
    table = table.replace_schema_metadata(batch_meta(readings(3)).to_kv())
    sink = io.BytesIO()
    pq.write_table(table, sink)
    with pytest.raises(
        BatchSchemaError, match="missing column\\(s\\) gas_flow_mcf; unexpected column\\(s\\) extra"
    ):
        decode_batch(sink.getvalue())


def test_nan_marked_ok_is_refused_but_nan_flagged_is_fine() -> None:
    bad = readings(3, discharge_temp_f=[215.0, float("nan"), 216.0])
    with pytest.raises(BatchContentError, match="discharge_temp_f has 1 NaN/infinite value"):
        decode_batch(encode_batch(bad, batch_meta(bad)))
    flagged = readings(
        3,
        discharge_temp_f=[215.0, None, 216.0],
        discharge_temp_f_quality=[0, int(Quality.NOT_A_NUMBER), 0],
    )
    decoded = decode_batch(encode_batch(flagged, batch_meta(flagged)))
    assert decoded.table.column("discharge_temp_f").null_count == 1


def test_unknown_schema_version() -> None:
    table = readings(2)
    with pytest.raises(BatchMetadataError, match="schema version 99 is not supported"):
        decode_batch(encode_batch(table, batch_meta(table, schema_version=99)))


def test_unknown_operating_state() -> None:
    table = readings(2, operating_state=["running", "exploding"])
    with pytest.raises(BatchContentError, match="unknown operating_state value\\(s\\) 'exploding'"):
        decode_batch(encode_batch(table, batch_meta(table)))


def test_quantized_floats_are_dictionary_encoded_never_byte_stream_split() -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from shared.batch import encode_batch
    from tests.support.factories import batch_meta, readings

    table = readings(5_000)
    meta = pq.ParquetFile(pa.BufferReader(encode_batch(table, batch_meta(table)))).metadata
    for i in range(meta.num_columns):
        column = meta.row_group(0).column(i)
        assert "BYTE_STREAM_SPLIT" not in column.encodings, column.path_in_schema
        if column.path_in_schema == "discharge_temp_f":
            assert "RLE_DICTIONARY" in column.encodings
