"""SIGKILL the venue at many random points of a multi-session order flow; lose nothing.

Three sessions (FIX.4.4 and FIX.4.2) send new orders, cancels and replaces on two symbols,
at prices that sometimes cross. A seeded plan kills the server between messages and in
the middle of bursts, restarts it on the same store and reconnects every client the way a
real one would: Logon without ResetSeqNumFlag at its own persisted sequence numbers, a
ResendRequest for any gap in what it received, GapFill for what the venue asks it to
resend. Commands sent around a kill may be lost, but only those never answered. What is
killed varies (`CRASHES`): the whole venue, restarted by hand (SQLite, PostgreSQL); the
FIX gateway's process alone, restarted by the core; the core alone, restarted by
`nyquestro serve`'s supervisor.

At the end:
* every command that got an answer (ExecutionReport or OrderCancelReject, live or resent)
  is known to the venue, and nothing unanswered is;
* no execution is duplicated (an ExecID seen twice is a PossDup resend of the same fill)
  or lost (an order's unique fills add up to the CumQty the venue reports, and per symbol
  and price the buy and sell sides traded the same quantity);
* every order's state and both books equal those of a never-killed server fed the
  answered commands in the same order (the plan sends bursts from one client at a time
  and waits for every answer before the next, so send order is the venue's order).
"""

import os
import random
import signal
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from tests.fix.client import SYNC_PREFIX, FixClient, Msg, fix_now
from tests.fix.conftest import (
    Levels,
    Server,
    check_against_dictionary,
    gateway_pids,
    snapshot,
)
from tests.fix.postgres import postgres_schema, schema_url

BUY, SELL = "1", "2"
SYMBOLS = {"IBM": Decimal("180.00"), "MSFT": Decimal("420.00")}
SESSIONS = (("CLIENT1", "FIX.4.4"), ("CLIENT2", "FIX.4.2"), ("CLIENT3", "FIX.4.4"))
SEED = int(os.environ.get("NYQUESTRO_CRASH_SEED", "20261124"))
STEPS = 36
KILLS = 7
ANSWER_TIMEOUT = 5.0


