"""Subpart W worked by hand from the rule text: inputs, equation, result to the kilogram.

Eq. W-35 (GHG volume = whole gas x mole fraction) and Eq. W-36 (tonnes = scf x density
x 1e-3; CH4 0.0192 kg/scf, CO2 0.0526 kg/scf) turn every volume into mass. The gas is
78 % CH4 and 1 % CO2 in every case below.
"""

from __future__ import annotations

from typing import Any

import pytest

from hub.compliance.errors import InputError, NoRulesError
from hub.compliance.report import as_json, calculate
from hub.compliance.schemas import validate_inputs
from tests.hub.compliance.factories import facility_document, recip

FULL_YEAR = {
    "operating": 7000.0,
    "standby_pressurized": 1000.0,
    "not_operating_depressurized": 760.0,
}


def run(document: dict[str, Any], year: int) -> dict[str, Any]:
    return as_json(calculate(validate_inputs(document), year=year))


def line(result: dict[str, Any], unit: str, detail: str = "") -> dict[str, Any]:
    (found,) = [x for x in result["lines"] if x["unit"] == unit and x["detail"].startswith(detail)]
    return found


def test_reciprocating_venting_as_found_rate_times_mode_hours() -> None:
    # 98.233(p): as-found 12 scfh in operating mode x 7,000 h = 84,000 scf.
    # CH4 = 84,000 x 0.78 x 0.0192 = 1,257.984 kg; CO2 = 84,000 x 0.01 x 0.0526 = 44.184 kg.
    # RY2025 (GWP CH4 28): CO2e = 0.044184 + 28 x 1.257984 = 35.267736 t.
    unit = recip("C-1", FULL_YEAR, ("operating", "12 scfh"), ("standby_pressurized", "6 scfh"),
                 ("not_operating_depressurized", "2.5 scfh"))  # fmt: skip
    result = run(facility_document(compressors=[unit]), 2025)
    operating = line(result, "C-1", "operating")
    assert operating["basis"] == "measured"
    assert operating["gas_scf"] == 84_000.0
    assert (operating["ch4_t"], operating["co2_t"], operating["co2e_t"]) == (1.258, 0.044, 35.268)
    assert "12 scfh x 7000 h" in operating["equation"] and "98.233(p)" in operating["citation"]
    # Standby: 6 x 1,000 = 6,000 scf -> CH4 89.856 kg. Depressurized: 2.5 x 760 = 1,900 scf -> 28.454 kg.
    assert line(result, "C-1", "standby")["ch4_t"] == 0.090
    assert line(result, "C-1", "not_operating")["ch4_t"] == 0.028
    # Total CH4 = 1,257.984 + 89.856 + 28.4544 = 1,376.294 kg.
    assert result["totals"]["ch4_t"] == 1.376
    assert result["totals"]["complete"] is True
    assert result["rule_version"]["id"] == "subpart-w-2025"


def test_an_unmeasured_mode_uses_the_reporter_factor_of_the_facility() -> None:
    # C-1 standby 6 scfh, C-2 standby 10 scfh: the reporter factor is their mean, 8 scfh.
    # C-3 was never measured in standby: 8 scfh x 500 h = 4,000 scf -> CH4 4,000 x 0.78 x 0.0192 = 59.904 kg.
    hours = {"operating": 0.0, "standby_pressurized": 500.0, "not_operating_depressurized": 0.0}
    units = [
        recip("C-1", hours, ("standby_pressurized", "6 scfh")),
        recip("C-2", hours, ("standby_pressurized", "10 scfh")),
        recip("C-3", hours),
    ]
    standby = line(run(facility_document(compressors=units), 2025), "C-3", "standby")
    assert standby["basis"] == "estimated"
    assert standby["gas_scf"] == 4000.0
    assert standby["ch4_t"] == 0.060  # 59.904 kg
    assert "reporter emission factor 8 scfh (mean of 2" in standby["equation"]


