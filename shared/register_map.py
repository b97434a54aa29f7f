"""The Modbus register-map contract: where a panel keeps each value and how it is encoded.

One YAML file per map in `config/register_maps/<name>.yaml`; a station names its
map in `config/fleet.yaml`. The simulator's panel emulator (server) and the edge
agent's Modbus acquisition (client) both encode and decode through this module, so
the two sides cannot disagree about a register.

Conventions (documented in docs/simulator.md):

- `address` is the 0-based protocol address sent in the request PDU
  (Modicon "40001" is holding address 0; mbpoll needs `-0` to use it as is).
- physical value = raw * scale + offset, computed in float64; the unit is the
  unit *after* scaling and must equal the reading schema's unit for a sensor.
- 32-bit values span two registers: `word_order: big` sends the high word first
  (ABCD), `little` the low word first (CDAB). The map's `byte_order` is the order
  of the two bytes inside every register (`big` is the Modbus standard; `little`
  gives BADC / DCBA).
- `not_available`: a raw integer the panel sends when it has no value (a failed
  transmitter); float32 points use NaN instead. Both decode to null + NOT_A_NUMBER.
- a value outside `valid_range` decodes with quality OUT_OF_RANGE and keeps its value.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shared.errors import ConfigError, ContractError
from shared.schema import SENSOR_FIELDS, SENSOR_UNITS, OperatingState, Quality

#: Where the default maps live, relative to the repository root.
DEFAULT_MAPS_DIR = Path(__file__).resolve().parents[1] / "config" / "register_maps"

#: The point that carries the unit's operating state (an enumerated status register).
STATE_POINT = "operating_state"

#: The panel controller's real-time clock (Unix seconds, UTC) at the instant its values are from.
CLOCK_POINT = "panel_clock_s"

#: Values a panel may expose besides the six reading sensors. They do not enter the
#: reading schema (v1); an acquisition client may read or ignore them.
AUXILIARY_FIELDS: dict[str, str] = {
    "suction_temp_f": "°F",
    "ambient_temp_f": "°F",
    "speed_rpm": "rpm",
    CLOCK_POINT: "s",
}

#: The largest register count one read request may ask for (Modbus spec: 125).
MAX_READ_REGISTERS = 125


class RegisterKind(StrEnum):
    HOLDING = "holding"  # function code 3
    INPUT = "input"  # function code 4

    @property
    def function_code(self) -> int:
        return 3 if self is RegisterKind.HOLDING else 4


class DataType(StrEnum):
    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    FLOAT32 = "float32"

    @property
    def width(self) -> int:
        """Registers (16-bit words) the type occupies."""
        return 1 if self in (DataType.INT16, DataType.UINT16) else 2

    @property
    def is_integer(self) -> bool:
        return self is not DataType.FLOAT32

    @property
    def raw_limits(self) -> tuple[int, int]:
        return _RAW_LIMITS[self]


_RAW_LIMITS: dict[DataType, tuple[int, int]] = {
    DataType.INT16: (-(2**15), 2**15 - 1),
    DataType.UINT16: (0, 2**16 - 1),
    DataType.INT32: (-(2**31), 2**31 - 1),
    DataType.UINT32: (0, 2**32 - 1),
    DataType.FLOAT32: (-(2**128), 2**128),  # not used for clipping
}

_STRUCT_CODE: dict[DataType, str] = {
    DataType.INT16: "h",
    DataType.UINT16: "H",
    DataType.INT32: "i",
    DataType.UINT32: "I",
    DataType.FLOAT32: "f",
}


_FLOAT32_MAX = float(np.finfo(np.float32).max)


class Endian(StrEnum):
    BIG = "big"
    LITTLE = "little"


class RegisterPoint(BaseModel):
    """One value on the panel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    kind: RegisterKind = RegisterKind.HOLDING
    address: int = Field(ge=0, le=65535)
    type: DataType
    #: 32-bit types only; None = the map's `word_order`.
    word_order: Endian | None = None
    scale: float = 1.0
    offset: float = 0.0
    unit: str
    #: Physical limits (after scaling) outside which a value is OUT_OF_RANGE.
    valid_range: tuple[float, float] | None = None
    #: Raw integer meaning "no value" (integer types only).
    not_available: int | None = None
    #: float32 points: the step the panel rounds the physical value to before encoding.
    resolution: float | None = None
    #: Enumerated status registers: raw code -> operating state.
    states: dict[int, str] | None = None
    description: str = ""

    @field_validator("scale")
    @classmethod
    def _scale_nonzero(cls, scale: float) -> float:
        if not math.isfinite(scale) or scale <= 0:
            raise ValueError("scale must be a finite number > 0")
        return scale

    @field_validator("resolution")
    @classmethod
    def _resolution_positive(cls, resolution: float | None) -> float | None:
        if resolution is not None and (not math.isfinite(resolution) or resolution <= 0):
            raise ValueError("resolution must be a finite number > 0")
        return resolution

    @model_validator(mode="after")
    def _consistent(self) -> RegisterPoint:
        known = (*SENSOR_FIELDS, STATE_POINT, *AUXILIARY_FIELDS)
        if self.name not in known:
            raise ValueError(f"unknown field {self.name!r} (known: {', '.join(known)})")
        if self.address + self.type.width - 1 > 65535:
            raise ValueError(f"{self.type} at address {self.address} runs past 65535")
        if self.word_order is not None and self.type.width == 1:
            raise ValueError("word_order applies to 32-bit types only")
        expected_unit = SENSOR_UNITS.get(self.name) or AUXILIARY_FIELDS.get(self.name)
        if expected_unit is not None and self.unit != expected_unit:
            raise ValueError(
                f"unit {self.unit!r} does not match the reading unit {expected_unit!r} "
                "(convert with scale and offset)"
            )
        self._check_state()
        self._check_range()
        if self.not_available is not None:
            if not self.type.is_integer:
                raise ValueError("not_available applies to integer types (float32 uses NaN)")
            low, high = self.type.raw_limits
            if not low <= self.not_available <= high:
                raise ValueError(f"not_available {self.not_available} does not fit {self.type}")
        if self.resolution is not None and self.type.is_integer:
            raise ValueError("resolution applies to float32 (integer points resolve to scale)")
        return self

    def _check_state(self) -> None:
        if self.name == STATE_POINT:
            if not self.states:
                raise ValueError("operating_state needs a `states` table (raw code -> state)")
            if not self.type.is_integer or self.scale != 1 or self.offset != 0:
                raise ValueError("operating_state must be an unscaled integer register")
            bad = sorted(set(self.states.values()) - set(OperatingState.ALL))
            if bad:
                raise ValueError(f"states: unknown operating state(s) {bad}")
            low, high = self.type.raw_limits
            if any(not low <= code <= high for code in self.states):
                raise ValueError(f"states: a code does not fit {self.type}")
        elif self.states is not None:
            raise ValueError("`states` is only for the operating_state point")

    def _check_range(self) -> None:
        if self.valid_range is None:
            return
        low, high = self.valid_range
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"valid_range {list(self.valid_range)} must be [min, max], min < max")
        if self.type.is_integer:
            raw_low, raw_high = self.type.raw_limits
            phys_low = raw_low * self.scale + self.offset
            phys_high = raw_high * self.scale + self.offset
            if low < phys_low or high > phys_high:
                raise ValueError(
                    f"valid_range {list(self.valid_range)} is not representable as {self.type} "
                    f"with scale {self.scale:g} and offset {self.offset:g} "
                    f"(representable: [{phys_low:g}, {phys_high:g}])"
                )

    @property
    def width(self) -> int:
        return self.type.width

    @property
    def step(self) -> float | None:
        """The resolution a client sees: scale for integers, `resolution` (or None) for float32."""
        return self.scale if self.type.is_integer else self.resolution


