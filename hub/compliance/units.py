"""Unit handling for the calculator: gas volumes, masses, pressures, temperatures, rates.

Every conversion the rules need lives here, tested on its own (tests/hub/compliance).
Volumes at standard conditions are in scf; masses in kg or metric tons (t); pressures
in psia; temperatures in °F (and °R = °F + 459.67).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hub.compliance.errors import UnitError

RANKINE_OFFSET = 459.67
KG_PER_TONNE = 1000.0
KG_PER_LB = 0.45359237
#: Gauge -> absolute when the inputs give no local barometric pressure (engineering default).
DEFAULT_ATMOSPHERE_PSIA = 14.7

STANDARD_VOLUME = {"scf": 1.0, "mscf": 1e3, "mcf": 1e3, "mmscf": 1e6, "mmcf": 1e6}
ACTUAL_VOLUME = {"ft3": 1.0, "cf": 1.0, "acf": 1.0, "m3": 35.31467}
RATE_PER_HOUR = {
    "scfh": 1.0,
    "scfm": 60.0,
    "mscfd": 1e3 / 24.0,
    "mcfd": 1e3 / 24.0,
    "scfd": 1 / 24.0,
}
MASS_KG = {"kg": 1.0, "t": KG_PER_TONNE, "tonne": KG_PER_TONNE, "lb": KG_PER_LB}
PRESSURE = ("psia", "psig")
TEMPERATURE = ("degf", "f", "°f", "degr", "r", "°r", "degc", "c", "°c")

_QUANTITY = re.compile(r"^\s*([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*([^\s\d].*?)\s*$")


@dataclass(frozen=True)
class Quantity:
    value: float
    unit: str

    def __str__(self) -> str:
        return f"{self.value:g} {self.unit}"


def parse_quantity(raw: object, *, field: str) -> Quantity:
    """'250 psig', {'value': 250, 'unit': 'psig'} -> Quantity; a bare number is refused."""
    if isinstance(raw, Quantity):
        return raw
    if isinstance(raw, dict) and set(raw) == {"value", "unit"}:
        value, unit = raw["value"], raw["unit"]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise UnitError(f"{field}: value must be a number, got {value!r}")
        return Quantity(float(value), str(unit).strip())
    if isinstance(raw, str):
        match = _QUANTITY.match(raw)
        if match:
            return Quantity(float(match.group(1)), match.group(2))
    raise UnitError(
        f"{field}: give a number with its unit, e.g. '250 psig' or {{value: 250, unit: psig}}; got {raw!r}"
    )


def _key(unit: str) -> str:
    return unit.strip().lower().replace(" ", "").replace("³", "3")


def standard_volume_scf(q: Quantity, *, field: str) -> float:
    """A gas volume at standard conditions in scf (scf, Mscf, MMscf)."""
    factor = STANDARD_VOLUME.get(_key(q.unit))
    if factor is None:
        raise UnitError(
            f"{field}: {q.unit!r} is not a standard volume unit ({', '.join(STANDARD_VOLUME)})"
        )
    return _non_negative(q.value * factor, field)


def actual_volume_ft3(q: Quantity, *, field: str) -> float:
    """A physical (actual) volume in ft³ (ft3, m3)."""
    factor = ACTUAL_VOLUME.get(_key(q.unit))
    if factor is None:
        raise UnitError(
            f"{field}: {q.unit!r} is not a physical volume unit ({', '.join(ACTUAL_VOLUME)})"
        )
    return _non_negative(q.value * factor, field)


def rate_scfh(q: Quantity, *, field: str) -> float:
    """A flow rate at standard conditions in scf per hour (scfh, scfm, scfd, Mscfd)."""
    factor = RATE_PER_HOUR.get(_key(q.unit))
    if factor is None:
        raise UnitError(f"{field}: {q.unit!r} is not a flow-rate unit ({', '.join(RATE_PER_HOUR)})")
    return _non_negative(q.value * factor, field)


def mass_kg(q: Quantity, *, field: str) -> float:
    factor = MASS_KG.get(_key(q.unit))
    if factor is None:
        raise UnitError(f"{field}: {q.unit!r} is not a mass unit ({', '.join(MASS_KG)})")
    return _non_negative(q.value * factor, field)


def pressure_psia(
    q: Quantity, *, field: str, atmosphere_psia: float = DEFAULT_ATMOSPHERE_PSIA
) -> float:
    """Absolute pressure in psia; psig + the local atmosphere (14.7 psia unless given)."""
    unit = _key(q.unit)
    if unit == "psia":
        absolute = q.value
    elif unit == "psig":
        absolute = q.value + atmosphere_psia
    else:
        raise UnitError(f"{field}: {q.unit!r} is not a pressure unit (psia, psig)")
    if absolute <= 0:
        raise UnitError(f"{field}: {q} is not above absolute zero pressure")
    return absolute


def temperature_f(q: Quantity, *, field: str) -> float:
    """A temperature in °F (from °F, °R or °C); below absolute zero is refused."""
    unit = _key(q.unit).replace("°", "").replace("deg", "")
    if unit == "f":
        value = q.value
    elif unit == "r":
        value = q.value - RANKINE_OFFSET
    elif unit == "c":
        value = q.value * 9.0 / 5.0 + 32.0
    else:
        raise UnitError(f"{field}: {q.unit!r} is not a temperature unit (degF, degR, degC)")
    if value + RANKINE_OFFSET <= 0:
        raise UnitError(f"{field}: {q} is below absolute zero")
    return value


def rankine(temperature_f_value: float) -> float:
    return temperature_f_value + RANKINE_OFFSET


def kg_to_tonnes(kg: float) -> float:
    return kg / KG_PER_TONNE


def _non_negative(value: float, field: str) -> float:
    if value < 0:
        raise UnitError(f"{field}: a negative amount ({value:g}) is not a quantity of gas")
    return value