def test_centrifugal_wet_seal_venting() -> None:
    # 98.233(o): wet seal degassing measured 40 scfh in operating mode x 8,000 h = 320,000 scf.
    # CH4 = 320,000 x 0.78 x 0.0192 = 4,792.32 kg; CO2 = 320,000 x 0.01 x 0.0526 = 168.32 kg.
    unit = {"id": "K-1", "type": "centrifugal", "seal": "wet",
            "hours": {"operating": 8000.0, "not_operating_depressurized": 0.0},
            "measurements": [{"mode": "operating", "source": "wet_seal_oil_degassing", "rate": "40 scfh"}]}  # fmt: skip
    operating = line(run(facility_document(compressors=[unit]), 2025), "K-1", "operating")
    assert (operating["gas_scf"], operating["ch4_t"], operating["co2_t"]) == (
        320_000.0,
        4.792,
        0.168,
    )
    assert operating["note"] == "not measured in this mode: blowdown_valve_leakage"


def test_blowdown_actual_volume_to_standard_conditions() -> None:
    # Eq. W-33: 600 ft3 at 450 psig (464.7 psia) and 80 degF ->
    # 600 x (459.67 + 60) x 464.7 / ((459.67 + 80) x 14.7) = 18,264.42 scf.
    # CH4 = 18,264.42 x 0.78 x 0.0192 = 273.528 kg; CO2 = 18,264.42 x 0.01 x 0.0526 = 9.607 kg.
    event = {"id": "BD-1", "at": "2025-03-02T10:00:00Z", "volume": "600 ft3",
             "pressure": "450 psig", "temperature": "80 degF"}  # fmt: skip
    blowdown = line(run(facility_document(blowdowns=[event]), 2025), "BD-1")
    assert blowdown["gas_scf"] == pytest.approx(18_264.4, abs=0.05)
    assert (blowdown["ch4_t"], blowdown["co2_t"]) == (0.274, 0.010)
    assert blowdown["inputs"]["pressure_psia"] == pytest.approx(464.7)
    # A metered event is used as measured: 12 Mscf -> CH4 12,000 x 0.78 x 0.0192 = 179.712 kg.
    metered = {"id": "BD-2", "at": "2025-05-02T10:00:00Z", "vented": "12 Mscf"}
    assert line(run(facility_document(blowdowns=[metered]), 2025), "BD-2")["ch4_t"] == 0.180


def test_pneumatic_devices_by_the_table_in_force_for_the_year() -> None:
    # RY2025, Table W-1, gathering & boosting intermittent bleed 8.8 scf/h/device:
    # 10 x 8.8 x 8,760 h = 770,880 scf -> CH4 770,880 x 0.78 x 0.0192 = 11,544.699 kg.
    devices = [{"kind": "intermittent_bleed", "count": 10}]
    ry2025 = line(run(facility_document(pneumatic_devices=devices), 2025), "intermittent_bleed")
    assert (ry2025["gas_scf"], ry2025["ch4_t"]) == (770_880.0, 11.545)
    assert ry2025["note"] == "in service the whole year (hours not given)"
    # RY2024, Table W-1A: 13.5 scf/h/device, 2024 has 8,784 h: 10 x 13.5 x 8,784 = 1,185,840 scf
    # -> CH4 1,185,840 x 0.78 x 0.0192 = 17,759.140 kg; CO2 1,185,840 x 0.01 x 0.0526 = 623.752 kg;
    # CO2e with GWP 28 = 0.623752 + 28 x 17.759140 = 497.879672 t.
    ry2024 = line(run(facility_document(pneumatic_devices=devices), 2024), "intermittent_bleed")
    assert (ry2024["gas_scf"], ry2024["ch4_t"], ry2024["co2e_t"]) == (1_185_840.0, 17.759, 497.880)


def test_the_gwp_follows_the_reporting_year() -> None:
    # 1,000 scf metered: CH4 = 14.976 kg, CO2 = 0.526 kg.
    # RY2023 (CH4 25): 0.000526 + 25 x 0.014976 = 0.374926 t; RY2024 (CH4 28): 0.419854 t.
    event = {"id": "BD-1", "at": "2023-01-05T00:00:00Z", "vented": "1000 scf"}
    assert line(run(facility_document(blowdowns=[event]), 2023), "BD-1")["co2e_t"] == 0.375
    event["at"] = "2024-01-05T00:00:00Z"
    assert line(run(facility_document(blowdowns=[event]), 2024), "BD-1")["co2e_t"] == 0.420