class CrashClient(FixClient):
    """A client that survives venue restarts: persistent sequence numbers both ways, gap
    detection with ResendRequest, GapFill for the venue's ResendRequests, and a record of
    every ExecutionReport and OrderCancelReject it ever received."""

    def __init__(self, sender: str, begin_string: str) -> None:
        super().__init__(0, sender, begin_string)
        self.next_in = 1
        """The MsgSeqNum expected next from the venue (persisted across reconnects)."""
        self.highest_in = 0
        self.resending = False
        """A ResendRequest of ours is not yet satisfied."""
        self.recording = True
        self.reports: list[Msg] = []
        self.answered: set[str] = set()
        """ClOrdIDs that got an ExecutionReport or OrderCancelReject (while recording)."""
        self.anomalies: list[str] = []
        self.validate = self._on_message

    def _on_message(self, msg: Msg) -> None:
        check_against_dictionary(msg)
        seq = int(msg[34])
        poss_dup = msg.get(43) == "Y"
        self.highest_in = max(self.highest_in, seq)
        if msg.type == "4":
            self.next_in = max(self.next_in, int(msg[36]))
        elif seq == self.next_in:
            self.next_in += 1
        elif seq > self.next_in:
            if not self.resending:
                self.resending = True
                self.send("2", [(7, self.next_in), (16, 0)])
        elif not poss_dup:
            self.anomalies.append(f"MsgSeqNum {seq} < expected {self.next_in}: {msg}")
        if self.next_in > self.highest_in:
            self.resending = False
        if msg.type == "2":
            # Keep it simple: none of our past messages is sent again; the GapFill covers
            # everything sent so far, our Logon and what followed it included. quickfix
            # queues application messages that arrive above a gap but acts on a
            # ResendRequest at once without queueing it, so a GapFill that stopped at our
            # Logon would leave the venue waiting for that ResendRequest's number forever.
            # A barrier covered here goes unanswered; `reconnect` asks again.
            self.send(
                "4", [(123, "Y"), (36, self.seq + 1)], seq=int(msg[7]),
                header=[(43, "Y"), (122, fix_now())],
            )  # fmt: skip
        elif msg.type == "3":
            self.anomalies.append(f"session Reject: {msg}")
        elif msg.type in ("8", "9") and self.recording and not msg[11].startswith(SYNC_PREFIX):
            if msg.type == "8":
                self.reports.append(msg)
            self.answered.add(msg[11])

    def pump(self, seconds: float = 0.001) -> None:
        """Read whatever arrives within `seconds` (the hook records it)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self.receive(left) is None:
                break
        self.inbox.clear()

    def drain_dead_socket(self) -> None:
        """After a kill: read what the kernel still delivers, until the connection ends."""
        try:
            while self.receive(0.3) is not None:
                pass
        except OSError:  # ConnectionError included: the venue is gone
            pass
        self.close()
        self.inbox.clear()

    def reconnect(self, port: int) -> None:
        """Logon at our own sequence numbers, then wait until every gap is resent."""
        self.port = port
        self.logon(reset=False, timeout=10.0)
        deadline = time.monotonic() + 10.0
        # The venue's ResendRequest can cross our TestRequest; if our GapFill then covers
        # the TestRequest, the venue never answers it: ask again with a fresh one.
        for attempt in range(3):
            try:
                self.sync(timeout=4.0)
                break
            except AssertionError:
                if attempt == 2:
                    raise
        while self.resending and time.monotonic() < deadline:
            self.pump(0.05)
        assert not self.resending, f"{self.sender}: resend never completed ({self.next_in})"
        self.inbox.clear()

    def status_of(self, cl_ord_id: str, symbol: str, side: str) -> Msg:
        """The venue's answer: it names the order's latest ClOrdID, so match on the kind of
        report (4.4 ExecType I, 4.2 ExecTransType Status); nothing else is in flight."""
        self.status(cl_ord_id, symbol, side)
        return self.expect(
            "8", timeout=ANSWER_TIMEOUT, check=lambda m: m.get(150) == "I" or m.get(20) == "3"
        )


@dataclass
class Command:
    """One message of the flow, replayable against the reference server."""

    client: int
    kind: str  # "D" new order, "F" cancel, "G" replace
    cl_ord_id: str
    symbol: str
    side: str
    qty: int
    price: Decimal | None = None
    orig: str | None = None

    def send(self, client: FixClient) -> None:
        if self.kind == "D":
            client.new_order(self.symbol, self.side, self.qty, self.price,
                             cl_ord_id=self.cl_ord_id)  # fmt: skip
        elif self.kind == "F":
            assert self.orig is not None
            client.cancel(self.orig, self.symbol, self.side, cl_ord_id=self.cl_ord_id)
        else:
            assert self.orig is not None
            client.replace(self.orig, self.symbol, self.side, self.qty, self.price,
                           cl_ord_id=self.cl_ord_id)  # fmt: skip


class Flow:
    """The seeded random order flow and kill plan, with what each client knows."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.ids = (f"K{n}" for n in range(1, 1_000_000))
        self.acked: list[list[Command]] = [[] for _ in SESSIONS]
        """Per client, its new orders answered before the current burst (cancel targets)."""

    def price(self, symbol: str, side: str) -> Decimal:
        # Bids 179.95..180.03, offers 179.97..180.05 (IBM): they cross now and then.
        ticks = self.rng.randint(-5, 3) if side == BUY else self.rng.randint(-3, 5)
        return SYMBOLS[symbol] + Decimal(ticks) / 100

    def command(self, client: int) -> Command:
        roll = self.rng.random()
        targets = self.acked[client]
        if targets and roll < 0.35:
            target = self.rng.choice(targets)
            if roll < 0.15:
                return Command(client, "F", next(self.ids), target.symbol, target.side,
                               target.qty, orig=target.cl_ord_id)  # fmt: skip
            return Command(
                client, "G", next(self.ids), target.symbol, target.side,
                self.rng.randint(1, 20), self.price(target.symbol, target.side),
                orig=target.cl_ord_id,
            )  # fmt: skip
        symbol = self.rng.choice(list(SYMBOLS))
        side = self.rng.choice((BUY, SELL))
        return Command(client, "D", next(self.ids), symbol, side, self.rng.randint(1, 20),
                       self.price(symbol, side))  # fmt: skip


