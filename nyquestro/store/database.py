"""Open a store: engine with the right SQLite pragmas, schema migrated to head."""

from pathlib import Path

from alembic import command as alembic_command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from nyquestro.config.paths import MIGRATIONS_DIR


def normalise_url(db: str) -> str:
    """A bare path means an SQLite file; anything with '://' is a SQLAlchemy URL."""
    return db if "://" in db else f"sqlite:///{db}"


def create_db_engine(db: str, *, synchronous: str = "NORMAL") -> Engine:
    """SQLAlchemy engine; SQLite files get WAL and the given `synchronous` level.

    WAL with synchronous=NORMAL keeps every committed transaction across a process crash
    (kill -9): only an OS crash or power loss can lose the last commits. FULL also
    survives those, at an fsync per commit.
    """
    url = make_url(normalise_url(db))
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    sqlite = url.get_backend_name() == "sqlite"
    # The journal's committer thread commits on pooled connections opened elsewhere;
    # writes are serialised by the sequencer, so sqlite3's same-thread check only gets
    # in the way.
    engine = create_engine(url, connect_args={"check_same_thread": False} if sqlite else {})
    if sqlite:

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.close()

    return engine


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    alembic_command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    alembic_command.downgrade(alembic_config(engine), revision)
