"""ASGI entry for process managers: `uvicorn --factory hub.portal.asgi:create --workers 4`.

Settings come from config/hub.yaml (or ALTAVIZ_HUB_CONFIG) and ALTAVIZ_HUB_* variables.
"""

from __future__ import annotations

from fastapi import FastAPI

from hub.portal.app import create_app
from hub.settings import HubSettings


def create() -> FastAPI:
    return create_app(HubSettings.load())
