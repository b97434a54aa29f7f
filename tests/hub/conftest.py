"""The portal's migrated PostgreSQL database for hub tests outside tests/hub/portal
(maintenance, exports): one instance for all of them."""

from tests.hub.portal.conftest import portal_db

__all__ = ["portal_db"]
