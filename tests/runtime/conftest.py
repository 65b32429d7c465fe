"""Runtime tests use the store tests' databases (SQLite file and local PostgreSQL)."""

from tests.store.conftest import db_engine

__all__ = ["db_engine"]
