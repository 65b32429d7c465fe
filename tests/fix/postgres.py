"""A PostgreSQL schema of its own for a test's venue, in the machine's database `test`."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def postgres_schema(prefix: str) -> Iterator[tuple[sa.Engine, str]]:
    """A fresh schema and an engine to reach it, dropped afterwards; skips the test,
    saying why, where no server answers."""
    engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 2})
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        engine.dispose()
        pytest.skip(f"no PostgreSQL at {PG_URL}: {str(exc).splitlines()[0]}")
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield engine, schema
    finally:
        with engine.begin() as conn:
            # A killed venue's blocked statement ends once its locks go; never wait forever.
            conn.execute(sa.text("SET LOCAL lock_timeout = '20s'"))
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def schema_url(schema: str) -> str:
    """The venue's store URL: database `test`, tables in `schema`."""
    return f"{PG_URL}?options=-csearch_path%3D{schema}"
