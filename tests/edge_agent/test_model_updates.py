"""Signed model updates: verify, shadow, promote, keep the previous, roll back, report."""

from __future__ import annotations

import functools
import http.server
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from onnx import TensorProto, helper

from edge_agent.agent import Agent
from edge_agent.settings import EdgeSettings
from shared.bundle import (
    encode_signature,
    generate_signing_key,
    pack_bundle,
    public_key_pem,
    read_archive,
)
from shared.messages import ModelOffer, UpdateOutcome
from tests.edge_agent.bundles import zscore_bundle
from tests.support.sources import FiniteSource

KEY = generate_signing_key()


@pytest.fixture
def settings(tmp_path: Path) -> EdgeSettings:
    key_file = tmp_path / "pinned.pem"
    key_file.write_bytes(public_key_pem(KEY))
    return EdgeSettings.load(
        None,
        buffer={"path": tmp_path / "edge" / "buffer.duckdb"},
        http={"enabled": False},
        model={"dir": tmp_path / "models", "public_key_file": key_file, "shadow_readings": 20},
    )


class SteadySource(FiniteSource):
    """Healthy readings forever (2 compressors), optionally with a discharge temperature."""

    def __init__(self) -> None:
        super().__init__(total=10**9, per_poll=4, compressors=2, poll_interval_s=0.0)
        self.temp_f: float | None = None

    def poll(self):  # type: ignore[no-untyped-def]
        readings = super().poll()
        if self.temp_f is not None:
            for r in readings:
                r.values = {**r.values, "discharge_temp_f": self.temp_f}
        return readings


@pytest.fixture
def agent(settings: EdgeSettings) -> Iterator[Agent]:
    agent = Agent(settings, source=SteadySource())
    yield agent
    agent.models.close()
    agent.buffer.close()


def _offer(tmp_path: Path, archive: bytes, manifest: Any, signature: bytes) -> ModelOffer:
    path = tmp_path / f"bundle-{manifest.version}-{time.monotonic_ns()}.tar"
    path.write_bytes(archive)
    return ModelOffer(
        manifest=manifest, signature=encode_signature(signature), bundle_url=path.as_uri()
    )


