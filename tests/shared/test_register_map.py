"""The register-map contract: encoding, decoding, quantization and loading."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from shared.errors import ConfigError, ContractError
from shared.register_map import (
    DataType,
    Endian,
    RegisterKind,
    RegisterPoint,
    decode_block,
    decode_state,
    decode_value,
    encode_image,
    encode_state,
    encode_value,
    find_register_map,
    load_register_map,
    load_register_maps,
    quantize,
    quantize_array,
    raw_to_words,
    read_plan,
    words_to_raw,
)
from shared.schema import SENSOR_FIELDS, OperatingState, Quality


def point(**fields: object) -> RegisterPoint:
    base: dict[str, object] = {
        "name": "discharge_temp_f",
        "address": 0,
        "type": "int16",
        "scale": 0.1,
        "unit": "°F",
    }
    base.update(fields)
    return RegisterPoint.model_validate(base)


def write_map(tmp_path: Path, data: dict[str, object], name: str = "panel") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


# -- the shipped maps -------------------------------------------------------------------


def test_default_maps_load_and_carry_every_reading_field() -> None:
    maps = load_register_maps()
    assert {"standard-scaled", "float32-cdab"} <= set(maps)
    for register_map in maps.values():
        for field in (*SENSOR_FIELDS, "operating_state"):
            assert register_map.has(field), f"{register_map.name} lacks {field}"
        planned = {p.name for block in read_plan(register_map) for p in block.points}
        assert planned == {p.name for p in register_map.points}


def test_find_register_map_names_the_available_maps(tmp_path: Path) -> None:
    assert find_register_map("standard-scaled").name == "standard-scaled"
    with pytest.raises(ConfigError, match="available: none"):
        find_register_map("missing", tmp_path)


# -- words on the wire -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("byte_order", "word_order", "words"),
    [
        (Endian.BIG, Endian.BIG, [0x3F80, 0x0000]),  # ABCD
        (Endian.BIG, Endian.LITTLE, [0x0000, 0x3F80]),  # CDAB
        (Endian.LITTLE, Endian.BIG, [0x803F, 0x0000]),  # BADC
        (Endian.LITTLE, Endian.LITTLE, [0x0000, 0x803F]),  # DCBA
    ],
)
def test_float32_byte_and_word_orders(
    byte_order: Endian, word_order: Endian, words: list[int]
) -> None:
    assert (
        raw_to_words(1.0, DataType.FLOAT32, byte_order=byte_order, word_order=word_order) == words
    )
    assert (
        words_to_raw(words, DataType.FLOAT32, byte_order=byte_order, word_order=word_order) == 1.0
    )


@pytest.mark.parametrize(
    ("data_type", "raw", "words"),
    [
        (DataType.INT16, -1, [0xFFFF]),
        (DataType.UINT16, 65535, [0xFFFF]),
        (DataType.INT32, -2, [0xFFFF, 0xFFFE]),
        (DataType.UINT32, 0x12345678, [0x1234, 0x5678]),
    ],
)
def test_integer_words(data_type: DataType, raw: int, words: list[int]) -> None:
    assert raw_to_words(raw, data_type, byte_order=Endian.BIG, word_order=Endian.BIG) == words
    assert words_to_raw(words, data_type, byte_order=Endian.BIG, word_order=Endian.BIG) == raw


def test_uint32_low_word_first() -> None:
    words = raw_to_words(
        0x12345678, DataType.UINT32, byte_order=Endian.BIG, word_order=Endian.LITTLE
    )
    assert words == [0x5678, 0x1234]


def test_wrong_word_count_is_a_contract_error() -> None:
    with pytest.raises(ContractError, match="2 register"):
        words_to_raw([1], DataType.FLOAT32, byte_order=Endian.BIG, word_order=Endian.BIG)
    with pytest.raises(ContractError, match=r"0\.\.65535"):
        words_to_raw([70000], DataType.UINT16, byte_order=Endian.BIG, word_order=Endian.BIG)


# -- scaling, quality ------------------------------------------------------------------------


def test_scaled_int16_round_trip_keeps_the_register_resolution() -> None:
    temp = point()
    words = encode_value(temp, 215.34)
    assert words == [2153]
    decoded = decode_value(temp, words)
    assert decoded.quality is Quality.OK
    assert decoded.value == pytest.approx(215.3)
    assert decoded.raw == 2153
    assert decode_value(temp, encode_value(temp, -12.5)).value == pytest.approx(-12.5)


def test_offset_converts_units() -> None:
    # A panel that reports °C * 10 becomes °F with scale 0.18 and offset 32.
    temp = point(scale=0.18, offset=32.0)
    assert decode_value(temp, encode_value(temp, 212.0)).value == pytest.approx(212.0)


def test_integer_encoding_saturates_like_a_panel() -> None:
    temp = point()
    assert encode_value(temp, 1e6) == [0x7FFF]
    assert decode_value(temp, encode_value(temp, 1e6)).value == pytest.approx(3276.7)


def test_not_available_and_nan_decode_to_null() -> None:
    temp = point(not_available=-32768)
    assert encode_value(temp, None) == [0x8000]
    assert decode_value(temp, [0x8000]) == (None, Quality.NOT_A_NUMBER, -32768)
    flt = point(type="float32", scale=1.0)
    nan_words = encode_value(flt, None)
    decoded = decode_value(flt, nan_words)
    assert decoded.value is None and decoded.quality is Quality.NOT_A_NUMBER
    inf = decode_value(
        flt, raw_to_words(math.inf, DataType.FLOAT32, byte_order=Endian.BIG, word_order=Endian.BIG)
    )
    assert inf.value is None and inf.quality is Quality.NOT_A_NUMBER
    with pytest.raises(ContractError, match="not_available"):
        encode_value(point(), None)


def test_out_of_range_keeps_the_value_and_flags_it() -> None:
    temp = point(valid_range=(-40, 500))
    decoded = decode_value(temp, encode_value(temp, 612.0))
    assert decoded.value == pytest.approx(612.0)
    assert decoded.quality is Quality.OUT_OF_RANGE


def test_float32_resolution_rounds_before_encoding() -> None:
    flt = point(type="float32", scale=1.0, resolution=0.1)
    value = decode_value(flt, encode_value(flt, 215.3449)).value
    assert value == pytest.approx(215.3, abs=1e-4)
    assert value == float(np.float32(215.3))


def test_quantize_matches_decode_of_encode_and_the_vector_version() -> None:
    rng = np.random.default_rng(7)
    values = np.concatenate([rng.uniform(-60, 600, 500), [0.05, 0.15, 0.25, -0.05, 2.5e5]])
    for p in (
        point(),
        point(type="uint16", scale=0.01, name="vibration_mms", unit="mm/s"),
        point(type="uint32", scale=0.1, name="gas_flow_mcf", unit="Mcf/d"),
        point(type="float32", scale=1.0, resolution=0.1),
        point(type="float32", scale=1.0),
    ):
        vector = quantize_array(p, values)
        for value, quantized in zip(values, vector, strict=True):
            decoded = decode_value(p, encode_value(p, float(value))).value
            assert quantize(p, float(value)) == decoded == quantized, (p.type, value)
    assert quantize(point(), None) is None
    assert np.isnan(quantize_array(point(), np.array([np.nan]))[0])


# -- operating state ------------------------------------------------------------------------


def test_operating_state_round_trip_and_unknown_code() -> None:
    register_map = find_register_map("standard-scaled")
    state = register_map.point("operating_state")
    for name in (OperatingState.RUNNING, OperatingState.SHUTDOWN_DEPRESSURIZED):
        assert decode_state(state, encode_state(state, name)) == (name, Quality.OK)
    assert decode_state(state, [99]) == (OperatingState.UNKNOWN, Quality.OUT_OF_RANGE)
    with pytest.raises(ContractError, match="no code"):
        encode_state(state, OperatingState.UNKNOWN)


# -- blocks and images ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["standard-scaled", "float32-cdab"])
def test_encode_image_then_decode_blocks(name: str) -> None:
    register_map = find_register_map(name)
    values: dict[str, float | str | None] = {
        "operating_state": OperatingState.RUNNING,
        "vibration_mms": 3.14,
        "discharge_temp_f": 231.27,
        "suction_pressure_psi": 62.04,
        "discharge_pressure_psi": 1041.96,
        "horsepower_consumption": 1187.4,
        "gas_flow_mcf": 11843.26,
    }
    image = encode_image(register_map, values)
    for block in read_plan(register_map):
        words = [image[block.kind].get(block.address + i, 0) for i in range(block.quantity)]
        decoded = decode_block(register_map, block, words)
        for field, result in decoded.items():
            if field not in values:
                continue
            if field == "operating_state":
                assert result == (OperatingState.RUNNING, Quality.OK)
                continue
            p = register_map.point(field)
            assert result[0] == quantize(p, float(values[field] or 0)), field
            assert result[1] is Quality.OK


def test_read_plan_splits_on_gaps_kinds_and_size() -> None:
    data = {
        "name": "split",
        "points": [
            {"name": "vibration_mms", "address": 0, "type": "uint16", "unit": "mm/s"},
            {"name": "discharge_temp_f", "address": 100, "type": "int16", "unit": "°F"},
            {
                "name": "gas_flow_mcf",
                "kind": "input",
                "address": 0,
                "type": "float32",
                "unit": "Mcf/d",
            },
        ],
    }
    from shared.register_map import parse_register_map

    register_map = parse_register_map(data, source="test")
    blocks = read_plan(register_map)
    assert [(b.kind, b.address, b.quantity) for b in blocks] == [
        (RegisterKind.HOLDING, 0, 1),
        (RegisterKind.HOLDING, 100, 1),
        (RegisterKind.INPUT, 0, 2),
    ]
    assert len(read_plan(register_map, max_gap=200)) == 2


# -- loader errors name the file, the point and the problem ---------------------------------


def minimal_map(**point_fields: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "name": "discharge_temp_f",
        "address": 0,
        "type": "int16",
        "unit": "°F",
    }
    fields.update(point_fields)
    return {
        "points": [
            {"name": "vibration_mms", "address": 10, "type": "uint16", "unit": "mm/s"},
            fields,
        ]
    }


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"address": 10}, "already used by 'vibration_mms'"),
        ({"unit": "°C"}, "does not match the reading unit '°F'"),
        ({"name": "discharge_tmp_f"}, "unknown field 'discharge_tmp_f'"),
        ({"scale": 0.1, "valid_range": [-40, 5000]}, "not representable as int16"),
        ({"scale": 0}, "scale must be a finite number > 0"),
        ({"type": "int64"}, "type"),
        ({"word_order": "little"}, "32-bit types only"),
        ({"not_available": 70000}, "does not fit int16"),
        ({"states": {0: "running"}}, "only for the operating_state point"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_loader_errors_name_file_point_and_problem(
    tmp_path: Path, fields: dict[str, object], problem: str
) -> None:
    path = write_map(tmp_path, minimal_map(**fields))
    with pytest.raises(ConfigError) as caught:
        load_register_map(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    assert "points[1]" in message
    assert problem in message


def test_loader_rejects_bad_state_tables_and_files(tmp_path: Path) -> None:
    bad_state = {
        "points": [
            {
                "name": "operating_state",
                "address": 0,
                "type": "uint16",
                "unit": "code",
                "states": {0: "idling"},
            }
        ]
    }
    with pytest.raises(ConfigError, match=r"point 'operating_state' \(points\[0\]\).*idling"):
        load_register_map(write_map(tmp_path, bad_state))
    with pytest.raises(ConfigError, match="does not match the file name"):
        load_register_map(write_map(tmp_path, {"name": "other", **minimal_map()}))
    broken = tmp_path / "broken.yaml"
    broken.write_text("points: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_register_map(broken)
    with pytest.raises(ConfigError, match="cannot read"):
        load_register_map(tmp_path / "absent.yaml")
    with pytest.raises(ConfigError, match="at least one point"):
        load_register_map(write_map(tmp_path, {"points": []}))
