"""The serving database: SQLAlchemy 2 models, sessions with tenant scope, Alembic migrations.

SQLite file by default (embedded), PostgreSQL in production, where row-level
security enforces tenant scope a second time underneath the application.
"""
