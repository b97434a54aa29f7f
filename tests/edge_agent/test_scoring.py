"""Local scoring and alarm episodes: threshold rules, comm loss, the ONNX model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from edge_agent.alarms import AlarmStore, AlarmTracker
from edge_agent.model_runtime import OnnxModel
from edge_agent.scoring import Scorer
from edge_agent.thresholds import Thresholds, load_thresholds
from shared.bundle import generate_signing_key, open_bundle
from shared.errors import ConfigError
from shared.messages import AlarmEvent
from shared.schema import QUALITY_FIELDS, Quality
from tests.edge_agent.bundles import zscore_bundle
from tests.support.factories import reading_rows, readings

REPO = Path(__file__).resolve().parents[2]
START = datetime(2026, 3, 1, tzinfo=UTC)


def _thresholds(**extra: object) -> Thresholds:
    return Thresholds.model_validate(
        {
            "window_s": 10,
            "min_samples": 1,
            "rules": [
                {
                    "id": "hot",
                    "metric": "discharge_temp_f",
                    "above": 260,
                    "clear_below": 250,
                    "raise_after": 2,
                    "clear_after": 2,
                }
            ],
            "comm_loss": {"after_readings": 3, "clear_after": 1},
            **extra,
        }
    )


def _series(temps: list[float], *, start_seq: int = 1, **columns: list[object]):  # type: ignore[no-untyped-def]
    n = len(temps)
    return reading_rows(
        readings(
            n,
            compressors=1,
            first_seq=start_seq,
            start=START + timedelta(seconds=start_seq),
            discharge_temp_f=temps,
            **columns,
        )
    )


def test_an_episode_opens_once_and_closes_with_hysteresis() -> None:
    scorer = Scorer(_thresholds(), AlarmTracker("org-a", "S1"))
    temps = [250, 265, 270, 280, 275, 255, 262, 249, 248, 240]
    alarms = scorer.score(_series(temps)).alarms
    hot = [a for a in alarms if a.condition == "hot"]
    assert [a.event for a in hot] == [AlarmEvent.RAISED, AlarmEvent.CLEARED]
    raised, cleared = hot
    assert raised.seq == 3 and raised.value == 270 and raised.threshold == 260
    assert cleared.episode_id == raised.episode_id and cleared.seq == 9
    assert cleared.peak_value == 280
    assert scorer.tracker.active == 0


def test_readings_between_the_limits_keep_the_episode_open() -> None:
    scorer = Scorer(_thresholds(), AlarmTracker("org-a", "S1"))
    scorer.score(_series([270, 270]))
    assert scorer.tracker.active == 1
    assert scorer.score(_series([255] * 20, start_seq=3)).alarms == []
    assert scorer.tracker.active == 1


def test_panel_comm_loss_is_an_episode() -> None:
    scorer = Scorer(_thresholds(), AlarmTracker("org-a", "S1"))
    lost = {q: [int(Quality.COMM_ERROR)] * 4 for q in QUALITY_FIELDS}
    nulls = {s: [None] * 4 for s in ("vibration_mms", "suction_pressure_psi")}
    alarms = scorer.score(_series([None] * 4, **lost, **nulls)).alarms  # type: ignore[list-item]
    assert [(a.condition, a.event) for a in alarms] == [("panel_comm_loss", AlarmEvent.RAISED)]
    back = scorer.score(_series([215.0], start_seq=5)).alarms
    assert [(a.condition, a.event) for a in back] == [("panel_comm_loss", AlarmEvent.CLEARED)]


def test_the_model_scores_and_raises_anomaly_episodes() -> None:
    key = generate_signing_key()
    _m, _s, archive = zscore_bundle(key)
    model = OnnxModel(open_bundle(archive, key.public_key()))
    scorer = Scorer(_thresholds(rules=[]), AlarmTracker("org-a", "S1"))
    scorer.set_model(model)
    healthy = scorer.score(_series([215.0] * 10))
    assert healthy.alarms == [] and healthy.model_failure is None
    hot = scorer.score(_series([300.0] * 10, start_seq=11)).alarms
    anomaly = [a for a in hot if a.condition == "anomaly_score"]
    assert [a.event for a in anomaly] == [AlarmEvent.RAISED]
    assert anomaly[0].model_version == "anomaly-zscore@1"


def test_alarms_are_kept_locally_and_queued_until_published(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "alarms.duckdb"))
    store = AlarmStore(con)
    tracker = AlarmTracker("org-a", "S1")
    scorer = Scorer(_thresholds(), tracker)
    for alarm in scorer.score(_series([270, 270, 270])).alarms:
        store.record(alarm)
    queued = store.unpublished()
    assert len(queued) == 1 and b'"raised"' in queued[0][1]
    store.mark_published(queued[0][0])
    assert store.unpublished() == [] and store.pending_count() == 0
    assert store.recent()[0]["condition"] == "hot"
    # After a restart the open episode is restored: no second `raised` for it.
    restored = AlarmTracker("org-a", "S1")
    restored.restore(store.open_episodes())
    again = Scorer(_thresholds(), restored).score(_series([270, 270, 240, 240], start_seq=4))
    assert [a.event for a in again.alarms] == [AlarmEvent.CLEARED]


def test_shipped_thresholds_load_and_bad_rules_are_one_error(tmp_path: Path) -> None:
    shipped = load_thresholds(REPO / "config" / "thresholds.yaml")
    assert {r.id for r in shipped.rules} >= {"high_discharge_temp", "high_vibration"}
    bad = tmp_path / "t.yaml"
    bad.write_text("rules:\n  - id: x\n    metric: nope\n    above: 1\n")
    with pytest.raises(ConfigError, match="not a feature"):
        load_thresholds(bad)
