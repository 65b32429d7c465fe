"""`nyquestro itch replay FILE`: a Nasdaq TotalView-ITCH 5.0 file into a running venue."""

from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

from nyquestro.gateways.itch.errors import ItchError
from nyquestro.itchreplay.files import read_messages
from nyquestro.itchreplay.player import ReplayError, Session, play

USAGE_STATUS = 2


def itch_replay_command(
    path: Path,
    address: tuple[str, int],
    session: Session,
    speed: float | None,
    symbols: str | None,
    out: Console,
    errors: Console,
) -> int:
    if not path.is_file():
        errors.print(f"itch replay: no file {path}", markup=False)
        return USAGE_STATUS
    wanted = None if symbols is None else frozenset(s.strip() for s in symbols.split(","))
    pace = "as fast as the venue answers" if speed is None else f"{speed:g}x the file's pace"
    host, port = address
    out.print(f"replaying {path} into {host}:{port} as {session.sender} "
              f"({session.begin_string}), {pace}")  # fmt: skip
    try:
        counts = play(
            read_messages(path), address, session, speed, wanted,
            lambda done: out.print(f"  ... {done['ITCH messages']:,} messages"),
        )  # fmt: skip
    except (ItchError, ReplayError, OSError) as exc:
        errors.print(f"itch replay: {exc}", markup=False)
        return 1
    out.print(_table(counts))
    return 0


def _table(counts: Counter[str]) -> Table:
    table = Table(title="ITCH replay")
    table.add_column("what")
    table.add_column("count", justify="right")
    for what, count in sorted(counts.items()):
        table.add_row(what, f"{count:,}")
    return table
