"""What one command costs to encode, decode and hash: the journal's former JSON form
against the binary frames, on the same commands in the same run.

Run from the repository root:

    .venv/bin/python -m benchmarks.frames_bench [--ops N] [--seed S] [--repeat R]

The commands and their events are those of `benchmarks/flow.py` (warm-up adds, a fifth
of `--ops` and at most 120,000, as in the journal benchmark, then the measured mix),
generated beforehand against a plain engine. Each figure is the best of
`--repeat` passes over all of them, in microseconds per command:

- encode: `jsonl.encode_command` + compact JSON text (the former journal record) against
  `frames.encode_command`;
- decode: `json.loads` + `jsonl.decode_journal_command` against `frames.decode_command`;
- hash: `EventStreamHash.add_legacy` (one text line per event) against `add` (the events
  frame), each folding one command's events into the chain.
"""

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence

from rich.console import Console
from rich.table import Table

from benchmarks.flow import Flow
from benchmarks.journal_bench import flow_config
from nyquestro.codec import frames, jsonl
from nyquestro.domain.commands import Command
from nyquestro.domain.events import EventBase
from nyquestro.engine import Engine
from nyquestro.runtime.replay import EventStreamHash

_COMPACT = json.JSONEncoder(separators=(",", ":"))


def generate(ops: int, seed: int) -> tuple[list[Command], list[Sequence[EventBase]]]:
    flow = Flow(flow_config(ops, seed))
    engine = Engine(flow.instruments())
    commands: list[Command] = []
    produced: list[Sequence[EventBase]] = []
    for command in [*flow.setup(), *flow.warmup(), *(flow.next_op()[1] for _ in range(ops))]:
        events = engine.process(command)
        flow.observe(events)
        commands.append(command)
        produced.append(events)
    return commands, produced


def best_of(repeat: int, count: int, work: Callable[[], object]) -> float:
    """Microseconds per item of the fastest of `repeat` passes."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best / count * 1e6


def measure(ops: int, seed: int, repeat: int) -> list[tuple[str, float, float]]:
    commands, produced = generate(ops, seed)
    n = len(commands)
    texts = [_COMPACT.encode(jsonl.encode_command(c)) for c in commands]
    blobs = [frames.encode_command(c) for c in commands]
    if [frames.decode_command(b, c.seq, c.ts) for b, c in zip(blobs, commands, strict=True)] != (
        commands
    ):
        raise AssertionError("frames did not round-trip the flow's commands")

    def json_decode() -> None:
        for text, c in zip(texts, commands, strict=True):
            jsonl.decode_journal_command(json.loads(text), c.seq, c.ts)

    def frame_decode() -> None:
        for blob, c in zip(blobs, commands, strict=True):
            frames.decode_command(blob, c.seq, c.ts)

    def hashing(add: Callable[[EventStreamHash], Callable[[Sequence[EventBase]], str]]) -> None:
        fold = add(EventStreamHash())
        for events in produced:
            fold(events)

    return [
        ("encode", best_of(repeat, n, lambda: [_COMPACT.encode(jsonl.encode_command(c))
                                               for c in commands]),
         best_of(repeat, n, lambda: [frames.encode_command(c) for c in commands])),
        ("decode", best_of(repeat, n, json_decode), best_of(repeat, n, frame_decode)),
        ("hash", best_of(repeat, n, lambda: hashing(lambda h: h.add_legacy)),
         best_of(repeat, n, lambda: hashing(lambda h: h.add))),
        ("bytes per command", sum(map(len, texts)) / n, sum(map(len, blobs)) / n),
    ]  # fmt: skip


def main(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.frames_bench")
    parser.add_argument("--ops", type=int, default=100_000, help="commands, warm-up included")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5, help="passes; the best is kept")
    args = parser.parse_args(argv)
    console = console or Console()
    rows = measure(args.ops, args.seed, args.repeat)
    table = Table(title="Per command: the JSON form (baseline) against binary frames")
    for column in ("figure", "JSON / text lines", "frames", "ratio"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for name, baseline, new in rows:
        unit = "" if name.startswith("bytes") else " µs"
        table.add_row(name, f"{baseline:.2f}{unit}", f"{new:.2f}{unit}", f"{baseline / new:.2f}x")
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
