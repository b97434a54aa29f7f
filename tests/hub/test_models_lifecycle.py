"""Hub model life cycle parts: champion/challenger decision, the signing key, the bundle server."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest
from pydantic import SecretStr

from hub.models_lifecycle.bundle_urls import BundleUrls
from hub.models_lifecycle.champion import HoldoutResult, decide
from hub.models_lifecycle.keys import signing_key
from hub.models_lifecycle.server import BundleServer
from hub.models_lifecycle.settings import ModelLifecycleSettings
from shared.bundle import generate_signing_key, key_id, private_key_pem
from shared.errors import ConfigError


def _result(*, compressors: int = 10, false_alarms: int = 1, detected: int = 3,
            events: int = 4, lead: float | None = 100.0) -> HoldoutResult:  # fmt: skip
    return HoldoutResult(
        compressors=compressors, false_alarms=false_alarms, healthy_compressor_months=10.0,
        detected=detected, events=events, median_lead_h=lead,
    )  # fmt: skip


def test_the_first_model_is_offered_unless_it_alarms_too_often() -> None:
    assert decide(_result(), None).offer
    noisy = decide(_result(false_alarms=8), None)  # 0.8 per compressor-month
    assert not noisy.offer and "above 0.5" in noisy.reasons[0]


def test_only_a_better_challenger_is_offered() -> None:
    champion = _result()
    same = decide(_result(), champion)
    assert not same.offer and "no better" in same.reasons[0]
    assert decide(_result(compressors=12), champion).offer
    assert decide(_result(false_alarms=0), champion).offer
    assert decide(_result(detected=4), champion).offer
    assert decide(_result(lead=130.0), champion).offer
    worse = decide(_result(detected=2, false_alarms=0), champion)
    assert not worse.offer and "detects 2 labelled events, champion 3" in worse.reasons
    fewer = decide(_result(compressors=9, detected=4), champion)
    assert not fewer.offer and any("covers 9 compressors" in r for r in fewer.reasons)
    tolerated = decide(
        _result(false_alarms=2, compressors=12), champion, max_false_alarm_increase=0.1
    )
    assert tolerated.offer
    assert "challenger better: offer it" in tolerated.lines()[0]


def _settings(tmp_path: Path, **fields: object) -> ModelLifecycleSettings:
    return ModelLifecycleSettings(dev_signing_key_file=tmp_path / "dev.pem", **fields)  # type: ignore[arg-type]


def test_development_generates_a_private_key_once(tmp_path: Path) -> None:
    first = signing_key(_settings(tmp_path), development=True)
    again = signing_key(_settings(tmp_path), development=True)
    assert key_id(first) == key_id(again)
    assert (tmp_path / "dev.pem").stat().st_mode & 0o077 == 0


def test_outside_development_only_a_real_private_key_is_accepted(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no model signing key"):
        signing_key(_settings(tmp_path), development=False)
    with pytest.raises(ConfigError, match="placeholder"):
        signing_key(_settings(tmp_path, signing_key_pem=SecretStr("changeme")), development=False)
    key = generate_signing_key()
    shared_file = tmp_path / "group-readable.pem"
    shared_file.write_bytes(private_key_pem(key))
    shared_file.chmod(0o640)
    with pytest.raises(ConfigError, match="readable by other users"):
        signing_key(_settings(tmp_path, signing_key_file=shared_file), development=False)
    dev = tmp_path / "dev.pem"
    dev.write_bytes(private_key_pem(key))
    dev.chmod(0o600)
    with pytest.raises(ConfigError, match="development signing key"):
        signing_key(_settings(tmp_path, signing_key_file=dev), development=False)
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    garbage.chmod(0o600)
    with pytest.raises(ConfigError, match="not an Ed25519 private key"):
        signing_key(_settings(tmp_path, signing_key_file=garbage), development=False)
    shared_file.chmod(0o600)
    loaded = signing_key(_settings(tmp_path, signing_key_file=shared_file), development=False)
    assert key_id(loaded) == key_id(key)
    from_env = signing_key(
        _settings(tmp_path, signing_key_pem=SecretStr(private_key_pem(key).decode())),
        development=False,
    )
    assert key_id(from_env) == key_id(key)


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_bundle_server_serves_a_station_only_its_own_orgs_offered_bundles(
    tmp_path: Path,
) -> None:
    for org in ("org-a", "org-b"):
        version = tmp_path / org / "compressor-anomaly" / "20260101.000000"
        version.mkdir(parents=True)
        (version / "bundle.tar").write_bytes(f"archive of {org}".encode())
        (version / "evaluation.json").write_text("{}")
    (tmp_path / "secret.txt").write_text("no")
    urls = BundleUrls.from_signing_key(generate_signing_key())
    path_a = "/org-a/compressor-anomaly/20260101.000000/bundle.tar"
    path_b = "/org-b/compressor-anomaly/20260101.000000/bundle.tar"
    with BundleServer(tmp_path, urls=urls) as server:
        base = server.base_url
        signed = urls.sign(base + path_a, path=path_a, station_id="EF-KARNES")
        with urllib.request.urlopen(signed) as r:
            assert r.read() == b"archive of org-a"
            assert r.headers["Content-Type"] == "application/x-tar"
        # No signature: 401. Another org's bundle, another station or version with the
        # same signature, a forged or expired one: 403. Nothing but bundles: 404.
        assert _status(base + path_a) == 401
        query = signed.split("?", 1)[1]
        assert _status(f"{base}{path_b}?{query}") == 403
        assert _status(f"{base}{path_a}?{query.replace('EF-KARNES', 'PB-MIDLAND')}") == 403
        assert _status(f"{base}{path_a.replace('20260101', '20260102')}?{query}") == 403
        assert _status(signed[:-4] + "0000") == 403
        expired = urls.sign(base + path_a, path=path_a, station_id="EF-KARNES", now=0)
        assert _status(expired) == 403
        other_key = BundleUrls.from_signing_key(generate_signing_key())
        assert _status(other_key.sign(base + path_a, path=path_a, station_id="EF-KARNES")) == 403
        evaluation = path_a.replace("bundle.tar", "evaluation.json")
        assert _status(urls.sign(base + evaluation, path=evaluation, station_id="S")) == 404
        assert _status(f"{base}/../secret.txt") == 404
        assert _status(f"{base}/%2e%2e/x/y/bundle.tar") == 404
        assert _status(f"{base}/secret.txt") == 404
