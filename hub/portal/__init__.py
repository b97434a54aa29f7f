"""The multi-tenant web portal: server-rendered pages and the JSON API (/api/v1).

One package per domain (auth, orgs, tokens, fleet, alerts, quality, models_view,
audit, billing), each with models.py / schemas.py / service.py / views.py.
`hub.portal.app.create_app` assembles them.
"""
