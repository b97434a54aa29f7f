"""Portal settings: placeholder secrets are refused outside development mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.settings import HubSettings
from shared.errors import ConfigError

REPO = Path(__file__).resolve().parents[3]


def test_repository_defaults_are_development_defaults() -> None:
    settings = HubSettings.load(REPO / "config" / "hub.yaml")
    assert settings.development and settings.portal.session_hours == 8
    assert not settings.cookie_secure
    assert set(settings.portal.oidc) == {"github", "google", "microsoft"}
    assert not any(p.enabled for p in settings.portal.oidc.values())


def test_placeholder_secret_key_is_refused_outside_development() -> None:
    with pytest.raises(ConfigError, match=r"portal\.secret_key is a placeholder"):
        HubSettings.load(REPO / "config" / "hub.yaml", development=False)


def test_placeholder_provider_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALTAVIZ_HUB_DEVELOPMENT", "false")
    monkeypatch.setenv("ALTAVIZ_HUB_PORTAL__SECRET_KEY", "k" * 48)
    monkeypatch.setenv("ALTAVIZ_HUB_PORTAL__OIDC__GOOGLE__CLIENT_ID", "client")
    monkeypatch.setenv("ALTAVIZ_HUB_PORTAL__OIDC__GOOGLE__CLIENT_SECRET", "changeme")
    with pytest.raises(ConfigError, match=r"oidc\.google\.client_secret"):
        HubSettings.load(REPO / "config" / "hub.yaml")
    monkeypatch.setenv("ALTAVIZ_HUB_PORTAL__OIDC__GOOGLE__CLIENT_SECRET", "a-real-secret-value")
    settings = HubSettings.load(REPO / "config" / "hub.yaml")
    assert settings.cookie_secure and settings.portal.oidc["google"].enabled
