"""What the demo shows of each hub domain: models, workflows, compliance, station configuration.

Each domain's code lives in its own package (hub/scoring, hub/workflows, hub/compliance,
hub/stationconfig); these hooks only start it with the demo's settings and print what it
did. `before_stations` hooks run once the portal, broker and ingest are up;
`after_stations` hooks once the panels and agents have started and reported in;
`before_stop` hooks just before the stations are stopped at the end; `summary` hooks after
the last lake run has been served (they also stop what their `before` hook started).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from hub.demo.hooks import DemoContext, DemoHooks

#: What a before-hook started and its summary hook stops (one demo per process).
_running: dict[str, Any] = {}


def _fleet():  # type: ignore[no-untyped-def]
    from shared.fleet import DEFAULT_FLEET_PATH, load_fleet

    return load_fleet(DEFAULT_FLEET_PATH)


# -- models: a baseline champion per model, scored by the pipeline, offered to the stations ---


def models_before(context: DemoContext) -> list[str]:
    from hub.scoring.demo import prepare_models, publish_detector

    started = time.monotonic()
    models = prepare_models(
        context.settings,
        context.engine,
        org_id=context.org_id,
        data_dir=context.data_dir,
        history_end=datetime.fromisoformat(context.start),
    )
    publish_detector(
        context.settings,
        context.engine,
        models,
        org_id=context.org_id,
        stations=list(context.stations),
    )
    context.edge_env["ALTAVIZ_EDGE_MODEL__PUBLIC_KEY_FILE"] = str(models.public_key_file)
    return [
        f"models: baseline anomaly, RUL and drift champions registered "
        f"({time.monotonic() - started:.0f} s); the detector offered to "
        f"{len(context.stations)} stations; the lake scores with all three"
    ]


def models_summary(context: DemoContext) -> list[str]:
    from hub.scoring.demo import closing_lines

    return closing_lines(
        context.engine, org_id=context.org_id, scenario=context.scenario, start=context.start
    )


# -- workflows: escalation, auto-resolve, freshness; e-mails into a local SMTP sink ----------


def workflows_before(context: DemoContext) -> list[str]:
    from hub.workflows.demo import start_demo_workflows

    mail = context.data_dir / "mail"
    # The stations start after this, and on a resumed run they still carry the offline
    # status the last run's planned stop left: freshness waits until they have reported in.
    _running["workflows"] = start_demo_workflows(
        context.settings, context.engine, mail_dir=mail, org_id=context.org_id,
        speed=context.speed, planned_start=True,
    )  # fmt: skip
    return [
        f"workflows: every 2 s on the data's clock; e-mails kept in {mail}; "
        "freshness checks wait for the stations"
    ]


def workflows_after_stations(context: DemoContext) -> list[str]:
    """The stations are up and have reported in: freshness (station offline) checks again."""
    workflows = _running.get("workflows")
    if workflows is None:
        return []
    workflows.stations_up()
    return ["workflows: the stations are up and reported in: freshness checks on"]


def workflows_before_stop(context: DemoContext) -> list[str]:
    """The end of the demo is planned, not an outage: no station-offline alert for it."""
    workflows = _running.get("workflows")
    if workflows is None:
        return []
    workflows.planned_stop()
    return ["workflows: the stations stop as planned (not an outage): freshness checks paused"]


def workflows_summary(context: DemoContext) -> list[str]:
    from hub.workflows.demo import summary_lines

    workflows = _running.pop("workflows", None)
    if workflows is None:
        return []
    workflows.stop()
    lines = summary_lines(workflows.notifications())
    return ["Notifications sent (simulated time, channel, recipient, alert):"] + [
        f"  {line}" for line in lines
    ]


# -- compliance: Subpart W year to date per station, with exports -------------------------


def compliance_before(context: DemoContext) -> list[str]:
    from hub.compliance.demo import seed_demo_profiles

    seed_demo_profiles(context.engine, org_id=context.org_id, fleet=_fleet())
    return []


def compliance_summary(context: DemoContext) -> list[str]:
    from hub.compliance.demo import stations_ytd
    from hub.workflows.demo import DataClock
    from simulator.engine import Simulation
    from simulator.scenario import load_scenario

    fleet = _fleet()
    story = load_scenario(context.scenario).with_overrides(start=context.start)
    through = DataClock(context.engine).now()
    out_dir = context.data_dir / "compliance"
    results = stations_ytd(
        context.engine, org_id=context.org_id, fleet=fleet, year=through.year,
        through=through, blowdown_events=Simulation(fleet, story).blowdowns(), out_dir=out_dir,
    )  # fmt: skip
    return [f"EPA Subpart W year to date per station (exports under {out_dir}):"] + [
        f"  {result.summary_line()}" for result in results
    ]


# -- station configuration: the agents' reports reach the portal's Configuration page --------


def station_config_before(context: DemoContext) -> list[str]:
    from hub.stationconfig.link import ConfigReportsWorker

    worker = ConfigReportsWorker(context.settings, context.engine)
    worker.start()
    _running["station_config"] = worker
    return []


def station_config_summary(context: DemoContext) -> list[str]:
    worker = _running.pop("station_config", None)
    if worker is not None:
        worker.stop()
    return []


def register(hooks: DemoHooks) -> DemoHooks:
    hooks.before_stations += [
        station_config_before, compliance_before, workflows_before, models_before,
    ]  # fmt: skip
    hooks.after_stations += [workflows_after_stations]
    hooks.before_stop += [workflows_before_stop]
    hooks.summary += [models_summary, workflows_summary, compliance_summary, station_config_summary]
    return hooks
