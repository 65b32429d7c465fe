"""The journal remembers: durable storage of every sequenced command (SQLAlchemy 2).

SQLite (WAL) by default, PostgreSQL by URL. The schema is owned by the alembic migrations
in `migrations/`, applied on open. The store never imports the engine: replaying a
journal through an engine is the runtime's job.
"""
