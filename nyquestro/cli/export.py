"""`nyquestro journal export --jsonl`: the audit trail, or the journal's commands
(`--commands`), as JSON lines."""

import sys
from pathlib import Path

from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from nyquestro.runtime.progress import Progress
from nyquestro.store.audit import audit_row_count, export_jsonl
from nyquestro.store.database import create_db_engine, normalise_url, upgrade
from nyquestro.store.journal import JournalCorrupt, export_commands_jsonl, journal_newest_seq


class _BadDb(Exception):
    """--db names nothing this command can open; the message says why."""


def export_command(
    db: str,
    out_path: Path | None,
    after_seq: int | None,
    errors: Console,
    *,
    commands: bool = False,
) -> int:
    export = export_commands_jsonl if commands else export_jsonl
    what = "journaled commands" if commands else "audit rows"
    source = "journal" if commands else "audit trail"
    try:
        engine = _open(db)
        upgrade(engine)
        total = (
            journal_newest_seq(engine) - (after_seq or 0) if commands
            else audit_row_count(engine, after_seq)
        )  # fmt: skip
        with Progress(f"{what} exported", max(total, 0), console=errors,
                      say=lambda line: errors.print(line, markup=False)) as progress:  # fmt: skip
            if out_path is None:
                count = export(engine, sys.stdout, after_seq, progress)
            else:
                with out_path.open("w", encoding="utf-8") as out:
                    count = export(engine, out, after_seq, progress)
    except _BadDb as exc:
        errors.print(f"--db {db}: {exc}", markup=False)
        return 2
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        errors.print(f"--db {db}: cannot read the {source}: {reason}", markup=False)
        return 2
    except JournalCorrupt as exc:
        errors.print(f"--db {db}: the journal is damaged: {exc}", markup=False)
        return 2
    except OSError as exc:
        where = "standard output" if out_path is None else f"--out {out_path}"
        errors.print(f"{where}: {exc.strerror}", markup=False)
        return 2
    errors.print(f"{count} {what} exported", markup=False)
    return 0


def _open(db: str) -> Engine:
    try:
        url = make_url(normalise_url(db))
    except ArgumentError:
        raise _BadDb("neither a file path nor a database URL") from None
    # Opening a missing SQLite file would create an empty database and export nothing.
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        raise _BadDb("no such database file")
    try:
        return create_db_engine(db)
    except ImportError as exc:  # the URL names a driver that is not installed
        raise _BadDb(f"no driver for this database ({exc})") from None
