"""`nyquestro engine run`: drive the engine from JSON lines, for smoke tests.

This command is the sequencer: it numbers the commands (seq 1, 2, ...) and carries the
last `ts` forward when a line gives none, so the same file always yields the same events.
"""

import json
from collections.abc import Iterable
from typing import TextIO

from rich.console import Console

from nyquestro.codec.jsonl import decode_command, encode_event
from nyquestro.codec.prices import DecimalPrices
from nyquestro.domain.errors import InputError
from nyquestro.domain.ids import Seq, Ts
from nyquestro.domain.instrument import Instrument
from nyquestro.engine import Engine
from nyquestro.runtime.replay import EventStreamHash
from nyquestro.store.journal import JournalWriter


def run_lines(
    lines: Iterable[str],
    instruments: list[Instrument],
    out: TextIO,
    errors: Console,
    journal: JournalWriter | None = None,
) -> int:
    """Process every line; report bad ones on `errors` and go on. Exit status: 1 if any was bad.

    With a journal, each command is journaled with the running event-stream hash, which
    `nyquestro replay` checks.
    """
    engine = Engine(instruments)
    stream = EventStreamHash()
    prices = DecimalPrices(engine.instruments)
    seq = 0
    ts = 0
    commands = events = bad = 0
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.print(f"line {lineno}: not valid JSON: {exc.msg} (column {exc.colno})")
            bad += 1
            continue
        try:
            cmd = decode_command(obj, Seq(seq + 1), Ts(ts), prices)
        except InputError as exc:
            errors.print(f"line {lineno}: {exc}", markup=False)
            bad += 1
            continue
        seq = cmd.seq
        ts = cmd.ts
        commands += 1
        produced = engine.process(cmd)
        event_hash = stream.add(produced)
        if journal is not None:
            journal.append(cmd, event_hash)
        for event in produced:
            out.write(json.dumps(encode_event(event, prices), separators=(",", ":")) + "\n")
            events += 1
    if journal is not None:
        journal.close()
    summary = (
        f"{commands} commands, {events} events, {bad} bad lines; "
        f"event-stream hash {stream.hexdigest()}"
    )
    errors.print(summary, style="bold red" if bad else "dim")
    return 1 if bad else 0
