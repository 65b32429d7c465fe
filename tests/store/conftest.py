"""Every store test runs against SQLite (a real file) and PostgreSQL (the local server).

PostgreSQL tests use a schema of their own, created and dropped around each test, so they
neither see nor disturb anything else in database `test`; they skip, saying why, where no
server answers on 127.0.0.1:5432.
"""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from nyquestro.store.database import create_db_engine

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_reason() -> str | None:
    try:
        engine = create_db_engine(PG_URL)
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # any failure to connect means: no server to test against
        return f"no PostgreSQL at {PG_URL}: {type(exc).__name__}: {exc}"
    return None


@pytest.fixture(params=["sqlite", "postgresql"])
def db_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = create_db_engine(str(tmp_path / "journal.db"))
        yield engine
        engine.dispose()
        return
    reason = _postgres_reason()
    if reason is not None:
        pytest.skip(reason)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_db_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f"create schema {schema}"))
    # Every connection of this engine resolves unqualified names in the test's schema.
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    yield engine
    engine.dispose()
    with admin.begin() as connection:
        connection.execute(text(f"drop schema {schema} cascade"))
    admin.dispose()
