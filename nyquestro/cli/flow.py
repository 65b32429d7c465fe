"""`nyquestro flow`: seeded synthetic order flow into a running venue over FIX."""

import secrets
import time
from contextlib import ExitStack
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from rich.console import Console
from rich.table import Table

from nyquestro.cert.connection import Closed, Connection, Dial, Transcript
from nyquestro.cert.session import ClientSession, ClientSpec, Outgoing
from nyquestro.flowgen.driver import FlowError, FlowResult, cancel_everything, run_flow
from nyquestro.flowgen.model import FlowModel, Instrument

USAGE_STATUS = 2
LOGON_TIMEOUT = 10.0


@dataclass(frozen=True)
class FlowOptions:
    seed: int
    accounts: int
    rate: float | None
    """Requests a second (None: as fast as the venue answers)."""
    count: int | None
    seconds: float | None
    id_prefix: str | None
    """Starts every ClOrdID (None: one made up for the run)."""
    log: Path | None
    """Write every request here, as JSON lines, without its times."""
    keep: bool
    """Leave the run's open orders on the book."""
    exact: bool = False
    """Each request waits for all that came of it: a seed sends the same requests."""


def parse_instruments(specs: list[str], tick: str) -> list[Instrument]:
    """`SYMBOL=REFERENCE` each; ValueError naming the one that is wrong."""
    found = []
    for spec in specs:
        symbol, sep, reference = spec.partition("=")
        try:
            price, step = Decimal(reference), Decimal(tick)
        except InvalidOperation:
            price = step = Decimal(0)
        if not sep or not symbol or price <= 0 or step <= 0:
            raise ValueError(f"--symbol {spec!r}: write SYMBOL=REFERENCE_PRICE such as "
                             f"AAPL=190.00, with --tick a price step above 0")  # fmt: skip
        found.append(Instrument(symbol, price, step))
    return found


def flow_command(
    address: tuple[str, int],
    senders: list[str],
    venue: tuple[str, str],
    instruments: list[Instrument],
    options: FlowOptions,
    out: Console,
    errors: Console,
) -> int:
    """`venue`: its CompID and the FIX version to speak."""
    prefix = options.id_prefix or f"F{secrets.token_hex(3)}"
    model = FlowModel(options.seed, instruments, senders, options.accounts, prefix)
    rate = "as fast as answered" if options.rate is None else f"{options.rate:g}/s"
    out.print(f"flow into {address[0]}:{address[1]}: seed {options.seed}, {len(senders)} sessions, "
              f"{options.accounts} accounts, {rate}")  # fmt: skip
    with ExitStack() as stack:
        try:
            connections = {}
            for sender in senders:
                connections[sender] = _logged_on(sender, venue, address)
                stack.callback(connections[sender].close)
            log = None if options.log is None else stack.enter_context(options.log.open("w"))
            result = run_flow(
                model, connections, options.rate, options.count, options.seconds, log,
                lambda done: out.print(f"  ... {sum(done.requests.values()):,} requests"),
                options.exact,
            )  # fmt: skip
            left = 0 if options.keep else cancel_everything(model, connections)
        except (OSError, Closed, FlowError) as exc:
            errors.print(f"flow: {exc}", markup=False)
            return 1
    out.print(_table(result))
    if not options.keep:
        out.print(f"cancelled the {left} orders the run left open")
    return 0


def _logged_on(sender: str, venue: tuple[str, str], address: tuple[str, int]) -> Connection:
    comp_id, begin_string = venue
    spec = ClientSpec(sender, sender, comp_id, begin_string)
    sock, peer = Dial(lambda: address).open(5.0)
    connection = Connection(ClientSession(spec), sock, peer, Transcript(keep=False))
    connection.send(Outgoing("A", [(98, "0"), (108, "30"), (141, "Y")]))
    answer = connection.receive(time.monotonic() + LOGON_TIMEOUT)
    if answer is None or answer.type != "A":
        connection.close()
        said = "nothing" if answer is None else answer.text()
        raise FlowError(f"{sender}: the venue did not accept the Logon (it sent {said})")
    return connection


def _table(result: FlowResult) -> Table:
    total = sum(result.requests.values())
    table = Table(title=f"flow: {total:,} requests in {result.seconds:.1f} s")
    table.add_column("what")
    table.add_column("count", justify="right")
    for kind, count in sorted(result.requests.items()):
        table.add_row(f"sent: {kind}", f"{count:,}")
    for answer, count in sorted(result.answers.items()):
        table.add_row(f"answer: {answer}", f"{count:,}")
    table.add_row("requests a second", f"{total / result.seconds:,.0f}" if result.seconds else "-")
    p50, p99 = result.percentile(0.5) * 1e3, result.percentile(0.99) * 1e3
    table.add_row("answer p50 / p99 (ms)", f"{p50:.2f} / {p99:.2f}")
    return table
