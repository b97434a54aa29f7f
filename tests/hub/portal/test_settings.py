"""Portal settings: production by default; placeholder secrets refused outside development."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub.cli import main as hub_cli
from hub.portal.app import create_app
from hub.settings import HubSettings
from shared.errors import ConfigError

REPO = Path(__file__).resolve().parents[3]


def test_repository_defaults_are_production_defaults() -> None:
    for settings in (HubSettings.load(REPO / "config" / "hub.yaml"), HubSettings.load(None)):
        assert not settings.development and settings.portal.session_hours == 8
        assert settings.cookie_secure
    settings = HubSettings.load(REPO / "config" / "hub.yaml")
    assert set(settings.portal.oidc) == {"github", "google", "microsoft"}
    assert not any(p.enabled for p in settings.portal.oidc.values())


def test_the_portal_refuses_to_start_with_a_placeholder_secret_in_production(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = HubSettings.load(REPO / "config" / "hub.yaml", database_url="sqlite://")
    with pytest.raises(ConfigError, match=r"portal\.secret_key is a placeholder"):
        create_app(settings)
    assert hub_cli(["--config", str(REPO / "config" / "hub.yaml"), "portal"]) != 0
    assert "portal.secret_key is a placeholder" in capsys.readouterr().err
    real = HubSettings.load(None, database_url="sqlite://", portal={"secret_key": "k" * 48})
    create_app(real)  # a real key: starts


def test_development_must_be_asked_for_and_stays_on_loopback() -> None:
    settings = HubSettings.load(None, database_url="sqlite://", development=True)
    app = create_app(settings)  # loopback (the default host): allowed, plain-http cookies
    assert not settings.cookie_secure
    assert "strict-transport-security" not in TestClient(app).get("/login").headers
    for host in ("0.0.0.0", "10.1.2.3", "portal.example.com"):
        exposed = HubSettings.load(
            None, database_url="sqlite://", development=True, portal={"host": host}
        )
        with pytest.raises(ConfigError, match="loopback"):
            create_app(exposed)
    with pytest.raises(ConfigError, match="loopback"):
        settings.check_portal(host="0.0.0.0")
    with_key = HubSettings.load(
        None, development=True, portal={"host": "0.0.0.0", "secret_key": "k" * 48}
    )
    with_key.check_portal()  # development with a real key may listen anywhere


def test_placeholder_provider_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALTAVIZ_HUB_PORTAL__SECRET_KEY", "k" * 48)
    monkeypatch.setenv("ALTAVIZ_HUB_PORTAL__OIDC__GOOGLE__CLIENT_ID", "client")
    monkeypatch.setenv("ALTAVIZ_HUB_PORTAL__OIDC__GOOGLE__CLIENT_SECRET", "changeme")
    with pytest.raises(ConfigError, match=r"oidc\.google\.client_secret"):
        HubSettings.load(REPO / "config" / "hub.yaml")
    monkeypatch.setenv("ALTAVIZ_HUB_PORTAL__OIDC__GOOGLE__CLIENT_SECRET", "a-real-secret-value")
    settings = HubSettings.load(REPO / "config" / "hub.yaml")
    assert settings.cookie_secure and settings.portal.oidc["google"].enabled
