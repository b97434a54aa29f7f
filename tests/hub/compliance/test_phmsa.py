"""PHMSA: incident screening on the criteria in force on the event date, report clocks,
integrity-management conditions with their remediation clocks, annual-report data."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from hub.compliance.annual_report import TO_BE_SUPPLIED, annual_report_fields
from hub.compliance.errors import InputError, NoRulesError
from hub.compliance.phmsa import IncidentEvent, im_condition, screen_incident


def event(**fields: Any) -> IncidentEvent:
    base: dict[str, Any] = {
        "id": "EV-1", "station_id": "EF-KARNES", "occurred_at": "2023-08-01T10:00:00Z",
        "confirmed_discovery_at": "2023-08-01T10:30:00Z", "fatalities": 0, "inpatient_injuries": 0,
        "property_damage_usd": 10_000, "gas_released": "0.5 MMscf", "release_intentional": False,
    }  # fmt: skip
    return IncidentEvent.model_validate({**base, **fields})


def verdicts(**fields: Any) -> dict[str, str]:
    return {c.name: c.verdict for c in screen_incident(event(**fields)).criteria}


def test_property_damage_against_the_threshold_in_force_on_the_event_date() -> None:
    # $130,000 is above $122,000 (12 Mar 2021 - Jun 2022) but below $139,700 (from 1 Jul 2023).
    assert (
        verdicts(occurred_at="2022-03-01T00:00:00Z", property_damage_usd=130_000)[
            "property damage (excluding gas lost)"
        ]
        == "met"
    )
    screening = screen_incident(event(property_damage_usd=130_000))
    assert screening.reportable == "no"
    assert "$130,000 vs $139,700" in screening.criteria[1].detail
    # A date whose yearly threshold is not loaded: undetermined, never "not met".
    later = screen_incident(event(occurred_at="2025-02-01T00:00:00Z", confirmed_discovery_at="2025-02-01T01:00:00Z",
                                  property_damage_usd=130_000))  # fmt: skip
    assert later.reportable == "undetermined"
    assert "not loaded" in later.criteria[1].detail


def test_the_122000_threshold_starts_on_the_effective_date_of_86_fr_2210() -> None:
    # 86 FR 2210 was published on 11 Jan 2021 but took effect on 12 Mar 2021: $60,000 of
    # damage on 11 Mar 2021 is at or above $50,000; the next day it is below $122,000.
    criterion = "property damage (excluding gas lost)"
    on_11_march = screen_incident(
        event(occurred_at="2021-03-11T12:00:00Z", property_damage_usd=60_000)
    )
    assert on_11_march.criteria[1].verdict == "met"
    assert "$60,000 vs $50,000" in on_11_march.criteria[1].detail
    assert (
        verdicts(occurred_at="2021-02-01T00:00:00Z", property_damage_usd=60_000)[criterion] == "met"
    )
    assert (
        verdicts(occurred_at="2021-03-12T00:00:00Z", property_damage_usd=60_000)[criterion]
        == "not_met"
    )


def test_gas_loss_and_harm_criteria() -> None:
    assert verdicts(gas_released="3.2 MMscf")["unintentional gas loss"] == "met"
    assert (
        verdicts(gas_released="3200 Mscf", release_intentional=True)["unintentional gas loss"]
        == "not_met"
    )
    assert (
        verdicts(gas_released="3.2 MMscf", release_intentional=None)["unintentional gas loss"]
        == "undetermined"
    )
    assert verdicts(inpatient_injuries=1)["death or in-patient hospitalisation"] == "met"
    assert verdicts(fatalities=None)["death or in-patient hospitalisation"] == "undetermined"


def test_a_compressor_station_esd_is_not_criterion_2_by_itself() -> None:
    assert verdicts(emergency_shutdown=True)["emergency shutdown"] == "not_met"
    assert (
        verdicts(
            emergency_shutdown=True, facility_kind="underground_storage", emergency_actual=True
        )["emergency shutdown"]
        == "met"
    )


def test_report_clocks_of_a_reportable_incident() -> None:
    screening = screen_incident(event(gas_released="4 MMscf", detected_at="2023-08-01T10:15:00Z"))
    assert screening.reportable == "yes"
    clocks = {c.name: c for c in screening.clocks}
    # Telephonic notice: one hour after confirmed discovery (10:30); written report: 30 days after detection.
    assert clocks["telephonic_notice"].due_at == datetime(2023, 8, 1, 11, 30, tzinfo=UTC)
    assert clocks["telephonic_update"].due_at == datetime(2023, 8, 3, 10, 30, tzinfo=UTC)
    assert clocks["written_report"].due_at == datetime(2023, 8, 31, 10, 15, tzinfo=UTC)
    assert clocks["written_report"].state(datetime(2023, 9, 1, tzinfo=UTC)) == "overdue"
    assert screen_incident(event()).clocks == []


def test_an_event_before_any_loaded_criteria_is_a_clear_error() -> None:
    with pytest.raises(
        NoRulesError, match=r"no 49 CFR 191\.3 incident criteria are loaded for 2005-01-01"
    ):
        screen_incident(event(occurred_at="2005-01-01T00:00:00Z"))


def test_integrity_conditions_get_the_clock_in_force_at_discovery() -> None:
    two_year = im_condition(
        condition_id="A-1",
        station_id="S",
        description="dent",
        discovered_on=date(2024, 3, 1),
        category="two_year",
    )
    assert two_year.due_on == date(2026, 3, 1) and two_year.state(date(2026, 3, 2)) == "overdue"
    one_year = im_condition(
        condition_id="A-2",
        station_id="S",
        description="dent",
        discovered_on=date(2022, 3, 1),
        category="one_year",
    )
    assert one_year.due_on == date(2023, 3, 1)
    monitored = im_condition(
        condition_id="A-3",
        station_id="S",
        description="",
        discovered_on=date(2024, 3, 1),
        category="monitored",
    )
    assert monitored.due_on is None and monitored.state(date(2030, 1, 1)) == "monitored"
    unclassified = im_condition(
        condition_id="A-4",
        station_id="S",
        description="",
        discovered_on=date(2024, 3, 1),
        category=None,
    )
    assert unclassified.category == "unclassified" and unclassified.due_on == date(2024, 8, 28)
    with pytest.raises(InputError, match="'one_year' is not one of"):
        im_condition(
            condition_id="A-5",
            station_id="S",
            description="",
            discovered_on=date(2024, 3, 1),
            category="one_year",
        )


def test_annual_report_fields_say_what_the_hub_fills_and_what_is_to_be_supplied() -> None:
    reportable = screen_incident(event(gas_released="4 MMscf"))
    fields = annual_report_fields(operator="Demo Midstream", year=2023, stations=["EF-KARNES", "PB-ODESSA"],
                                  compressor_count=6, screenings=[reportable, screen_incident(event(id="EV-2"))],
                                  conditions=[])  # fmt: skip
    by_field = {f.field: f for f in fields}
    assert by_field["Due"].value == "2024-03-15"
    assert by_field["Reportable incidents (screened yes)"].value == "1"
    assert by_field["Events screened against 49 CFR 191.3"].value == "2"
    assert by_field["Operator identification number (OPID)"].source == TO_BE_SUPPLIED
    assert by_field["Compressor stations in the hub"].source == "hub"
    assert by_field["Form"].value.startswith("PHMSA F 7100.2-1")
    type_r = annual_report_fields(operator="", year=2023, stations=[], compressor_count=0, screenings=[],
                                  conditions=[], form="gathering_type_r")  # fmt: skip
    assert type_r[0].value.startswith("PHMSA F 7100.2-3")
    with pytest.raises(InputError, match="form 'distribution' is not one of"):
        annual_report_fields(operator="", year=2023, stations=[], compressor_count=0, screenings=[],
                             conditions=[], form="distribution")  # fmt: skip
