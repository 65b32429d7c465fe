"""One round of issue 11's scenario: sessions leave while the venue releases a burst.

CLIENT1 rests `ORDERS` buys at distinct prices on IBM, CLIENT2 sweeps them with one IOC
sell (about 2 x `ORDERS` ExecutionReports for the venue to release), and 0-40 ms later the
sessions leave: CLIENT1 drops its socket without a Logout and CLIENT2 logs out, or a
variant of that. Then the venue must still answer: a fresh Logon and a new order's
acknowledgement, each within `RESPONSE_TIMEOUT`, and SIGTERM must end it with status 0
within `EXIT_TIMEOUT`. A step that gets no answer in time is a hang: the venue's threads
are dumped with py-spy (when installed) and the venue is killed.

The venue runs with group commit, as shipped: the reports then leave from the committer
thread while quickfix's thread handles the disconnects, which is the pair of threads the
issue saw deadlock. The tests' default (sync) would release every report on quickfix's
own thread and could never show it. A round runs in either layout: the FIX gateway in
the core's process, or in a process of its own (`[fix] own_process`), where the reports
leave from the stream's thread of that process.

Used by tests/fix/test_liveness.py (a few rounds) and benchmarks/logout_stress.py (as
many as asked). A round is fixed by its seed (variant and delay), so a failure can be run
again.
"""

import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from tests.fix.client import FixClient, Msg
from tests.fix.conftest import VERSIONS, Server, gateway_pids

ORDERS = 600
QTY = 100
SYMBOL = "IBM"
LOWEST_PRICE_CENTS = 15_000
"""The buys rest one tick apart from 150.00 up; IBM trades in 0.01 with no price band."""
MAX_DELAY_MS = 40.0
RESPONSE_TIMEOUT = 5.0
"""A Logon, an acknowledgement or a Logout answer: quickfix and one command, a few ms."""
REST_TIMEOUT = 30.0
"""All `ORDERS` acknowledgements of the resting buys (the step before the burst)."""
EXIT_TIMEOUT = 10.0
"""SIGTERM to exit: the sessions are already out, so only the final flush and snapshot."""
DUMP_TIMEOUT = 30.0

Leave = Literal["drop", "logout", "both-drop", "third-logon"]
LEAVES: tuple[Leave, ...] = get_args(Leave)
"""How the sessions leave after the sweep:
- drop: CLIENT1 closes its socket without a Logout, CLIENT2 logs out (the issue's round);
- logout: both log out properly;
- both-drop: both close their sockets without a Logout;
- third-logon: as drop, and CLIENT3 sends its Logon just before, during the burst."""

Anchor = Literal["sent", "first-report"]
ANCHORS: tuple[Anchor, ...] = get_args(Anchor)
"""Where the delay before leaving starts: when the sweep is sent (the issue's timing: the
leave may be handled before the venue starts releasing the reports), or when the sweep's
first report arrives (the leave lands while the venue is releasing them)."""

# CLIENT4 is the tests' venue's cancel-on-disconnect session; CLIENT1 is not.
LEAVER = {False: "CLIENT1", True: "CLIENT4"}
SWEEPER = "CLIENT2"
THIRD = "CLIENT3"
FILL_TYPES = frozenset({"1", "2", "F"})
"""ExecType of a fill: 1/2 partial/full in 4.2, F (Trade) in 4.4."""


@dataclass(frozen=True, slots=True)
class Variant:
    leave: Leave
    version: str
    cancel_on_disconnect: bool
    """Whether the leaving session (CLIENT1's role) cancels its orders when it goes."""
    anchor: Anchor

    @property
    def name(self) -> str:
        cod = "on" if self.cancel_on_disconnect else "off"
        return f"{self.leave}/{self.version[4:]}/cod-{cod}/{self.anchor}"


ALL_VARIANTS = tuple(
    Variant(leave, version, cod, anchor)
    for leave in LEAVES
    for version in VERSIONS
    for cod in (False, True)
    for anchor in ANCHORS
)