def connect_all(server: Server, names: tuple[tuple[str, str], ...]) -> list[CrashClient]:
    clients = [CrashClient(sender, version) for sender, version in names]
    for client in clients:
        client.port = server.port
        client.logon()
    return clients


def wait_answered(clients: list[CrashClient], sent: list[Command]) -> None:
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while True:
        missing = [c for c in sent if c.cl_ord_id not in clients[c.client].answered]
        if not missing:
            break
        assert time.monotonic() < deadline, f"no answer to {missing}"
        clients[missing[0].client].pump(0.01)
    for client in clients:
        client.pump()


def quiesce(clients: list[CrashClient], seconds: float = 0.3) -> None:
    """Let group-commit stragglers arrive, then barrier every session."""
    for client in clients:
        client.pump(seconds / len(clients))
        client.sync()
        client.inbox.clear()


def order_state(msg: Msg) -> tuple[str, str, str, str, str]:
    return (msg[39], msg[14], msg[151], msg[38], msg.get(44) or "")


SNAPSHOT_LINE = "nyquestro.runtime.replica: snapshot after command"


def wait_for_snapshot(server: Server, seen: int, timeout: float = 5.0) -> str:
    """Wait until the replica has written a snapshot since the last restart."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.log.read_text(errors="replace").count(SNAPSHOT_LINE) > seen:
            return "after a snapshot"
        time.sleep(0.05)
    return "no snapshot came"


@dataclass(frozen=True)
class Crash:
    """What a kill kills, and how the venue comes back."""

    name: str
    own_process: bool
    """`[fix] own_process`: the FIX gateway runs in a process of its own."""

    def kill(self, server: Server) -> int:
        """Kill; returns how often the venue said it was back before (see `revive`)."""
        seen = server.log.read_text(errors="replace").count(FIX_LISTENING)
        if self.name == "fix-gateway":
            os.kill(gateway_pids(server, "fix")[-1], signal.SIGKILL)
        elif self.name == "core":
            core = server.core_pid
            assert core is not None, server.tail()
            os.kill(core, signal.SIGKILL)
        else:
            server.kill()
        return seen

    def revive(self, server: Server, seen: int) -> None:
        if self.name == "venue":
            server.start(fresh=False)
            return
        # The core restarts its FIX gateway, which joins the bus again, folds the history
        # and opens the port; the supervisor restarts the core, which recovers and opens
        # the same port (itself or through its new FIX gateway).
        deadline = time.monotonic() + 30
        while server.log.read_text(errors="replace").count(FIX_LISTENING) <= seen:
            assert time.monotonic() < deadline, server.tail()
            time.sleep(0.05)


FIX_LISTENING = "Nyquestro FIX acceptor on port"


def run_flow(
    server: Server, clients: list[CrashClient], crash: Crash
) -> tuple[list[Command], list[str]]:
    """Drive the flow with kills; returns every command sent, in order, and the kill log."""
    rng = random.Random(SEED)
    flow = Flow(rng)
    kills = set(rng.sample(range(2, STEPS), KILLS))
    history: list[Command] = []
    kill_log: list[str] = []
    snapshots_seen = 0
    for step in range(STEPS):
        who = rng.randrange(len(clients))
        burst = [flow.command(who) for _ in range(rng.randint(1, 4))]
        cut, delay = len(burst), 0.0
        if step in kills:
            # Between messages (cut 0, or after the last answer) or in the middle of a burst.
            cut = rng.randint(0, len(burst))
            delay = rng.choice((0.0, 0.0005, 0.002, 0.005))
        sent = burst[:cut]
        for command in sent:
            command.send(clients[who])
            history.append(command)
        if step not in kills:
            wait_answered(clients, sent)
        else:
            if cut == len(burst) and rng.random() < 0.5:
                wait_answered(clients, sent)
                point = "after every answer"
            else:
                time.sleep(delay)
                point = f"{delay * 1000:g} ms after sending {cut} of {len(burst)}"
            if len(kill_log) % 2:
                # Every other kill waits (briefly) for the replica, so that restarts
                # recover both from the journal alone and from a snapshot plus its tail.
                point += "; " + wait_for_snapshot(server, snapshots_seen)
            kill_log.append(f"step {step} (client {who}): kill {point}: {sent}")
            snapshots_seen = server.log.read_text(errors="replace").count(SNAPSHOT_LINE)
            seen = crash.kill(server)
            for client in clients:
                client.drain_dead_socket()
            crash.revive(server, seen)
            for client in clients:
                client.reconnect(server.port)
            quiesce(clients)
        for command in history:
            client = clients[command.client]
            known = command.kind == "D" and command.cl_ord_id in client.answered
            if known and command not in flow.acked[command.client]:
                flow.acked[command.client].append(command)
    quiesce(clients)
    return history, kill_log


def reference_states(
    root: Path, survivors: list[Command]
) -> tuple[dict[str, tuple[str, ...]], dict[str, Levels]]:
    """Order states and books of a never-killed server fed `survivors` in order."""
    server = Server(root, durability="group")
    server.start()
    clients: list[CrashClient] = []
    try:
        clients = connect_all(server, SESSIONS)
        for command in survivors:
            command.send(clients[command.client])
            wait_answered(clients, [command])
        quiesce(clients)
        states = {}
        for command in survivors:
            if command.kind == "D":
                client = clients[command.client]
                client.recording = False
                msg = client.status_of(command.cl_ord_id, command.symbol, command.side)
                states[command.cl_ord_id] = order_state(msg)
        books = {symbol: snapshot(clients[0], symbol) for symbol in SYMBOLS}
        return states, books
    finally:
        for client in clients:
            client.close()
        server.kill()


CRASHES = {
    # The whole venue, its journal in SQLite (the default layout: the FIX gateway in a
    # process of its own) or in PostgreSQL (everything in the core's process).
    "sqlite": (Crash("venue", own_process=True), False),
    "postgresql": (Crash("venue", own_process=False), True),
    # The FIX gateway's process alone; the core runs on.
    "fix-gateway": (Crash("fix-gateway", own_process=True), False),
    # The core alone, which takes its gateway processes with it; `nyquestro serve`'s
    # supervisor starts it again, and it starts them again. In either layout.
    "core": (Crash("core", own_process=True), False),
    "core-one-process": (Crash("core", own_process=False), False),
}


@pytest.fixture(params=list(CRASHES))
def crash(request: pytest.FixtureRequest) -> Iterator[tuple[Crash, str | None]]:
    kind, postgres = CRASHES[request.param]
    if not postgres:
        yield kind, None
        return
    with postgres_schema("crash") as (_engine, schema):
        yield kind, schema_url(schema)


def test_random_sigkills_lose_and_duplicate_nothing_acknowledged(
    tmp_path: Path, crash: tuple[Crash, str | None]
) -> None:
    kind, db_url = crash
    # Snapshots every few commands: restarts recover from a snapshot plus a journal tail.
    server = Server(tmp_path / "venue", durability="group", db=db_url, snapshot_every=5,
                    fix_settings=f"own_process = {str(kind.own_process).lower()}\n")  # fmt: skip
    (tmp_path / "venue").mkdir()
    (tmp_path / "reference").mkdir()
    clients: list[CrashClient] = []
    try:
        server.start()
        clients = connect_all(server, SESSIONS)
        history, kill_log = run_flow(server, clients, kind)
        where = "\n".join(kill_log)
        problems: list[str] = []
        for client in clients:
            problems += [f"{client.sender}: {a}" for a in client.anomalies]
            client.recording = False
        survivors = [c for c in history if c.cl_ord_id in clients[c.client].answered]
        answered_ids = {c.cl_ord_id for c in survivors}

        # The venue's view of every new order, answered or not.
        states: dict[str, tuple[str, ...]] = {}
        for command in history:
            if command.kind != "D":
                continue
            msg = clients[command.client].status_of(command.cl_ord_id, command.symbol,
                                                    command.side)  # fmt: skip
            known = msg[39] != "8"
            answered = command.cl_ord_id in answered_ids
            if answered and not known:
                problems.append(f"acknowledged {command} lost: status {msg}")
            if known and not answered:
                problems.append(f"{command} is live at the venue but was never answered: {msg}")
            if known:
                states[command.cl_ord_id] = order_state(msg)
                if not answered:  # reported above; the reference still gets it, so the
                    survivors.append(command)  # comparisons below find other problems
        survivors.sort(key=history.index)

        # Executions: each ExecID once (resends must be PossDup copies), nothing missing.
        # Reports name the order's latest ClOrdID; every chain starts at its new order.
        root_of = {c.cl_ord_id: c.orig or c.cl_ord_id for c in history}
        cum: dict[str, Decimal] = defaultdict(Decimal)
        traded: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
        for client in clients:
            seen: dict[str, Msg] = {}
            for msg in client.reports:
                if 32 not in msg or Decimal(msg[32]) == 0:
                    continue
                exec_id = msg[17]
                key = (msg[37], msg[32], msg[31], msg[14])
                if exec_id in seen:
                    first = seen[exec_id]
                    if msg.get(43) != "Y":
                        problems.append(f"ExecID {exec_id} again without PossDup: {msg}")
                    if key != (first[37], first[32], first[31], first[14]):
                        problems.append(f"ExecID {exec_id} names two fills: {first} / {msg}")
                    continue
                seen[exec_id] = msg
                cum[root_of.get(msg[11], msg[11])] += Decimal(msg[32])
                traded[(msg[55], msg[31], msg[54])] += Decimal(msg[32])
        for (symbol, px, side), qty in traded.items():
            other = traded.get((symbol, px, SELL if side == BUY else BUY), Decimal(0))
            if qty != other:
                problems.append(f"{symbol} @ {px}: side {side} filled {qty}, other side {other}")
        by_order = cum
        for cl_ord_id, state in states.items():
            if Decimal(state[1]) != by_order.get(cl_ord_id, Decimal(0)):
                problems.append(
                    f"{cl_ord_id}: CumQty {state[1]} but fills received add up to "
                    f"{by_order.get(cl_ord_id, Decimal(0))}"
                )

        unanswered: dict[str, list[str]] = defaultdict(list)
        for command in history:
            if command.cl_ord_id not in answered_ids:
                unanswered[command.orig or command.cl_ord_id].append(command.cl_ord_id)
        books = {symbol: snapshot(clients[0], symbol) for symbol in SYMBOLS}
        expected_states, expected_books = reference_states(tmp_path / "reference", survivors)
        for cl_ord_id, expected in expected_states.items():
            if states.get(cl_ord_id) != expected:
                problems.append(
                    f"{cl_ord_id}: (OrdStatus, CumQty, Leaves, Qty, Px) {states.get(cl_ord_id)}"
                    f", uninterrupted run {expected}; never answered: {unanswered[cl_ord_id]}"
                )
        for symbol in SYMBOLS:
            if books[symbol] != expected_books[symbol]:
                problems.append(
                    f"{symbol} book {books[symbol]}, uninterrupted {expected_books[symbol]}"
                )
        assert len(survivors) > STEPS, f"too little got through: {len(survivors)} commands"
        log = server.log.read_text(errors="replace")
        if kind.name == "fix-gateway":  # the core ran throughout; its gateway restarted
            assert len(gateway_pids(server, "fix")) == KILLS + 1, server.tail()
        else:
            assert "recovered from the snapshot after command" in log, "no restart used a snapshot"
        if kind.name == "core":  # one `nyquestro serve` throughout; its supervisor restarted
            assert len(gateway_pids(server, "core")) == KILLS + 1, server.tail()
        assert not problems, "\n".join(problems) + f"\nkills:\n{where}\n{server.tail()}"
    finally:
        for client in clients:
            client.close()
        server.kill()
