"""Unit handling on its own: volumes, rates, masses, pressures, temperatures."""

from __future__ import annotations

import pytest

from hub.compliance import units
from hub.compliance.errors import UnitError
from hub.compliance.units import Quantity, parse_quantity


def q(text: str) -> Quantity:
    return parse_quantity(text, field="x")


def test_standard_volumes() -> None:
    assert units.standard_volume_scf(q("1500 scf"), field="x") == 1500.0
    assert units.standard_volume_scf(q("12 Mscf"), field="x") == 12_000.0
    assert units.standard_volume_scf(q("3 MMscf"), field="x") == 3_000_000.0
    assert (
        units.standard_volume_scf(
            parse_quantity({"value": 2.5, "unit": "Mcf"}, field="x"), field="x"
        )
        == 2500.0
    )


def test_physical_volumes_and_rates() -> None:
    assert units.actual_volume_ft3(q("600 ft3"), field="x") == 600.0
    assert units.actual_volume_ft3(q("1 m3"), field="x") == pytest.approx(35.31467)
    assert units.rate_scfh(q("2 scfm"), field="x") == 120.0
    assert units.rate_scfh(q("24 Mscfd"), field="x") == pytest.approx(1000.0)


def test_masses() -> None:
    assert units.mass_kg(q("1.5 t"), field="x") == 1500.0
    assert units.mass_kg(q("100 lb"), field="x") == pytest.approx(45.359237)
    assert units.kg_to_tonnes(1257.984) == pytest.approx(1.257984)


def test_pressures_gauge_to_absolute() -> None:
    assert units.pressure_psia(q("450 psig"), field="x") == pytest.approx(464.7)
    assert units.pressure_psia(q("450 psig"), field="x", atmosphere_psia=13.2) == pytest.approx(
        463.2
    )
    assert units.pressure_psia(q("464.7 psia"), field="x") == 464.7
    with pytest.raises(UnitError, match="not above absolute zero"):
        units.pressure_psia(q("-20 psig"), field="x")


def test_temperatures() -> None:
    assert units.temperature_f(q("80 degF"), field="x") == 80.0
    assert units.temperature_f(q("539.67 degR"), field="x") == pytest.approx(80.0)
    assert units.temperature_f(q("100 degC"), field="x") == pytest.approx(212.0)
    assert units.rankine(60.0) == pytest.approx(519.67)
    with pytest.raises(UnitError, match="below absolute zero"):
        units.temperature_f(q("-500 degF"), field="x")


@pytest.mark.parametrize(
    ("call", "text", "message"),
    [
        (units.standard_volume_scf, "600 ft3", "not a standard volume unit"),
        (units.actual_volume_ft3, "12 Mscf", "not a physical volume unit"),
        (units.pressure_psia, "3 bar", "not a pressure unit"),
        (units.temperature_f, "300 K", "not a temperature unit"),
        (units.standard_volume_scf, "-5 Mscf", "negative amount"),
    ],
)
def test_wrong_or_negative_units_are_refused(call: object, text: str, message: str) -> None:
    with pytest.raises(UnitError, match=message):
        call(q(text), field="blowdowns[0].volume")  # type: ignore[operator]


def test_a_bare_number_is_not_a_quantity() -> None:
    with pytest.raises(UnitError, match="give a number with its unit"):
        parse_quantity(600, field="blowdowns[0].volume")
