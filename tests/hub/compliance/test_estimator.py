"""The emissions estimator over simulator runs: every factor from the cited data files, and
one case worked by hand (moved from models/ with the code)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from hub.compliance.errors import InputError, NoRulesError
from hub.compliance.estimator import (
    CompressorAsset,
    assets_from_fleet,
    bhp_hours_from_frame,
    combustion,
    mode_hours,
    summary,
    table_c2_ch4_t,
    venting,
)
from hub.compliance.factors import DEFAULT_PATH, LB_TO_KG, load_emission_factors
from shared.fleet import load_fleet

REPO = Path(__file__).resolve().parents[3]

ASSET = CompressorAsset(
    compressor_id="COMP-001",
    station_id="EF-KARNES",
    throws=4,
    driver_model="G3516B",  # four-stroke lean-burn
    heat_rate_btu_per_bhp_h=7600.0,
    methane_mole_fraction=0.78,
    packing_scfh_per_throw=3.0,  # as-found
)


def _states() -> pd.DataFrame:
    """100 h running, 10 h standby (pressurized), 5 h depressurized, 2 h unknown."""
    return pd.DataFrame(
        {
            "compressor_id": ["COMP-001"] * 5,
            "operating_state": [
                "running", "standby_pressurized", "shutdown_depressurized", "running", "unknown",
            ],
            "duration_s": [90 * 3600.0, 10 * 3600.0, 5 * 3600.0, 10 * 3600.0, 2 * 3600.0],
        }
    )  # fmt: skip


def _blowdowns() -> pd.DataFrame:
    return pd.DataFrame({"compressor_id": ["COMP-001", "COMP-009"], "vented_scf": [10_000.0, 5.0]})


def test_the_hand_computed_case() -> None:
    factors = load_emission_factors()
    hours = mode_hours(_states())
    vent = {e.source: e for e in venting(factors, {"COMP-001": ASSET}, hours, _blowdowns(),
                                         reporting_year=2025)}  # fmt: skip
    # Rod packing: 3 scf/h/throw as found x 4 throws x (100 h operating + 10 h standby).
    assert vent["rod_packing"].gas_scf == pytest.approx(1320.0)
    assert vent["rod_packing"].ch4_t == pytest.approx(1320 * 0.78 * 0.0192e-3)  # 0.019768 t
    assert vent["rod_packing"].co2_t == pytest.approx(1320 * 0.01 * 0.0526e-3)
    assert vent["rod_packing"].method.startswith("as-found rate")
    # No measurement: the file's defaults, and the estimate says so.
    assert vent["blowdown_valve_leak"].gas_scf == pytest.approx(1.75 * 10)
    assert vent["isolation_valve_leak"].gas_scf == pytest.approx(2.75 * 5)
    assert "default rate" in vent["isolation_valve_leak"].method
    # Blowdown events of this unit only.
    assert vent["blowdowns"].gas_scf == pytest.approx(10_000.0)
    assert vent["blowdowns"].ch4_t == pytest.approx(0.14976)
    # GWP CH4 = 28 (AR5) for reporting year 2025.
    assert vent["blowdowns"].co2e_t == pytest.approx(0.14976 * 28 + 10_000 * 0.01 * 0.0526e-3)

    # 1000 hp for 100 h = 100,000 bhp-h x 7600 Btu/bhp-h = 760 MMBtu of fuel (HHV).
    readings = pd.DataFrame(
        {"compressor_id": ["COMP-001"] * 100, "horsepower_consumption": [1000.0] * 100}
    )
    bhp_h = bhp_hours_from_frame(readings, interval_s=3600.0)
    assert bhp_h == {"COMP-001": pytest.approx(100_000.0)}
    (burn,) = combustion(factors, {"COMP-001": ASSET}, bhp_h, reporting_year=2025)
    assert burn.ch4_t == pytest.approx(760 * 1.25 * 0.45359237e-3)  # AP-42 4SLB: 0.43091 t
    assert burn.co2_t == pytest.approx(760 * 53.06e-3)  # 40.3256 t
    assert burn.n2o_t == pytest.approx(760 * 1e-4 * 1e-3)
    assert burn.co2e_t == pytest.approx(40.3256 + 0.43091275 * 28 + 7.6e-5 * 265)  # 52.4113 t
    assert "AP-42 Table 3.2-2" in burn.method
    # Table C-2's generic factor would understate engine methane ~570-fold.
    assert table_c2_ch4_t(factors, [burn]) == pytest.approx(760 * 1e-3 * 1e-3)
    assert burn.ch4_t / table_c2_ch4_t(factors, [burn]) == pytest.approx(567, rel=0.01)

    totals = summary([*vent.values(), burn])
    assert set(totals.index) == {
        "rod_packing", "blowdown_valve_leak", "isolation_valve_leak", "blowdowns", "combustion",
    }  # fmt: skip
    assert totals.loc["combustion", "co2_t"] == pytest.approx(40.3256)


def test_gwps_are_keyed_by_reporting_year() -> None:
    factors = load_emission_factors()
    assert (factors.gwp(2023).ch4, factors.gwp(2023).n2o) == (25, 298)
    assert (factors.gwp(2025).ch4, factors.gwp(2025).n2o) == (28, 265)
    with pytest.raises(NoRulesError):
        factors.gwp(2005)


def test_every_number_comes_from_the_cited_file(tmp_path: Path) -> None:
    document = yaml.safe_load(DEFAULT_PATH.read_text())
    document["engine_ch4_lb_per_mmbtu"]["four_stroke_lean_burn"]["value"] = 2.5
    document["natural_gas_fuel"]["co2_kg_per_mmbtu"]["value"] = 50.0
    changed = tmp_path / "factors.yaml"
    changed.write_text(yaml.safe_dump(document))
    factors = load_emission_factors(changed)
    (burn,) = combustion(factors, {"COMP-001": ASSET}, {"COMP-001": 100_000.0}, reporting_year=2025)
    assert burn.ch4_t == pytest.approx(760 * 2.5 * LB_TO_KG * 1e-3)
    assert burn.co2_t == pytest.approx(760 * 50.0e-3)


def test_every_factor_carries_a_citation_and_a_status() -> None:
    document = yaml.safe_load(DEFAULT_PATH.read_text())

    def cited(node: object) -> list[dict[str, object]]:
        if isinstance(node, dict):
            found = [node] if "value" in node and "citation" in node else []
            return found + [x for v in node.values() for x in cited(v)]
        if isinstance(node, list):
            return [x for v in node for x in cited(v)]
        return []

    entries = cited(document)
    assert len(entries) >= 10
    for entry in entries:
        assert str(entry["citation"]).strip()
        assert entry["status"] in ("confirmed", "verify", "default")


def test_a_broken_factor_file_is_one_clear_error(tmp_path: Path) -> None:
    document = yaml.safe_load(DEFAULT_PATH.read_text())
    del document["natural_gas_fuel"]["co2_kg_per_mmbtu"]
    broken = tmp_path / "factors.yaml"
    broken.write_text(yaml.safe_dump(document))
    with pytest.raises(InputError, match="co2_kg_per_mmbtu"):
        load_emission_factors(broken)
    with pytest.raises(InputError, match="cannot read"):
        load_emission_factors(tmp_path / "missing.yaml")


def test_unknown_driver_falls_back_to_lean_burn_and_says_so() -> None:
    factors = load_emission_factors()
    asset = CompressorAsset("C", "S", 2, "MYSTERY-1", 8000.0, 0.9)
    (burn,) = combustion(factors, {"C": asset}, {"C": 1000.0}, reporting_year=2025)
    assert "unknown: assumed four_stroke_lean_burn" in burn.method
    rich = CompressorAsset("R", "S", 2, "L7042GSI", 8000.0, 0.9)
    (rich_burn,) = combustion(factors, {"R": rich}, {"R": 1000.0}, reporting_year=2025)
    assert rich_burn.ch4_t == pytest.approx(8.0 * 0.229 * LB_TO_KG * 1e-3)


def test_assets_come_from_the_fleet_file() -> None:
    assets = assets_from_fleet(load_fleet(REPO / "config" / "fleet.yaml"))
    assert len(assets) == 10
    unit = assets["COMP-001"]
    assert unit.station_id == "EF-KARNES" and unit.throws >= 1
    assert unit.heat_rate_btu_per_bhp_h is not None and unit.packing_scfh_per_throw is not None
    assert 0.5 < unit.methane_mole_fraction < 1.0
