"""Pages and API (built on the serving tables)."""

from fastapi import APIRouter

api = APIRouter()
pages = APIRouter(include_in_schema=False)
