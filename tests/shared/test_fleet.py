"""The fleet contract: the default fleet, generators, resolution and error messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.errors import ConfigError
from shared.fleet import DEFAULT_FLEET_PATH, load_fleet, parse_fleet, ratio_per_stage
from shared.ids import check_id

CONFIG = DEFAULT_FLEET_PATH.parent


def default_document() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_FLEET_PATH.read_text(encoding="utf-8"))


def write(tmp_path: Path, data: dict[str, Any], name: str = "fleet.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_default_fleet_is_ten_compressors_at_four_texas_stations() -> None:
    fleet = load_fleet()
    stations = list(fleet.stations())
    assert [s.basin for s in stations] == ["Eagle Ford", "Permian", "Haynesville", "Barnett"]
    assert [c.id for _, c in fleet.compressors()] == [f"COMP-{n:03d}" for n in range(1, 11)]
    for station, compressor in fleet.compressors():
        check_id("station id", station.id)
        check_id("compressor id", compressor.id)
        assert 28 < station.latitude < 34 and -103 < station.longitude < -93
        assert compressor.rated_hp == compressor.driver.rated_hp
        # every characteristic is resolved
        assert None not in compressor.characteristics.model_dump().values()
    drivers = {c.driver.model for _, c in fleet.compressors()}
    assert {"G3516B", "L7042GSI"} <= drivers
    _, comp003 = fleet.compressor("COMP-003")
    assert comp003.characteristics.vibration_base_mms == 2.6  # explicit value kept
    assert fleet.org_of("EF-KARNES").id == "demo-org"


def test_characteristics_depend_on_the_unit_not_the_run() -> None:
    first = load_fleet()
    again = load_fleet()
    assert first == again
    bases = {c.characteristics.vibration_base_mms for _, c in first.compressors()}
    assert len(bases) > 5  # units differ from each other


def test_thousand_compressor_fleet_by_configuration() -> None:
    fleet = load_fleet(CONFIG / "fleet-1000.yaml")
    assert fleet.compressor_count == 1000
    ids = [c.id for _, c in fleet.compressors()]
    assert len(set(ids)) == 1000
    generated = fleet.station("GEN-S0002")
    assert generated.basin == "Permian" and generated.panel.port == 6001
    assert [c.unit_id for c in generated.compressors] == list(range(1, 11))


def test_resolved_document_round_trips() -> None:
    fleet = load_fleet(CONFIG / "fleet-1000.yaml")
    assert parse_fleet(fleet.to_document(), source="expanded") == fleet


def test_ratio_per_stage() -> None:
    station = load_fleet().station("EF-KARNES")
    assert ratio_per_stage(station, 3) ** 3 == pytest.approx(1014.7 / 74.7)


def break_first_station(change: dict[str, Any]) -> dict[str, Any]:
    data = default_document()
    data["organisations"][0]["stations"][0].update(change)
    return data


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (
            lambda d: d["organisations"][0]["stations"][1]["compressors"][0].update(id="COMP-001"),
            "compressor 'COMP-001' appears more than once",
        ),
        (
            lambda d: d["organisations"][0]["stations"][0]["compressors"][0].update(id="COMP/1"),
            "stations[0] (EF-KARNES).compressors[0] (COMP/1).id",
        ),
        (
            lambda d: d["organisations"][0]["stations"][0]["compressors"][1].update(unit_id=1),
            "unit_id 1 is already used by 'COMP-001'",
        ),
        (
            lambda d: d["organisations"][0]["stations"][0]["compressors"][0].update(package="nope"),
            "unknown package 'nope'",
        ),
        (
            lambda d: d["organisations"][0]["stations"][0]["compressors"][0].update(
                characteristics={"isentropic_efficiency": 2}
            ),
            "characteristics.isentropic_efficiency",
        ),
        (
            lambda d: d["organisations"][0]["stations"][1]["panel"].update(port=5020),
            "panel address '127.0.0.1:5020' appears more than once",
        ),
        (
            lambda d: d["organisations"][0]["stations"][0]["line"].update(
                discharge_pressure_psig=10
            ),
            "discharge_pressure_psig must be above suction_pressure_psig",
        ),
        (lambda d: d.update(colour="red"), "unknown top-level key(s): colour"),
        (
            lambda d: d.update(
                generators=[
                    {
                        "org_id": "demo-org",
                        "stations": 1,
                        "compressors_per_station": 2,
                        "templates": ["X"],
                    }
                ]
            ),
            "unknown template station 'X'",
        ),
    ],
)
def test_errors_name_the_file_the_place_and_the_problem(
    tmp_path: Path, mutate: Any, problem: str
) -> None:
    data = default_document()
    mutate(data)
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as caught:
        load_fleet(path)
    assert str(caught.value).startswith(str(path))
    assert problem in str(caught.value)


def test_unknown_register_map_and_extends_loop(tmp_path: Path) -> None:
    data = default_document()
    data["organisations"][0]["stations"][0]["panel"]["register_map"] = "absent"
    with pytest.raises(ConfigError, match="register map 'absent'"):
        load_fleet(write(tmp_path, data))
    loop = write(tmp_path, {"extends": "loop.yaml"}, name="loop.yaml")
    with pytest.raises(ConfigError, match="loops back"):
        load_fleet(loop)
    with pytest.raises(ConfigError, match="cannot read"):
        load_fleet(tmp_path / "absent.yaml")
