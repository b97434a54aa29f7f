"""Exports through the API: CSV and Parquet streamed in chunks (row groups), readings from a
silver Delta table, the plan gate, empty ranges, another org's scope."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hub.db.base import utc_now
from hub.exports import service as exports
from hub.portal.app import create_app
from hub.portal.tenancy import Role
from tests.hub.portal.conftest import PortalDb, portal_settings
from tests.hub.portal.factories import Browser, make_member, make_org
from tests.support.telemetry import seed_failing_compressor

pytestmark = pytest.mark.postgres

START = datetime(2026, 3, 1, tzinfo=UTC)


def _silver(lake_root: Path, org_id: str, compressors: list[str]) -> None:
    """A silver readings table as the lakehouse writes it (the columns an export reads)."""
    from deltalake import write_deltalake

    rows = []
    for compressor in compressors:
        for i in range(120):
            at = START + timedelta(minutes=i)
            rows.append({
                "org_id": org_id, "station_id": compressor.rsplit("-C", 1)[0],
                "compressor_id": compressor, "timestamp": at, "seq": i,
                "operating_state": "running", "vibration_mms": 3.0, "discharge_temp_f": 215.0 + i,
                "suction_pressure_psi": 65.0, "discharge_pressure_psi": 1050.0,
                "horsepower_consumption": 1200.0, "gas_flow_mcf": 9000.0, "rule_flags": 0,
                "reading_date": at.date(),
            })  # fmt: skip
    table = pa.Table.from_pylist(rows)
    table = table.set_column(
        3, "timestamp", table.column("timestamp").cast(pa.timestamp("us", tz="UTC"))
    )
    write_deltalake(str(lake_root / "silver" / "readings"), table, partition_by=["reading_date"])


@pytest.fixture(scope="module")
def setup(portal_db: PortalDb, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    lake_root = tmp_path_factory.mktemp("lake")
    org = make_org(portal_db.owner, stations=2, compressors_per_station=2, plan="operations")
    seed_failing_compressor(portal_db.owner, org)  # 48 h of hourly aggregates per unit
    _silver(lake_root, org.org_id, org.compressor_ids)
    settings = portal_settings(portal_db.app_url, lake_root=str(lake_root))
    app = create_app(settings, engine=portal_db.app)
    viewer = make_member(portal_db.owner, org.org_id, Role.viewer)
    return org, app, Browser(app).login(viewer.email)


def _range(hours_back: int) -> dict[str, str]:
    end = utc_now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return {"start": (end - timedelta(hours=hours_back)).isoformat(), "end": end.isoformat()}


def test_hourly_csv_and_parquet_in_row_groups(setup, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    org, _, browser = setup
    url = f"/api/v1/orgs/{org.org_id}/exports"
    unit = org.compressor_ids[0]
    as_csv = browser.api(
        "GET", url, params={"dataset": "hourly", "compressor_id": unit, **_range(24)}
    )
    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.headers["content-disposition"].startswith(f'attachment; filename="hourly_{unit}_')
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert len(rows) == 24 and {r["compressor_id"] for r in rows} == {unit}
    assert rows[0]["discharge_temp_f_mean"] == "215.0" and "org_id" not in rows[0]
    assert rows[0]["hour_start"] < rows[-1]["hour_start"]

    monkeypatch.setattr(exports, "CHUNK_ROWS", 10)  # chunks of 10 rows: several row groups
    params = {"dataset": "hourly", "format": "parquet", **_range(48)}
    as_parquet = browser.api("GET", url, params=params)
    assert as_parquet.status_code == 200, as_parquet.text
    parquet = pq.ParquetFile(io.BytesIO(as_parquet.content))
    assert parquet.metadata.num_rows == 48 * 4 and parquet.metadata.num_row_groups == 20
    table = parquet.read()
    assert table.schema.field("hour_start").type == pa.timestamp("us", tz="UTC")
    assert sorted(set(table.column("compressor_id").to_pylist())) == sorted(org.compressor_ids)


def test_readings_episodes_and_work_orders(setup) -> None:  # type: ignore[no-untyped-def]
    org, _, browser = setup
    url = f"/api/v1/orgs/{org.org_id}/exports"
    unit = org.compressor_ids[1]
    window = {"start": "2026-03-01T00:30:00Z", "end": "2026-03-01T01:00:00Z"}
    readings = browser.api(
        "GET", url, params={"dataset": "readings", "compressor_id": unit, **window}
    )
    assert readings.status_code == 200, readings.text
    rows = list(csv.DictReader(io.StringIO(readings.text)))
    assert len(rows) == 30 and {r["compressor_id"] for r in rows} == {unit}
    assert (
        rows[0]["timestamp"] == "2026-03-01T00:30:00+00:00"
        and rows[0]["discharge_temp_f"] == "245.0"
    )

    episodes = browser.api("GET", url, params={"dataset": "episodes", **_range(24)})
    assert episodes.status_code == 200 and "high_discharge_temp" in episodes.text
    none_yet = browser.api("GET", url, params={"dataset": "work_orders", **_range(24)})
    assert none_yet.status_code == 404 and none_yet.json()["error"]["code"] == "empty_export"


def test_bad_requests_and_the_plan_gate(setup, portal_db: PortalDb) -> None:  # type: ignore[no-untyped-def]
    org, app, browser = setup
    url = f"/api/v1/orgs/{org.org_id}/exports"
    month_ago = utc_now().replace(microsecond=0) - timedelta(days=30)  # before the data
    empty = browser.api("GET", url, params={"dataset": "hourly", "start": month_ago.isoformat(),
                                            "end": (month_ago + timedelta(days=1)).isoformat()})  # fmt: skip
    assert empty.status_code == 404
    assert empty.json()["error"]["message"].startswith(
        f"No hourly for the organisation between {month_ago.isoformat()}"
    )
    older = browser.api("GET", url, params={"dataset": "hourly", "start": "2020-01-01T00:00:00Z",
                                            "end": "2020-02-01T00:00:00Z"})  # fmt: skip
    assert older.status_code == 402  # older than the plan shows (Operations: 730 days)
    assert "shows 730 days of history" in older.json()["error"]["message"]
    head = browser.client.head(url, params={"dataset": "hourly", **_range(24)})
    assert head.status_code == 200 and head.content == b""
    backwards = browser.api("GET", url, params={"dataset": "daily", "start": "2026-03-02T00:00:00Z",
                                                "end": "2026-03-01T00:00:00Z"})  # fmt: skip
    assert backwards.status_code == 422
    naive = browser.api("GET", url, params={"dataset": "daily", "start": "2026-03-01T00:00:00",
                                            "end": "2026-03-02T00:00:00"})  # fmt: skip
    assert naive.status_code == 422 and "time zone" in naive.json()["error"]["message"]
    other = make_org(portal_db.owner, stations=1, plan="operations")
    foreign = browser.api(
        "GET",
        url,
        params={"dataset": "hourly", "compressor_id": other.compressor_ids[0], **_range(24)},
    )
    assert foreign.status_code == 404

    pilot = make_org(portal_db.owner, stations=1)  # the Pilot plan has no exports
    member = make_member(portal_db.owner, pilot.org_id, Role.owner)
    gated = (
        Browser(app)
        .login(member.email)
        .api(
            "GET",
            f"/api/v1/orgs/{pilot.org_id}/exports",
            params={"dataset": "hourly", **_range(24)},
        )
    )
    assert gated.status_code == 402 and gated.json()["error"]["code"] == "plan_limit"


def test_daily_ranges_use_dates() -> None:
    request = exports.ExportRequest("daily", "csv", START, START + timedelta(days=2))
    request.check()
    assert request.filename("org-a") == "daily_org-a_20260301T0000_20260303T0000.csv"
    assert date(2026, 3, 1) == request.start.date()