def test_threshold_per_facility_year() -> None:
    # 1 MMscf metered: CH4 14,976 kg, CO2 526 kg -> 0.526 + 28 x 14.976 = 419.854 t CO2e: below 25,000 t.
    below = run(
        facility_document(
            blowdowns=[{"id": "B", "at": "2025-02-01T00:00:00Z", "vented": "1 MMscf"}]
        ),
        2025,
    )
    assert below["threshold"]["status"] == "below" and below["threshold"]["co2e_t"] == 25_000
    # 60 MMscf: CH4 898.56 t, CO2 31.56 t: 31.56 + 28 x 898.56 = 25,191.24 t CO2e -> above.
    above = run(
        facility_document(
            blowdowns=[{"id": "B", "at": "2025-02-01T00:00:00Z", "vented": "60 MMscf"}]
        ),
        2025,
    )
    assert above["totals"]["co2e_t"] == 25_191.24
    assert above["threshold"]["status"] == "above"


def test_missing_operating_hours_is_a_missing_line_not_zero() -> None:
    unit = recip("C-1", {"operating": 7000.0}, ("operating", "12 scfh"))
    result = run(facility_document(compressors=[unit]), 2025)
    standby = line(result, "C-1", "standby")
    assert standby["basis"] == "missing" and standby["ch4_t"] is None
    assert standby["note"] == "hours in standby_pressurized mode not given"
    assert result["totals"]["complete"] is False
    assert (
        "reciprocating_compressor_venting C-1 (standby_pressurized mode): hours in standby_pressurized mode not given"
        in result["missing_inputs"]
    )
    assert result["threshold"]["status"] == "incomplete"
    assert result["inputs_basis"]["missing"] == 2


def test_a_source_with_only_missing_inputs_has_no_total() -> None:
    event = {"id": "BD-3", "at": "2025-06-02T10:00:00Z", "volume": "600 ft3"}
    result = run(facility_document(blowdowns=[event]), 2025)
    assert result["totals"]["by_source"]["blowdown_vent_stacks"] == {
        "ch4_t": None, "co2_t": None, "co2e_t": None, "missing_inputs": 1,
    }  # fmt: skip
    assert line(result, "BD-3")["note"] == "pressure, temperature of the event not given"


def test_a_segment_without_a_loaded_factor_says_so() -> None:
    document = facility_document(pneumatic_devices=[{"kind": "low_bleed", "count": 4}])
    document["facility"]["segment"] = "transmission_compression"
    devices = line(run(document, 2024), "low_bleed")
    assert devices["basis"] == "missing" and "Table W-3B" in devices["note"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"blowdowns": [{"id": "B", "at": "2025-02-01T00:00:00Z", "volume": "-600 ft3", "pressure": "1 psig", "temperature": "60 degF"}]},
         "blowdowns\\[0\\].volume: a negative amount"),
        ({"compressors": [{"id": "C", "type": "screw", "hours": {}}]}, "compressors.0.type: Input should be"),
        ({"compressors": [recip("C", {"operating": -5.0})]}, "hours in operating mode are negative"),
        ({"compressors": [recip("C", {"operating": 9000.0})]}, "9000 h is more than the 8760 h of 2025"),
        ({"blowdowns": [{"id": "B", "at": "2024-12-31T00:00:00Z", "vented": "1 scf"}]}, "outside reporting year 2025"),
        ({"blowdowns": [{"id": "B", "at": "2025-01-01T00:00:00Z", "volume": 600}]}, "give a number with its unit"),
        ({"compressors": [recip("C", FULL_YEAR, ("operating", "1 scfh"), ("operating", "2 scfh"))]}, "a second measurement"),
    ],
)  # fmt: skip
def test_bad_input_is_a_clear_error(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        run(facility_document(**change), 2025)


def test_a_year_without_rules_is_a_clear_error() -> None:
    with pytest.raises(NoRulesError, match="no Subpart W rules are loaded for reporting year 2015"):
        run(facility_document(), 2015)
    with pytest.raises(NoRulesError, match=r"reporting year 2027 .*RY2025-RY2026"):
        run(facility_document(), 2027)
