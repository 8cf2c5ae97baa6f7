"""Persistence: SQLAlchemy models, the engine and session, Alembic migrations.

Nothing here knows about HTTP; the API layer calls these functions and commits.
"""
