from tests.hub.portal.conftest import portal_db

__all__ = ["portal_db"]
