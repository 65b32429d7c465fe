"""Writing a batch of rows as one INSERT whose one parameter is the batch as JSON.

The database unpacks the array itself (`json_each` on SQLite, `json_array_elements` on
PostgreSQL). Through the DB-API driver directly: a SQLAlchemy Core insert costs ~100 µs of
Python per transaction. And one statement rather than `executemany`, which binds each row
in Python and takes the GIL back after every row's step: while the sequencer thread keeps
the GIL busy each of those waits a switch interval (5 ms), and a busy venue's batches
crawled. Here the driver waits for the GIL once per batch.
"""

import json
from collections.abc import Sequence

from sqlalchemy import Engine

_COMPACT = json.JSONEncoder(separators=(",", ":"))


def batch_insert_sql(dialect: str, table: str, columns: Sequence[tuple[str, str]]) -> str:
    """The INSERT for `table`; `columns` are (name, PostgreSQL type) in row order."""
    names = ", ".join(name for name, _ in columns)
    if dialect == "sqlite":
        values = ", ".join(f"value->>{i}" for i in range(len(columns)))
        return f"INSERT INTO {table} ({names}) SELECT {values} FROM json_each(?)"
    if dialect == "postgresql":
        values = ", ".join(f"(r->>{i})::{kind}" for i, (_, kind) in enumerate(columns))
        return (
            f"INSERT INTO {table} ({names}) SELECT {values} FROM json_array_elements(%s::json) AS r"
        )
    raise ValueError(f"no batch insert for database {dialect!r}: use SQLite or PostgreSQL")


def insert_batch(engine: Engine, sql: str, rows: Sequence[Sequence[object]]) -> None:
    """Insert `rows` in one transaction; on return they are committed."""
    batch = _COMPACT.encode(rows)
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(sql, (batch,))
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        connection.close()  # back to the pool
