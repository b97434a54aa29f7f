"""Workflows: the scheduler, escalation, auto-resolve, data freshness, stale cleanup,
alert rules, and notifications through a transactional outbox (docs/workflows.md)."""
