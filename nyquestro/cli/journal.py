"""`nyquestro replay` and `nyquestro db upgrade`."""

from rich.console import Console

from nyquestro.domain.instrument import Instrument
from nyquestro.runtime.replay import replay
from nyquestro.store.database import create_db_engine, normalise_url, upgrade
from nyquestro.store.journal import JournalCorrupt


def db_upgrade_command(db: str, out: Console) -> int:
    upgrade(create_db_engine(db))
    out.print(f"{normalise_url(db)}: schema at the newest migration", markup=False)
    return 0


def replay_command(db: str, instruments: list[Instrument], out: Console) -> int:
    engine = create_db_engine(db)
    upgrade(engine)
    try:
        result = replay(engine, instruments)
    except JournalCorrupt as exc:
        out.print(f"journal is damaged: {exc}", markup=False)
        return 2
    print(
        f"{result.commands} commands, {result.events} events, event-stream hash {result.event_hash}"
    )
    if result.recorded_hash is None:
        out.print("the journal is empty", markup=False)
        return 0
    if result.matches:
        print("matches the hash recorded live")
        return 0
    print(f"DIFFERS from the hash recorded live, first at command seq {result.first_divergence}")
    return 1
