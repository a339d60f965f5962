"""Persistence: SQLAlchemy Core tables, Alembic migrations, repositories, the sequencer."""