def _run_until(agent: Agent, condition: Callable[[], bool], *, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        agent.step()
        if condition():
            return
        time.sleep(0.005)
    raise AssertionError("condition not reached")


def _install(agent: Agent, tmp_path: Path, version: str, **kwargs: Any) -> None:
    manifest, signature, archive = zscore_bundle(KEY, version=version, **kwargs)
    agent.models.on_offer(_offer(tmp_path, archive, manifest, signature))
    _run_until(
        agent,
        lambda: (
            agent.models.last_update is not None and agent.models.last_update.version == version
        ),
    )


def _outcome(agent: Agent) -> tuple[UpdateOutcome, str]:
    report = agent.models.last_update
    assert report is not None
    return report.outcome, report.reason or ""


def test_a_signed_bundle_is_shadowed_then_promoted(agent: Agent, tmp_path: Path) -> None:
    _run_until(agent, lambda: agent.scorer.rows_scored > 50)
    _install(agent, tmp_path, "1")
    assert _outcome(agent) == (UpdateOutcome.PROMOTED, "")
    assert agent.models.running is not None and agent.models.running.version == "1"
    _install(agent, tmp_path, "2")
    assert agent.models.running.version == "2"
    store = agent.models.updater.store  # type: ignore[union-attr]
    assert (store.current, store.previous) == ("anomaly-zscore@2", "anomaly-zscore@1")
    status = agent._station_status(online=True)
    assert status.model_version == "2" and status.last_model_update is not None


def _rejected(agent: Agent, tmp_path: Path, offer: ModelOffer, why: str) -> None:
    agent.models.on_offer(offer)
    _run_until(agent, lambda: agent.models.last_update.version == offer.manifest.version)  # type: ignore[union-attr]
    outcome, reason = _outcome(agent)
    assert outcome == UpdateOutcome.REJECTED and why in reason, reason
    assert agent.models.running is not None and agent.models.running.version == "1"
    status = agent._station_status(online=True)
    assert status.model_version == "1"
    assert status.last_model_update is not None and why in (status.last_model_update.reason or "")


def test_tampered_bundle_is_rejected_and_the_previous_model_keeps_running(
    agent: Agent, tmp_path: Path
) -> None:
    _install(agent, tmp_path, "1")
    manifest, signature, archive = zscore_bundle(KEY, version="2")
    model = bytearray(read_archive(archive)["model.onnx"])
    model[len(model) // 2] ^= 0x01
    tampered = pack_bundle(manifest, signature, {"model.onnx": bytes(model)})
    _rejected(agent, tmp_path, _offer(tmp_path, tampered, manifest, signature), "sha256")


def test_bundle_signed_with_another_key_is_rejected(agent: Agent, tmp_path: Path) -> None:
    _install(agent, tmp_path, "1")
    manifest, signature, archive = zscore_bundle(generate_signing_key(), version="2")
    _rejected(agent, tmp_path, _offer(tmp_path, archive, manifest, signature), "does not verify")


def test_truncated_file_is_rejected(agent: Agent, tmp_path: Path) -> None:
    _install(agent, tmp_path, "1")
    manifest, signature, archive = zscore_bundle(KEY, version="2")
    short = read_archive(archive)["model.onnx"][:-40]
    truncated = pack_bundle(manifest, signature, {"model.onnx": short})
    _rejected(agent, tmp_path, _offer(tmp_path, truncated, manifest, signature), "truncated")


def test_a_model_that_calls_everything_anomalous_is_rejected(agent: Agent, tmp_path: Path) -> None:
    _install(agent, tmp_path, "1")
    _run_until(agent, lambda: agent.scorer.rows_scored > 100)
    paranoid = {"vibration_mms_mean": (0.0, 0.01)}  # every real reading is "anomalous"
    manifest, signature, archive = zscore_bundle(KEY, version="2", watched=paranoid)
    _rejected(agent, tmp_path, _offer(tmp_path, archive, manifest, signature), "anomalous")


def _sqrt_model() -> bytes:
    """score = sqrt(discharge_temp_f_mean - 200): NaN once the mean falls below 200 °F."""
    graph = helper.make_graph(
        [
            helper.make_node("Sub", ["features", "c"], ["d"]),
            helper.make_node("Sqrt", ["d"], ["r"]),
            helper.make_node("ReduceMax", ["r"], ["scores"], axes=[1], keepdims=0),
        ],
        "fragile",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, 1])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [None])],
        initializer=[helper.make_tensor("c", TensorProto.FLOAT, [1], [200.0])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def test_a_model_failing_after_promotion_is_rolled_back(agent: Agent, tmp_path: Path) -> None:
    _install(agent, tmp_path, "1")
    _run_until(agent, lambda: agent.scorer.rows_scored > 50)
    _install(
        agent,
        tmp_path,
        "2",
        watched={"discharge_temp_f_mean": (0.0, 1.0)},
        onnx_bytes=_sqrt_model(),
    )
    assert agent.models.running.version == "2"  # type: ignore[union-attr]
    agent.source.temp_f = 150.0  # type: ignore[attr-defined]
    _run_until(agent, lambda: _outcome(agent)[0] == UpdateOutcome.ROLLED_BACK)
    assert agent.models.running is not None and agent.models.running.version == "1"
    assert "non-finite" in _outcome(agent)[1]


def test_a_kept_model_that_no_longer_verifies_is_rolled_back_at_start(
    settings: EdgeSettings, tmp_path: Path
) -> None:
    first = Agent(settings, source=SteadySource())
    _install(first, tmp_path, "1")
    _install(first, tmp_path, "2")
    first.models.close()
    first.buffer.close()
    (settings.model.dir / "versions" / "anomaly-zscore@2" / "model.onnx").write_bytes(b"rot")
    second = Agent(settings, source=SteadySource())
    try:
        assert second.models.running is not None and second.models.running.version == "1"
        outcome, reason = _outcome(second)
        assert outcome == UpdateOutcome.ROLLED_BACK and "fails verification" in reason
    finally:
        second.models.close()
        second.buffer.close()


def test_bundles_are_fetched_over_http_only_when_allowed(agent: Agent, tmp_path: Path) -> None:
    manifest, signature, archive = zscore_bundle(KEY, version="1")
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "b.tar").write_bytes(archive)
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "www")
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/b.tar"
    offer = ModelOffer(manifest=manifest, signature=encode_signature(signature), bundle_url=url)
    try:
        agent.models.on_offer(offer)
        _run_until(agent, lambda: agent.models.last_update is not None)
        assert _outcome(agent)[0] == UpdateOutcome.FAILED and "not allowed" in _outcome(agent)[1]
        agent.models.settings.allow_http = True
        agent.models.updater.settings.allow_http = True  # type: ignore[union-attr]
        agent.models.on_offer(offer)
        _run_until(agent, lambda: _outcome(agent)[0] == UpdateOutcome.PROMOTED)
    finally:
        server.shutdown()
