"""`nyquestro journal export --jsonl`: the audit trail as JSON lines."""

import sys
from pathlib import Path

from rich.console import Console
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from nyquestro.store.audit import export_jsonl
from nyquestro.store.database import create_db_engine, normalise_url, upgrade


def export_command(db: str, out_path: Path | None, after_seq: int | None, errors: Console) -> int:
    url = make_url(normalise_url(db))
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        errors.print(f"--db {db}: no such database file", markup=False)
        return 2
    try:
        engine = create_db_engine(db)
        upgrade(engine)
        if out_path is None:
            count = export_jsonl(engine, sys.stdout, after_seq)
        else:
            with out_path.open("w", encoding="utf-8") as out:
                count = export_jsonl(engine, out, after_seq)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        errors.print(f"--db {db}: cannot read the audit trail: {reason}", markup=False)
        return 2
    except OSError as exc:
        errors.print(f"--out {out_path}: {exc.strerror}", markup=False)
        return 2
    errors.print(f"{count} audit rows exported", markup=False)
    return 0
