"""Maintenance fixtures: the portal (app role, RLS in force) with a data dir of its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI

from hub.portal.app import create_app
from tests.hub.portal.conftest import PortalDb, portal_settings


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hub-data")


@pytest.fixture(scope="module")
def app(portal_db: PortalDb, data_dir: Path) -> FastAPI:
    return create_app(portal_settings(portal_db.app_url, data_dir=data_dir), engine=portal_db.app)