class RegisterMap(BaseModel):
    """A panel's register layout."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    version: int = 1
    #: Byte order inside each 16-bit register.
    byte_order: Endian = Endian.BIG
    #: Default word order of 32-bit points.
    word_order: Endian = Endian.BIG
    points: tuple[RegisterPoint, ...]

    @model_validator(mode="after")
    def _no_overlap(self) -> RegisterMap:
        if not self.points:
            raise ValueError("a register map needs at least one point")
        seen: set[str] = set()
        used: dict[tuple[RegisterKind, int], str] = {}
        for index, point in enumerate(self.points):
            label = f"point {point.name!r} (points[{index}])"
            if point.name in seen:
                raise ValueError(f"{label}: defined twice")
            seen.add(point.name)
            for address in range(point.address, point.address + point.width):
                if (point.kind, address) in used:
                    raise ValueError(
                        f"{label}: {point.kind} register {address} is already used by "
                        f"{used[(point.kind, address)]!r}"
                    )
                used[(point.kind, address)] = point.name
        return self

    def point(self, name: str) -> RegisterPoint:
        for point in self.points:
            if point.name == name:
                return point
        raise KeyError(name)

    def has(self, name: str) -> bool:
        return any(point.name == name for point in self.points)

    def word_order_of(self, point: RegisterPoint) -> Endian:
        return point.word_order or self.word_order

    def encode(self, name: str, value: float | str | None) -> list[int]:
        point = self.point(name)
        if point.name == STATE_POINT:
            return encode_state(point, str(value), byte_order=self.byte_order)
        number = None if value is None else float(value)
        return encode_value(
            point, number, byte_order=self.byte_order, word_order=self.word_order_of(point)
        )

    def decode(self, name: str, words: Sequence[int]) -> Decoded:
        point = self.point(name)
        return decode_value(
            point, words, byte_order=self.byte_order, word_order=self.word_order_of(point)
        )


class Decoded(NamedTuple):
    """A decoded register value: physical value (or None) and its quality code."""

    value: float | None
    quality: Quality
    raw: int | float | None


class ReadBlock(NamedTuple):
    """A contiguous range of registers to fetch with one request."""

    kind: RegisterKind
    address: int
    quantity: int
    points: tuple[RegisterPoint, ...]


# -- scalar encode / decode --------------------------------------------------------


def _swap16(word: int) -> int:
    return ((word & 0xFF) << 8) | (word >> 8)


def raw_to_words(
    raw: int | float, data_type: DataType, *, byte_order: Endian, word_order: Endian
) -> list[int]:
    """Pack one raw value into register words as they travel (word 0 first)."""
    try:
        packed = struct.pack(">" + _STRUCT_CODE[data_type], raw)
    except (struct.error, OverflowError) as exc:
        raise ContractError(f"cannot encode {raw!r} as {data_type}: {exc}") from None
    words = [int.from_bytes(packed[i : i + 2], "big") for i in range(0, len(packed), 2)]
    if len(words) == 2 and word_order is Endian.LITTLE:
        words.reverse()
    if byte_order is Endian.LITTLE:
        words = [_swap16(w) for w in words]
    return words


def words_to_raw(
    words: Sequence[int], data_type: DataType, *, byte_order: Endian, word_order: Endian
) -> int | float:
    """Unpack register words (word 0 first) into the raw value."""
    if len(words) != data_type.width:
        raise ContractError(f"{data_type} needs {data_type.width} register(s), got {len(words)}")
    ordered = [int(w) for w in words]
    if any(not 0 <= w <= 0xFFFF for w in ordered):
        raise ContractError(f"register words must be 0..65535, got {ordered}")
    if byte_order is Endian.LITTLE:
        ordered = [_swap16(w) for w in ordered]
    if len(ordered) == 2 and word_order is Endian.LITTLE:
        ordered.reverse()
    packed = b"".join(w.to_bytes(2, "big") for w in ordered)
    raw: int | float = struct.unpack(">" + _STRUCT_CODE[data_type], packed)[0]
    return raw


def physical_to_raw(point: RegisterPoint, value: float) -> int | float:
    """Scale a physical value to the raw register value, as a panel would (saturating)."""
    if not point.type.is_integer:
        if point.resolution is not None and math.isfinite(value):
            value = round(value / point.resolution) * point.resolution
        return (value - point.offset) / point.scale
    if not math.isfinite(value):
        raise ContractError(f"point {point.name!r}: cannot encode {value} as {point.type}")
    low, high = point.type.raw_limits
    return int(min(max(round((value - point.offset) / point.scale), low), high))


def encode_value(
    point: RegisterPoint,
    value: float | None,
    *,
    byte_order: Endian = Endian.BIG,
    word_order: Endian = Endian.BIG,
) -> list[int]:
    """Physical value -> register words. None (no value) becomes NaN or `not_available`."""
    if value is None or not math.isfinite(value):
        if point.type is DataType.FLOAT32:
            raw: int | float = math.nan if value is None else value
        elif point.not_available is not None:
            raw = point.not_available
        else:
            raise ContractError(
                f"point {point.name!r}: no value to encode and no `not_available` code"
            )
    else:
        raw = physical_to_raw(point, value)
    return raw_to_words(raw, point.type, byte_order=byte_order, word_order=word_order)


def decode_value(
    point: RegisterPoint,
    words: Sequence[int],
    *,
    byte_order: Endian = Endian.BIG,
    word_order: Endian = Endian.BIG,
) -> Decoded:
    """Register words -> (physical value, quality). Never raises on a bad value."""
    raw = words_to_raw(words, point.type, byte_order=byte_order, word_order=word_order)
    if point.not_available is not None and raw == point.not_available:
        return Decoded(None, Quality.NOT_A_NUMBER, raw)
    if isinstance(raw, float) and not math.isfinite(raw):
        return Decoded(None, Quality.NOT_A_NUMBER, raw)
    value = float(raw) * point.scale + point.offset
    if not math.isfinite(value):
        return Decoded(None, Quality.NOT_A_NUMBER, raw)
    if point.valid_range is not None:
        low, high = point.valid_range
        if not low <= value <= high:
            return Decoded(value, Quality.OUT_OF_RANGE, raw)
    return Decoded(value, Quality.OK, raw)


def encode_state(point: RegisterPoint, state: str, *, byte_order: Endian = Endian.BIG) -> list[int]:
    """Operating state -> status register word(s)."""
    assert point.states is not None
    codes = {name: code for code, name in sorted(point.states.items(), reverse=True)}
    if state not in codes:
        raise ContractError(f"point {point.name!r}: no code for operating state {state!r}")
    return raw_to_words(codes[state], point.type, byte_order=byte_order, word_order=Endian.BIG)


def decode_state(
    point: RegisterPoint, words: Sequence[int], *, byte_order: Endian = Endian.BIG
) -> tuple[str, Quality]:
    """Status register -> (operating state, quality); an unknown code is UNKNOWN + OUT_OF_RANGE."""
    assert point.states is not None
    raw = words_to_raw(words, point.type, byte_order=byte_order, word_order=Endian.BIG)
    state = point.states.get(int(raw))
    if state is None:
        return OperatingState.UNKNOWN, Quality.OUT_OF_RANGE
    return state, Quality.OK


def quantize(point: RegisterPoint, value: float | None) -> float | None:
    """The physical value a client decodes after `value` went through the register."""
    if value is None or not math.isfinite(value):
        return None
    raw = physical_to_raw(point, value)
    if not point.type.is_integer:
        # float32 on the wire: the value a client sees is the float32 rounding.
        raw = float(np.float32(raw)) if abs(raw) <= _FLOAT32_MAX else math.copysign(math.inf, raw)
    return float(raw) * point.scale + point.offset


def quantize_array(point: RegisterPoint, values: np.ndarray) -> np.ndarray:
    """Vectorized `quantize` (float64 in, float64 out; NaN stays NaN).

    Agrees exactly with `quantize`: the same half-to-even rounding, saturation and
    raw * scale + offset in float64.
    """
    values = np.asarray(values, dtype=np.float64)
    if point.type.is_integer:
        low, high = point.type.raw_limits
        with np.errstate(invalid="ignore"):
            raw = np.clip(np.round((values - point.offset) / point.scale), low, high)
        return raw * point.scale + point.offset
    if point.resolution is not None:
        values = np.round(values / point.resolution) * point.resolution
    with np.errstate(over="ignore", invalid="ignore"):
        raw32 = ((values - point.offset) / point.scale).astype(np.float32)
    return raw32.astype(np.float64) * point.scale + point.offset


# -- reading plans --------------------------------------------------------------------


def read_plan(
    register_map: RegisterMap,
    *,
    names: Iterable[str] | None = None,
    max_count: int = MAX_READ_REGISTERS,
    max_gap: int = 8,
) -> list[ReadBlock]:
    """Group points into as few read requests as possible.

    Points of one kind whose addresses are at most `max_gap` registers apart share a
    request, up to `max_count` registers. Useful for a polling client and for tests.
    """
    if not 1 <= max_count <= MAX_READ_REGISTERS:
        raise ContractError(f"max_count must be 1..{MAX_READ_REGISTERS}")
    wanted = set(names) if names is not None else None
    blocks: list[ReadBlock] = []
    for kind in RegisterKind:
        points = sorted(
            (
                p
                for p in register_map.points
                if p.kind is kind and (wanted is None or p.name in wanted)
            ),
            key=lambda p: p.address,
        )
        current: list[RegisterPoint] = []
        for point in points:
            if current:
                start = current[0].address
                end = max(p.address + p.width for p in current)
                new_end = max(end, point.address + point.width)
                if point.address - end <= max_gap and new_end - start <= max_count:
                    current.append(point)
                    continue
                blocks.append(_block(kind, current))
            current = [point]
        if current:
            blocks.append(_block(kind, current))
    return blocks


def _block(kind: RegisterKind, points: list[RegisterPoint]) -> ReadBlock:
    start = points[0].address
    end = max(p.address + p.width for p in points)
    return ReadBlock(kind, start, end - start, tuple(points))


def decode_block(
    register_map: RegisterMap, block: ReadBlock, words: Sequence[int]
) -> dict[str, Decoded | tuple[str, Quality]]:
    """Decode every point of a block from the words one request returned."""
    if len(words) != block.quantity:
        raise ContractError(
            f"block at {block.address} expects {block.quantity} words, got {len(words)}"
        )
    decoded: dict[str, Decoded | tuple[str, Quality]] = {}
    for point in block.points:
        offset = point.address - block.address
        chunk = words[offset : offset + point.width]
        if point.name == STATE_POINT:
            decoded[point.name] = decode_state(point, chunk, byte_order=register_map.byte_order)
        else:
            decoded[point.name] = decode_value(
                point,
                chunk,
                byte_order=register_map.byte_order,
                word_order=register_map.word_order_of(point),
            )
    return decoded


def encode_image(
    register_map: RegisterMap, values: Mapping[str, float | str | None]
) -> dict[RegisterKind, dict[int, int]]:
    """Encode a set of values into {kind: {address: word}} (points missing from `values` are skipped)."""
    image: dict[RegisterKind, dict[int, int]] = {kind: {} for kind in RegisterKind}
    for point in register_map.points:
        if point.name not in values:
            continue
        words = register_map.encode(point.name, values[point.name])
        for i, word in enumerate(words):
            image[point.kind][point.address + i] = word
    return image


# -- loading ------------------------------------------------------------------------


def _describe_location(data: Any, loc: tuple[int | str, ...]) -> str:
    """Name the point an error is about ("point 'discharge_temp_f' (points[2])")."""
    if len(loc) >= 2 and loc[0] == "points" and isinstance(loc[1], int):
        index = loc[1]
        name = None
        if isinstance(data, dict) and isinstance(data.get("points"), list):
            points = data["points"]
            if 0 <= index < len(points) and isinstance(points[index], dict):
                name = points[index].get("name")
        rest = ".".join(str(part) for part in loc[2:])
        label = f"point {name!r} (points[{index}])" if name else f"points[{index}]"
        return f"{label}{': ' + rest if rest else ''}"
    return ".".join(str(part) for part in loc) or "map"


def parse_register_map(data: Any, *, source: str, name: str | None = None) -> RegisterMap:
    """Validate a register map held in memory; errors name `source`, the point and the problem."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a register map must be a YAML mapping")
    if name is not None:
        if data.get("name", name) != name:
            raise ConfigError(
                f"{source}: name {data.get('name')!r} does not match the file name {name!r}"
            )
        data = {**data, "name": name}
    try:
        return RegisterMap.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = _describe_location(data, tuple(error["loc"]))
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{where}: {message}")
        raise ConfigError(f"{source}: " + "; ".join(problems)) from None


def load_register_map(path: str | Path) -> RegisterMap:
    """Load and validate `path`; the map's name is the file name without `.yaml`."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read register map ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    return parse_register_map(data, source=str(path), name=path.stem)


def find_register_map(name: str, maps_dir: str | Path | None = None) -> RegisterMap:
    """Load the map called `name` from `maps_dir` (default: config/register_maps)."""
    directory = Path(maps_dir) if maps_dir is not None else DEFAULT_MAPS_DIR
    path = directory / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in directory.glob("*.yaml"))
        raise ConfigError(
            f"register map {name!r}: no file {path} (available: {', '.join(known) or 'none'})"
        )
    return load_register_map(path)


def load_register_maps(maps_dir: str | Path | None = None) -> dict[str, RegisterMap]:
    """Every map in `maps_dir` (default: config/register_maps), by name."""
    directory = Path(maps_dir) if maps_dir is not None else DEFAULT_MAPS_DIR
    return {path.stem: load_register_map(path) for path in sorted(directory.glob("*.yaml"))}