def covering(versions: Sequence[str] = VERSIONS) -> list[Variant]:
    """One variant per leave, among which every version, both cancel-on-disconnect settings
    and both anchors occur, each anchor with each version and each setting (versions take
    turns, cancel-on-disconnect switches after each turn, the anchor alternates within
    a turn and swaps its start from one turn to the next)."""
    n = len(versions)
    return [
        Variant(leave, versions[i % n], (i // n) % 2 == 1, ANCHORS[(i + i // n) % 2])
        for i, leave in enumerate(LEAVES)
    ]


@dataclass(frozen=True, slots=True)
class Round:
    seed: int
    variant: Variant
    delay_ms: float
    """From the variant's anchor to the first session leaving."""
    fix_process: bool
    """The FIX gateway runs in a process of its own (`[fix] own_process = true`)."""

    @property
    def layout(self) -> str:
        return "fix-process" if self.fix_process else "one-process"


def plan(seed: int, variants: Sequence[Variant], *, fix_process: bool = False) -> Round:
    rng = random.Random(seed)
    return Round(seed, rng.choice(variants), rng.uniform(0.0, MAX_DELAY_MS), fix_process)


@dataclass(frozen=True, slots=True)
class Outcome:
    round: Round
    reports: int
    """ExecutionReports of the sweep the clients read (of 2 x ORDERS; a leaving session
    stops reading, so fewer is normal)."""
    logon_ms: float | None
    """The fresh Logon after the round, sent to answered (None: not reached)."""
    ack_ms: float | None
    """The new order after it, sent to acknowledged (None: not reached)."""
    exit_status: int | None
    """After SIGTERM; None when the venue had to be killed."""
    failed_step: str | None
    hung: bool
    """The failed step is one the venue did not answer in time."""
    detail: str
    """What went wrong: the error, the venue's threads (py-spy) and its log's tail."""

    @property
    def ok(self) -> bool:
        return self.failed_step is None

    def line(self) -> str:
        verdict = "ok" if self.ok else f"{'HUNG' if self.hung else 'FAILED'} at {self.failed_step}"
        exit_status = "killed" if self.exit_status is None else str(self.exit_status)
        return (
            f"seed {self.round.seed:>6}  {self.round.layout:<11}  {self.round.variant.name:<36} "
            f"delay {self.round.delay_ms:5.1f} ms  reports {self.reports:>4}/{2 * ORDERS}  "
            f"logon {_ms(self.logon_ms)}  ack {_ms(self.ack_ms)}  exit {exit_status:<6}  "
            f"{verdict}"
        )


def _ms(value: float | None) -> str:
    return "     -" if value is None else f"{value:4.0f}ms"


class Misbehaved(Exception):
    """The venue answered, but not as it should (as opposed to not answering at all)."""


def run_round(root: Path, planned: Round) -> Outcome:
    """Run `planned` against a fresh `nyquestro serve` under `root` and stop it."""
    variant = planned.variant
    root.mkdir(parents=True, exist_ok=True)
    own_process = f"own_process = {str(planned.fix_process).lower()}\n"
    server = Server(root, durability="group", fix_settings=own_process)
    clients: list[FixClient] = []

    def client(comp_id: str) -> FixClient:  # once the venue runs: its port is known
        made = FixClient(server.port, comp_id, variant.version)
        clients.append(made)
        return made

    step = "start the venue"
    reports = 0
    logon_ms: float | None = None
    ack_ms: float | None = None
    failed: str | None = None
    hung = False
    detail = ""

    def dump(when: str) -> Callable[[int], None]:
        def add(pid: int) -> None:
            nonlocal detail
            detail += f"\nthreads of the venue's core (pid {pid}) {when}:\n{py_spy_dump(pid)}"
            for gateway in gateway_pids(server, "fix")[-1:]:
                detail += f"\nthreads of its FIX process (pid {gateway}):\n{py_spy_dump(gateway)}"

        return add

    try:
        server.start()
        leaver = client(LEAVER[variant.cancel_on_disconnect])
        sweeper = client(SWEEPER)
        step = "logons before the burst"
        leaver.logon(timeout=RESPONSE_TIMEOUT)
        sweeper.logon(timeout=RESPONSE_TIMEOUT)

        step = f"{ORDERS} resting buys acknowledged"
        for i in range(ORDERS):
            leaver.new_order(SYMBOL, "1", QTY, _price(LOWEST_PRICE_CENTS + i))
        _await(leaver, lambda m: m.get(150) == "0", ORDERS, REST_TIMEOUT)

        step = "the sweep"
        sweeper.new_order(SYMBOL, "2", ORDERS * QTY, _price(LOWEST_PRICE_CENTS), tif="3")
        if variant.anchor == "first-report":
            step = "the sweep's first report"
            _await(sweeper, lambda _m: True, 1, RESPONSE_TIMEOUT)
            step = "the leaving"
        time.sleep(planned.delay_ms / 1000)
        third = None
        if variant.leave == "third-logon":
            third = client(THIRD)
            third.connect(timeout=RESPONSE_TIMEOUT)
            third.send("A", [(98, 0), (108, third.heartbeat), (141, "Y")])
        if variant.leave == "logout":
            step = f"{leaver.sender}'s Logout answered"
            leaver.logout(timeout=RESPONSE_TIMEOUT)
        else:
            leaver.close()
        if variant.leave == "both-drop":
            sweeper.close()
        else:
            step = f"{sweeper.sender}'s Logout answered"
            sweeper.logout(timeout=RESPONSE_TIMEOUT)
        reports = sum(1 for c in (leaver, sweeper) for m in c.inbox if _is_fill(m))
        if third is not None:
            step = f"{THIRD}'s Logon during the burst answered"
            third.expect("A", timeout=RESPONSE_TIMEOUT)
            third.logout(timeout=RESPONSE_TIMEOUT)

        step = f"a fresh Logon of {leaver.sender} answered"
        probe = client(leaver.sender)
        started = time.monotonic()
        probe.logon(timeout=RESPONSE_TIMEOUT)
        logon_ms = (time.monotonic() - started) * 1000
        step = "a new order acknowledged"
        started = time.monotonic()
        cl_ord_id = probe.new_order(SYMBOL, "1", 1, "100.00")
        ack = probe.expect("8", {11: cl_ord_id}, timeout=RESPONSE_TIMEOUT)
        ack_ms = (time.monotonic() - started) * 1000
        if ack.get(150) != "0":
            raise Misbehaved(f"the new order was not accepted: {ack}")
        step = f"{probe.sender}'s Logout after the probe answered"
        probe.logout(timeout=RESPONSE_TIMEOUT)
    # FixClient.expect raises AssertionError when its deadline passes, a socket call
    # TimeoutError (an OSError, hence first): both mean the venue did not answer.
    except (AssertionError, TimeoutError) as exc:
        failed, hung, detail = step, True, _first_line(exc)
        if server.core_pid is not None:
            dump("when the step hung")(server.core_pid)
    except (Misbehaved, OSError, RuntimeError) as exc:
        failed, detail = step, _first_line(exc)
    finally:
        for made in clients:
            made.close()

    server.signal_stop()
    server.wait_stopped(EXIT_TIMEOUT, before_kill=dump(f"{EXIT_TIMEOUT:.0f} s after SIGTERM"))
    if failed is None and server.returncode is None:
        failed, hung = f"SIGTERM (no exit within {EXIT_TIMEOUT:.0f} s)", True
    elif failed is None and server.returncode != 0:
        failed, detail = "SIGTERM", f"the venue exited with status {server.returncode}"
    if failed is not None:
        detail += f"\nlast lines of the venue's log ({server.log}):\n{server.tail(20)}"
    return Outcome(planned, reports, logon_ms, ack_ms, server.returncode, failed, hung, detail)


def _price(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _first_line(exc: BaseException) -> str:
    """The error without what follows its first line (FixClient.expect appends its whole
    inbox: here, hundreds of reports)."""
    first = str(exc).partition("\n")[0]
    return f"{type(exc).__name__}: {first}"


def _is_fill(msg: Msg) -> bool:
    return msg.type == "8" and msg.get(150) in FILL_TYPES


def _await(client: FixClient, wanted: Callable[[Msg], bool], count: int, timeout: float) -> None:
    """Read until `count` ExecutionReports satisfying `wanted` arrived (everything read
    stays in the inbox); AssertionError, as FixClient.expect, when `timeout` passes first."""
    deadline = time.monotonic() + timeout
    seen = 0
    while seen < count:
        left = deadline - time.monotonic()
        got = client.receive(left) if left > 0 else None
        if got is None:
            raise AssertionError(f"{client.sender}: {seen} of {count} reports within {timeout}s")
        seen += got.type == "8" and wanted(got)
        client.inbox.append(got)


def py_spy_dump(pid: int) -> str:
    """Every thread's Python stack of process `pid`, or why there is none."""
    found = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if found is None:
        return "(py-spy is not installed: no stack dump)"
    try:
        done = subprocess.run(
            [found, "dump", "--pid", str(pid)],
            capture_output=True, text=True, timeout=DUMP_TIMEOUT, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return f"(py-spy dump did not finish within {DUMP_TIMEOUT:.0f} s)"
    return (done.stdout + done.stderr).rstrip()
