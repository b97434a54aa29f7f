"""Every plan gate for every plan, through the API and pages where they exist, and the
gate functions other packages call; then the org's standing: trial over, payment
failing past its grace, over a smaller plan's limits after a downgrade; compressors that
report beyond the limit; the history each plan shows, in reads and exports."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import Interval, func, literal, select, update

from hub.db.base import utc_now
from hub.db.models import Compressor, Organization, Station
from hub.db.session import session_scope
from hub.portal.app import create_app
from hub.portal.billing import gates
from hub.portal.billing.models import BillingAccount
from hub.portal.errors import PlanLimit
from hub.portal.tenancy import Role
from hub.serving.fleet import ensure_assets
from hub.serving.models import AlertEpisode, HourlyAggregate, Prediction, StationFreshness
from tests.hub.portal.conftest import PortalDb, portal_settings
from tests.hub.portal.factories import Browser, OrgData, make_member, make_org, make_token
from tests.support.telemetry import hourly_row

pytestmark = pytest.mark.postgres

#: What the product sells (the pricing page), written out, not read from the code.
EXPECTED = {
    "pilot": {
        "stations": 5, "compressors": 30, "members": 5, "api_tokens": 5, "retention_days": 90,
        "features": {"notifications"}, "channels": {"email"},
    },
    "operations": {
        "stations": 50, "compressors": 400, "members": 50, "api_tokens": 50,
        "retention_days": 730,
        "features": {"ml", "compliance", "notifications", "exports"},
        "channels": {"email", "sms", "teams", "slack", "webhook"},
    },
    "enterprise": {
        "stations": None, "compressors": None, "members": None, "api_tokens": None,
        "retention_days": None,
        "features": {"ml", "compliance", "notifications", "sso", "exports"},
        "channels": {"email", "sms", "teams", "slack", "webhook", "pagerduty"},
    },
}  # fmt: skip
UNLIMITED_PROBE = 51  # "no limit": one past the largest limit of any other plan
UNLIMITED_COMPRESSORS = 401


def _fill(portal_db: PortalDb, org_id: str, what: str, count: int) -> None:
    owner = make_member(portal_db.owner, org_id, Role.owner, password=None)
    if what == "members":
        for _ in range(count - 1):  # the owner is one
            make_member(portal_db.owner, org_id, password=None)
    if what == "api_tokens":
        for _ in range(count):
            make_token(portal_db.owner, owner)


def _add(browser: Browser, org_id: str, what: str, n: int):  # type: ignore[no-untyped-def]
    base = f"/api/v1/orgs/{org_id}"
    if what == "stations":
        return browser.api("POST", f"{base}/stations", json={"id": f"NEW-{n}", "name": "New"})
    if what == "members":
        return browser.api("POST", f"{base}/invitations", json={"email": f"new{n}@example.com"})
    return browser.api("POST", f"{base}/tokens", json={"name": f"token {n}"})


@pytest.mark.parametrize("plan", list(EXPECTED))
@pytest.mark.parametrize("what", ["stations", "members", "api_tokens"])
def test_limits_of_every_plan(
    portal_app: FastAPI, portal_db: PortalDb, plan: str, what: str
) -> None:
    limit = EXPECTED[plan][what]
    have = limit if isinstance(limit, int) else UNLIMITED_PROBE
    org = make_org(
        portal_db.owner, plan=plan, stations=have if what == "stations" else 1,
        compressors_per_station=0,
    )  # fmt: skip
    _fill(portal_db, org.org_id, what, have if what != "stations" else 0)
    admin = make_member(portal_db.owner, org.org_id, Role.admin)
    if what == "members":  # the admin who signs in is one more member
        with session_scope(portal_db.owner) as session:
            assert gates.usage(session=session, org_id=org.org_id)["members"] == have + 1
    browser = Browser(portal_app).login(admin.email)
    answer = _add(browser, org.org_id, what, 1)
    if limit is None:
        assert answer.status_code == 201, answer.text
    else:
        assert answer.status_code == 402, answer.text
        error = answer.json()["error"]
        assert error["code"] == "plan_limit" and f"includes {limit}" in error["message"]


@pytest.mark.parametrize("plan", list(EXPECTED))
def test_features_channels_and_retention_of_every_plan(
    portal_app: FastAPI, portal_db: PortalDb, plan: str
) -> None:
    expected = EXPECTED[plan]
    org = make_org(portal_db.owner, plan=plan, stations=1, compressors_per_station=1)
    viewer = make_member(portal_db.owner, org.org_id, Role.viewer)
    browser = Browser(portal_app).login(viewer.email)
    # ML: model rollout (API and page) and predictions (RUL, drift).
    ml = "ml" in expected["features"]
    unit = org.compressor_ids[0]
    for path in (
        f"/api/v1/orgs/{org.org_id}/models/versions",
        f"/api/v1/orgs/{org.org_id}/compressors/{unit}/predictions",
        f"/o/{org.org_id}/models",
    ):
        status = browser.client.get(path).status_code
        assert status == (200 if ml else 402), (plan, path, status)
    page = browser.client.get(f"/o/{org.org_id}/compressors/{unit}").text
    assert ("data-predictions-url" in page) == ml and ("not in the plan" in page) != ml
    with session_scope(portal_db.owner) as session:
        for feature in ("ml", "compliance", "notifications", "sso", "exports"):
            if feature in expected["features"]:
                gates.require_feature(org.org_id, feature, session=session)
                org_row = session.get(Organization, org.org_id)
                gates.require_feature(org_row, feature)  # type: ignore[arg-type]
            else:
                with pytest.raises(PlanLimit, match="does not include"):
                    gates.require_feature(org.org_id, feature, session=session)
        for channel in ("email", "sms", "teams", "slack", "webhook", "pagerduty"):
            if channel in expected["channels"]:
                gates.require_channel(session=session, org_id=org.org_id, channel=channel)
            else:
                with pytest.raises(PlanLimit):
                    gates.require_channel(session=session, org_id=org.org_id, channel=channel)
        days = gates.retention_days(session=session, org_id=org.org_id)
        assert days == expected["retention_days"]
    billing = browser.client.get(f"/api/v1/orgs/{org.org_id}/billing")
    assert billing.status_code == 403  # viewers do not see billing; owners do (below)


def _set_account(portal_db: PortalDb, org_id: str, **fields: object) -> None:
    with session_scope(portal_db.owner, org_id=org_id) as session:
        account = session.get(BillingAccount, org_id) or BillingAccount(org_id=org_id)
        for key, value in {"status": "none", **fields}.items():
            setattr(account, key, value)
        session.merge(account)


def test_trial_ends_on_its_date_then_read_only_but_payable(
    portal_app: FastAPI, portal_db: PortalDb
) -> None:
    org = make_org(portal_db.owner, plan="pilot", stations=1)
    owner = make_member(portal_db.owner, org.org_id, Role.owner)
    browser = Browser(portal_app).login(owner.email)
    _set_account(portal_db, org.org_id, trial_ends_at=utc_now() + timedelta(days=1))
    assert browser.api("POST", f"/api/v1/orgs/{org.org_id}/stations",
                       json={"id": "IN-TRIAL", "name": "x"}).status_code == 201  # fmt: skip
    info = browser.client.get(f"/api/v1/orgs/{org.org_id}/billing").json()
    assert info["standing"] == "trialing" and info["standing_until"]
    _set_account(portal_db, org.org_id, trial_ends_at=utc_now() - timedelta(minutes=1))
    refused = browser.api(
        "POST", f"/api/v1/orgs/{org.org_id}/stations", json={"id": "AFTER", "name": "x"}
    )
    assert refused.status_code == 402 and refused.json()["error"]["code"] == "read_only"
    assert browser.client.get(f"/api/v1/orgs/{org.org_id}/stations").status_code == 200
    page = browser.client.get(f"/o/{org.org_id}/settings/billing")
    assert page.status_code == 200 and "Read-only" in page.text
    with session_scope(portal_db.owner) as session:  # nothing was deleted
        stations = session.scalars(select(Station.id).where(Station.org_id == org.org_id)).all()
    assert len(stations) == 2


def test_failed_payment_has_a_grace_period_then_read_only(
    portal_app: FastAPI, portal_db: PortalDb
) -> None:
    org = make_org(portal_db.owner, plan="operations", stations=1)
    owner = make_member(portal_db.owner, org.org_id, Role.owner)
    browser = Browser(portal_app).login(owner.email)
    _set_account(portal_db, org.org_id, status="past_due", past_due_since=utc_now())
    url = f"/api/v1/orgs/{org.org_id}/stations"
    assert browser.api("POST", url, json={"id": "GRACE", "name": "x"}).status_code == 201
    assert browser.client.get(f"/api/v1/orgs/{org.org_id}/billing").json()["standing"] == "grace"
    _set_account(
        portal_db, org.org_id, status="past_due", past_due_since=utc_now() - timedelta(days=15)
    )
    assert browser.api("POST", url, json={"id": "LATE", "name": "x"}).status_code == 402
    models = browser.client.get(f"/api/v1/orgs/{org.org_id}/models/versions")
    assert models.status_code == 402 and models.json()["error"]["code"] == "read_only"


def test_after_a_downgrade_stations_over_the_limit_become_read_only_after_grace(
    portal_app: FastAPI, portal_db: PortalDb
) -> None:
    org = make_org(portal_db.owner, plan="pilot", stations=7, compressors_per_station=0)
    admin = make_member(portal_db.owner, org.org_id, Role.admin)
    browser = Browser(portal_app).login(admin.email)
    _set_account(portal_db, org.org_id, status="active", over_limit_since=utc_now())
    first, last = org.station_ids[0], org.station_ids[-1]
    url = f"/api/v1/orgs/{org.org_id}/stations"
    assert browser.api("PATCH", f"{url}/{last}", json={"name": "In grace"}).status_code == 200
    _set_account(
        portal_db, org.org_id, status="active", over_limit_since=utc_now() - timedelta(days=15)
    )
    refused = browser.api("PATCH", f"{url}/{last}", json={"name": "Over"})
    assert refused.status_code == 402 and "read-only" in refused.json()["error"]["message"]
    assert browser.api("PATCH", f"{url}/{first}", json={"name": "Kept"}).status_code == 200
    assert browser.api("DELETE", f"{url}/{last}").status_code == 204  # back under, by choice
    assert browser.client.get(f"{url}/{last}").status_code == 404


def test_after_a_downgrade_members_and_tokens_over_the_limit_can_only_read(
    portal_app: FastAPI, portal_db: PortalDb
) -> None:
    org = make_org(portal_db.owner, plan="operations", stations=1, compressors_per_station=0)
    owner = make_member(portal_db.owner, org.org_id, Role.owner)
    tokens = [make_token(portal_db.owner, owner) for _ in range(6)]  # Pilot: 5
    for _ in range(4):
        make_member(portal_db.owner, org.org_id, password=None)
    newest = make_member(portal_db.owner, org.org_id, Role.admin)  # the 6th member
    with session_scope(portal_db.owner) as session:  # downgraded to Pilot
        session.get(Organization, org.org_id).plan = "pilot"  # type: ignore[union-attr]
    _set_account(
        portal_db, org.org_id, status="active", over_limit_since=utc_now() - timedelta(days=15)
    )
    url = f"/api/v1/orgs/{org.org_id}/stations/{org.station_ids[0]}"

    def patch(secret: str):  # type: ignore[no-untyped-def]
        return Browser(portal_app).client.patch(
            url, json={"name": "Renamed"}, headers={"Authorization": f"Bearer {secret}"}
        )

    assert patch(tokens[0]).status_code == 200  # within the 5 oldest tokens
    refused = patch(tokens[-1])
    assert refused.status_code == 402 and "can only read" in refused.json()["error"]["message"]
    newest_browser = Browser(portal_app).login(newest.email)
    assert newest_browser.client.get(url).status_code == 200  # reads keep working
    member_refused = newest_browser.api("PATCH", url, json={"name": "Again"})
    assert member_refused.status_code == 402 and "read-only" in member_refused.text
    owner_browser = Browser(portal_app).login(owner.email)
    assert owner_browser.api("PATCH", url, json={"name": "By the owner"}).status_code == 200


# -- compressors beyond the limit -------------------------------------------------------


def _age_compressors(portal_db: PortalDb, org_id: str, days: int) -> None:
    """Every unit of the org registered `days` earlier (their order is kept)."""
    with session_scope(portal_db.owner, org_id=org_id) as session:
        session.execute(
            update(Compressor)
            .where(Compressor.org_id == org_id)
            .values(created_at=Compressor.created_at - literal(timedelta(days=days), Interval()))
        )


@pytest.mark.parametrize("plan", list(EXPECTED))
def test_compressors_reporting_beyond_the_limit_are_kept_and_shown_only_for_the_grace_period(
    portal_app: FastAPI, portal_db: PortalDb, plan: str
) -> None:
    limit = EXPECTED[plan]["compressors"]
    have = limit if isinstance(limit, int) else UNLIMITED_COMPRESSORS
    org = make_org(portal_db.owner, plan=plan, stations=1, compressors_per_station=have)
    station = org.station_ids[0]
    new = f"{station}-NEW"
    hour = utc_now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    # Telemetry names a unit nobody described: the serving sync registers it; its data lands.
    with session_scope(portal_db.owner, org_id=org.org_id) as session:
        ensure_assets(session, org.org_id, [(org.org_id, station, new)])
        session.add(hourly_row(org.org_id, station, new, hour))
    viewer = make_member(portal_db.owner, org.org_id, Role.viewer)
    browser = Browser(portal_app).login(viewer.email)
    api = f"/api/v1/orgs/{org.org_id}"
    unit_urls = (f"{api}/compressors/{new}", f"{api}/compressors/{new}/series?range=24h",
                 f"{api}/compressors/{new}/performance", f"/o/{org.org_id}/compressors/{new}")  # fmt: skip

    # In its grace period, the unit is shown (and the fleet page says until when).
    assert [browser.client.get(url).status_code for url in unit_urls] == [200] * 4
    fleet = browser.client.get(f"{api}/fleet").json()
    assert fleet["counts"]["total"] == have + 1 and fleet["compressors_not_shown"] == 0
    assert (fleet["compressors_shown_until"] is None) == (limit is None)

    _age_compressors(portal_db, org.org_id, days=gates.GRACE_DAYS + 1)
    answers = [browser.client.get(url) for url in unit_urls]
    listed = browser.client.get(f"{api}/compressors", params={"station_id": station}).json()
    fleet = browser.client.get(f"{api}/fleet").json()
    fleet_page = browser.client.get(f"/o/{org.org_id}/fleet").text
    station_units = browser.client.get(f"{api}/stations/{station}/compressors").json()
    if limit is None:
        assert [a.status_code for a in answers] == [200] * 4
        assert listed["total"] == have + 1 and fleet["counts"]["total"] == have + 1
    else:
        assert [a.status_code for a in answers] == [402] * 4, [a.text[:200] for a in answers]
        message = answers[0].json()["error"]["message"]
        assert f"includes {limit} compressors" in message and "kept" in message
        assert f"includes {limit} compressors" in answers[-1].text  # the page says the same
        assert listed["total"] == limit and fleet["counts"]["total"] == limit
        assert new not in {unit["id"] for unit in station_units}
        assert fleet["compressors_not_shown"] == 1
        assert "1 compressor(s) beyond the plan's limit are not shown" in fleet_page
    if "exports" in EXPECTED[plan]["features"]:  # only the new unit has data: left out
        export = browser.client.get(f"{api}/exports", params={
            "dataset": "hourly", "format": "csv", "start": hour.isoformat(),
            "end": (hour + timedelta(hours=1)).isoformat()})  # fmt: skip
        assert export.status_code == (200 if limit is None else 404), export.text
    with session_scope(portal_db.owner, org_id=org.org_id) as session:  # nothing was dropped
        assert session.get(Compressor, (org.org_id, new)) is not None
        kept = select(func.count()).where(HourlyAggregate.compressor_id == new)
        assert session.scalar(kept.select_from(HourlyAggregate)) == 1
    if limit is not None:  # an upgrade shows it again, with its history
        with session_scope(portal_db.owner) as session:
            bigger = "operations" if plan == "pilot" else "enterprise"
            session.get(Organization, org.org_id).plan = bigger  # type: ignore[union-attr]
        series = browser.client.get(unit_urls[1])
        assert series.status_code == 200 and len(series.json()["t"]) == 1


# -- history each plan shows --------------------------------------------------------------

#: Units of the retention org and the ages (days) of their hourly aggregates.
AGES = {"C01": [100], "C02": [705, 735], "C03": [800]}


def _hour(age_days: float) -> datetime:
    return utc_now().replace(minute=0, second=0, microsecond=0) - timedelta(days=age_days)


def _history_org(portal_db: PortalDb, plan: str) -> tuple[OrgData, dict[str, int]]:
    """An org whose units reported long ago (AGES) and alert episodes that ended 100 and 800
    days ago: resolved (history) or not yet resolved (work). Returns its episodes by name."""
    org = make_org(portal_db.owner, plan=plan, stations=1, compressors_per_station=len(AGES))
    station = org.station_ids[0]
    episodes = {}
    with session_scope(portal_db.owner, org_id=org.org_id) as session:
        for unit, ages in AGES.items():
            for age in ages:
                session.add(hourly_row(org.org_id, station, f"{station}-{unit}", _hour(age)))
                session.add(
                    Prediction(org_id=org.org_id, compressor_id=f"{station}-{unit}",
                               station_id=station, model_id="anomaly", score_kind="anomaly",
                               scored_at=_hour(age), model_version="1.0.0", score=0.2)
                )  # fmt: skip
        for name, ended, resolved in (("resolved-100", 100, True), ("resolved-800", 800, True),
                                      ("unresolved-800", 800, False)):  # fmt: skip
            episode = AlertEpisode(
                org_id=org.org_id, episode_id=uuid.uuid4().hex, station_id=station,
                compressor_id=f"{station}-C01", condition="high_discharge_temp",
                category="equipment", signal="discharge_temp_f", status="closed",
                severity="warning", first_seen_at=_hour(ended + 1), opened_at=_hour(ended + 1),
                last_seen_at=_hour(ended), closed_at=_hour(ended), peak_value=270.0,
                peak_at=_hour(ended + 1), warning_threshold=260.0, critical_threshold=300.0,
                minutes_active=1440, resolved_at=_hour(ended) if resolved else None,
                resolved_by="tech@example.com" if resolved else None,
            )  # fmt: skip
            session.add(episode)
            episodes[name] = episode.episode_id
    return org, episodes


def _shown(days: int | None, age: float) -> bool:
    return days is None or age < days


@pytest.mark.parametrize("plan", list(EXPECTED))
def test_reads_show_the_history_of_every_plan_and_nothing_is_deleted(
    portal_app: FastAPI, portal_db: PortalDb, plan: str
) -> None:
    days = EXPECTED[plan]["retention_days"]
    org, episodes = _history_org(portal_db, plan)
    viewer = make_member(portal_db.owner, org.org_id, Role.viewer)
    browser = Browser(portal_app).login(viewer.email)
    api, station = f"/api/v1/orgs/{org.org_id}", org.station_ids[0]
    for unit, ages in AGES.items():  # a unit's chart: its newest day the plan still shows
        series = browser.client.get(f"{api}/compressors/{station}-{unit}/series?range=24h").json()
        shown = [age for age in ages if _shown(days, age)]
        assert len(series["t"]) == (1 if shown else 0), (unit, series["t"])
        assert (series["history_from"] is None) == (days is None)
        scores = browser.client.get(f"{api}/compressors/{station}-{unit}/predictions")
        if "ml" in EXPECTED[plan]["features"]:
            assert len(scores.json()["anomaly"]["t"]) == len(shown)
    listed = browser.client.get(f"{api}/alerts", params={"compressor_id": f"{station}-C01"})
    queue = browser.client.get(f"/o/{org.org_id}/alerts").text
    for name, episode_id in episodes.items():
        kept = name.startswith("unresolved") or _shown(days, int(name.rsplit("-", 1)[1]))
        assert (episode_id in {a["id"] for a in listed.json()["items"]}) == kept, name
        assert (episode_id in queue) == kept, name
        for url in (f"{api}/alerts/{episode_id}", f"/o/{org.org_id}/alerts/{episode_id}"):
            answer = browser.client.get(url)
            assert answer.status_code == (200 if kept else 402), (name, url)
            if not kept:
                assert f"shows {days} days of history" in answer.text
    with session_scope(portal_db.owner, org_id=org.org_id) as session:  # nothing was deleted
        count = select(func.count()).select_from(HourlyAggregate)
        assert session.scalar(count.where(HourlyAggregate.org_id == org.org_id)) == 4
        count = select(func.count()).select_from(AlertEpisode)
        assert session.scalar(count.where(AlertEpisode.org_id == org.org_id)) == 3


@pytest.mark.parametrize("plan", list(EXPECTED))
def test_exports_are_clipped_to_the_history_of_every_plan(
    portal_app: FastAPI, portal_db: PortalDb, plan: str
) -> None:
    days = EXPECTED[plan]["retention_days"]
    org, _ = _history_org(portal_db, plan)
    viewer = make_member(portal_db.owner, org.org_id, Role.viewer)
    browser = Browser(portal_app).login(viewer.email)
    station = org.station_ids[0]
    for unit, start_age, end_age in (("C02", 740, 700), ("C03", 801, 799)):
        answer = browser.client.get(
            f"/api/v1/orgs/{org.org_id}/exports",
            params={"dataset": "hourly", "format": "csv", "compressor_id": f"{station}-{unit}",
                    "start": _hour(start_age).isoformat(), "end": _hour(end_age).isoformat()},
        )  # fmt: skip
        if "exports" not in EXPECTED[plan]["features"]:
            assert answer.status_code == 402 and "does not include" in answer.text
            continue
        if days is not None and end_age >= days:  # all of the range is older than the plan shows
            assert answer.status_code == 402, answer.text
            error = answer.json()["error"]
            assert error["code"] == "plan_limit" and f"shows {days} days" in error["message"]
            continue
        assert answer.status_code == 200, answer.text
        rows = list(csv.DictReader(io.StringIO(answer.text)))
        expected = [a for a in AGES[unit] if end_age < a <= start_age and _shown(days, a)]
        assert len(rows) == len(expected), (unit, rows)
        clipped = days is not None and start_age > days
        assert ("x-altaviz-history-from" in answer.headers) == clipped
        if clipped:
            starts = datetime.fromisoformat(answer.headers["x-altaviz-history-from"])
            assert abs(starts - (utc_now() - timedelta(days=days))) < timedelta(minutes=5)
            assert f"{starts:%Y%m%dT%H%M}" in answer.headers["content-disposition"]


def test_history_is_measured_on_the_data_clock_where_the_portal_reads_ages_on_it(
    portal_app: FastAPI, portal_db: PortalDb
) -> None:
    # A replay: the org's newest data is 200 days old, the unit reported 250 days ago.
    org = make_org(portal_db.owner, plan="pilot", stations=1, compressors_per_station=1)
    station, unit = org.station_ids[0], org.compressor_ids[0]
    with session_scope(portal_db.owner, org_id=org.org_id) as session:
        session.add(hourly_row(org.org_id, station, unit, _hour(250)))
        session.add(
            StationFreshness(org_id=org.org_id, station_id=station, last_reading_at=_hour(200),
                             last_received_at=utc_now(), compressors_reporting=1,
                             readings_last_hour=60, lag_p50_s=1.0, lag_p95_s=2.0)
        )  # fmt: skip
    data_clock_app = create_app(
        portal_settings(portal_db.app_url, portal={"clock": "data"}), engine=portal_db.app
    )
    viewer = make_member(portal_db.owner, org.org_id, Role.viewer)
    url = f"/api/v1/orgs/{org.org_id}/compressors/{unit}/series?range=24h"
    on_data_clock = Browser(data_clock_app).login(viewer.email).client.get(url).json()
    on_wall_clock = Browser(portal_app).login(viewer.email).client.get(url).json()
    assert len(on_data_clock["t"]) == 1 and len(on_wall_clock["t"]) == 0
    starts = datetime.fromisoformat(on_data_clock["history_from"])
    assert abs(starts - (_hour(200) - timedelta(days=90))) < timedelta(seconds=1)
