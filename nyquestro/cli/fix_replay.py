"""`nyquestro replay --journal DB --fix`: the audit trail's FIX conversation played again
against a fresh venue, every outbound message compared (nyquestro/cert/session_replay.py)."""

from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from nyquestro.cert.connection import Dial
from nyquestro.cert.launch import StartedVenue
from nyquestro.cert.session_replay import Recorded, SessionReplay
from nyquestro.cert.venue import VenueActionError
from nyquestro.store.audit import fix_messages
from nyquestro.store.database import create_db_engine

DIFFERS_STATUS = 1
VENUE_STATUS = 3


def fix_replay_command(journal: str, config: Path | None, out: Console, errors: Console) -> int:
    recording = [
        Recorded(session, kind == "inbound", text, ts)
        for session, kind, text, ts in fix_messages(create_db_engine(journal))
    ]
    if not recording:
        errors.print("replay --fix: the audit trail holds no FIX messages ([store] audit = "
                     "false, or nothing was traded)", markup=False)  # fmt: skip
        return 2
    venue_config = config or Path(str(resources.files("nyquestro.config") / "default_venue.toml"))
    out.print(f"{len(recording):,} recorded messages; replaying against a fresh venue "
              f"({venue_config}) on a virtual clock ...")  # fmt: skip
    try:
        with StartedVenue(venue_config, virtual_clock=True) as venue:
            result = SessionReplay(Dial(venue.fix_address), venue.set_clock).run(recording)
    except VenueActionError as exc:
        errors.print(f"replay --fix: could not set the venue's clock: {exc}", markup=False)
        return VENUE_STATUS
    except RuntimeError as exc:
        errors.print(f"replay --fix: could not start the venue: {exc}", markup=False)
        return VENUE_STATUS
    out.print(f"sent {result.sent:,} inbound messages again, compared {result.compared:,} "
              "outbound ones")  # fmt: skip
    found = result.divergence
    if found is None:
        out.print("[green]no difference[/]: every outbound message is the recorded one, "
                  "SendingTime, MsgSeqNum and the checksum aside")  # fmt: skip
        return 0
    out.print(f"[red]DIFFERS[/] at recorded message {found.index} ({escape(found.session)}): "
              f"{escape(found.difference)}")  # fmt: skip
    out.print(f"  recorded: {escape(found.recorded)}")
    out.print(f"  replayed: {escape(found.replayed or '(nothing)')}")
    return DIFFERS_STATUS
