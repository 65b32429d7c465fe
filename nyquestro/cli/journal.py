"""`nyquestro replay` and `nyquestro db upgrade`."""

from rich.console import Console

from nyquestro.config.venue import VenueConfig
from nyquestro.domain.instrument import Instrument
from nyquestro.runtime.message_check import Rendering, compare, recorded_messages
from nyquestro.runtime.progress import Progress
from nyquestro.runtime.replay import replay
from nyquestro.store.audit import has_outbound
from nyquestro.store.database import create_db_engine, normalise_url, upgrade
from nyquestro.store.journal import JournalCorrupt, journal_newest_seq


def db_upgrade_command(db: str, out: Console) -> int:
    upgrade(create_db_engine(db))
    out.print(f"{normalise_url(db)}: schema at the newest migration", markup=False)
    return 0


def replay_command(db: str, instruments: list[Instrument], venue: VenueConfig, out: Console) -> int:
    """Re-run the journal: the event-stream hash must match the one recorded live, and the
    FIX messages rendered again must match the audit trail's (when there is one)."""
    engine = create_db_engine(db)
    upgrade(engine)
    rendering = Rendering(venue)
    total = journal_newest_seq(engine)
    try:
        with Progress("commands replayed", total, console=out,
                      say=lambda line: out.print(line, markup=False)) as progress:  # fmt: skip
            result = replay(engine, instruments, [rendering.on_events], progress)
    except JournalCorrupt as exc:
        out.print(f"journal is damaged: {exc}", markup=False)
        return 2
    print(
        f"{result.commands} commands, {result.events} events, event-stream hash {result.event_hash}"
    )
    if result.recorded_hash is None:
        out.print("the journal is empty", markup=False)
        return 0
    if not result.matches:
        print(
            f"DIFFERS from the hash recorded live, first at command seq {result.first_divergence}"
        )
        return 1
    print("matches the hash recorded live")
    if not has_outbound(engine):
        print("no outbound messages in the audit trail ([store] audit = false?): hashes only")
        return 0
    check = compare(rendering.messages, recorded_messages(engine), rendering.sessions)
    if check.difference is not None:
        print(f"outbound messages DIFFER after {check.compared} that match: "
              f"{check.difference.describe()}")  # fmt: skip
        return 1
    print(f"{check.compared} outbound messages match the audit trail")
    return 0
