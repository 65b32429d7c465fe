"""A real `nyquestro serve` per test module, and clients that clean up after each test.

Starting the venue costs about a second (Python + quickfix start-up), so one server is
shared by a module's tests. Tests keep out of each other's way by cancelling every order
they sent at teardown (`FixClient.cancel_open_orders`) and logging out, which also drops
their market data subscriptions. That runs after failed tests too; only when it fails
itself is the server restarted, so the next test starts from an empty venue.
"""

import re
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import pytest

from benchmarks.venue_process import free_port
from tests.fix.client import Fields, FixClient, Msg

VERSIONS = ("FIX.4.2", "FIX.4.4")
START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0

# The shipped default venue (nyquestro/config/default_venue.toml), with its own port and
# store, and CLIENT4 cancelling its orders when it disconnects. XLOT and RSKY are the
# additions: every default instrument trades in lots of 1, so lot-multiple checks need a
# symbol whose lot is larger, and RSKY has fat-finger limits (test_risk.py). The default
# instruments behave as shipped.
VENUE_TOML = """\
[store]
dir = "{store}"
durability = "{durability}"

[fix]
port = {port}
comp_id = "NYQUESTRO"
reset_on_logon = false
cancel_on_disconnect = false
sessions = [
    {{ begin_string = "FIX.4.2", target_comp_id = "CLIENT1" }},
    {{ begin_string = "FIX.4.4", target_comp_id = "CLIENT1" }},
    {{ begin_string = "FIX.4.2", target_comp_id = "CLIENT2" }},
    {{ begin_string = "FIX.4.4", target_comp_id = "CLIENT2" }},
    {{ begin_string = "FIX.4.2", target_comp_id = "CLIENT3" }},
    {{ begin_string = "FIX.4.4", target_comp_id = "CLIENT3" }},
    {{ begin_string = "FIX.4.2", target_comp_id = "CLIENT4", cancel_on_disconnect = true }},
    {{ begin_string = "FIX.4.4", target_comp_id = "CLIENT4", cancel_on_disconnect = true }},
    {{ begin_string = "FIX.4.2", target_comp_id = "CLIENT5", account = "LIMITED" }},
    {{ begin_string = "FIX.4.4", target_comp_id = "CLIENT5", account = "LIMITED" }},
]

[instruments.AAPL]
tick_size = "0.01"
lot_size = 1
min_qty = 1
max_qty = 1000000
band_reference = "190.00"
smp_policy = "cancel_incoming"

[instruments.MSFT]
tick_size = "0.01"
lot_size = 1
min_qty = 1
max_qty = 1000000
band_reference = "420.00"

[instruments.IBM]
tick_size = "0.01"
lot_size = 1
min_qty = 1
max_qty = 1000000
band_reference = "180.00"

[instruments.ESZ6]
tick_size = "0.25"
lot_size = 1
min_qty = 1
max_qty = 5000
band_reference = "6000.00"
smp_policy = "cancel_resting"

[instruments.RSKY]
tick_size = "0.01"
band_reference = "100.00"
price_band_pct = "5"
max_notional = "10000.00"

[instruments.XLOT]
tick_size = "0.01"
lot_size = 100
min_qty = 100
max_qty = 100000
band_reference = "50.00"
"""


class Server:
    """One `nyquestro serve` subprocess with its own port and store directory."""

    # sync: every report is released before the venue reads the client's next message, so
    # `FixClient.sync()` (a TestRequest, answered by quickfix at once) orders after them.
    # With group commit a report may trail a Heartbeat by up to one commit window.
    def __init__(
        self,
        root: Path,
        durability: str = "sync",
        db: str | None = None,
        snapshot_every: int | None = None,
        audit: bool = True,
        extra_toml: str = "",
        fix_settings: str = "",
        store_settings: str = "",
    ) -> None:
        self.root = root
        self.durability = durability
        self.db = db
        """[store] db (a SQLAlchemy URL); None keeps the default SQLite file in the store."""
        self.snapshot_every = snapshot_every
        """[store] snapshot_every; None keeps the default."""
        self.audit = audit
        self.extra_toml = extra_toml
        """Appended to the venue TOML (e.g. a [risk] table)."""
        self.fix_settings = fix_settings
        """Added to the [fix] table (e.g. throttles)."""
        self.store_settings = store_settings
        """Added to the [store] table (e.g. shutdown_timeout)."""
        self.port = 0
        self.log = root / "serve.log"
        self.returncode: int | None = None
        """Exit status of the last stopped run; None after a SIGKILL."""
        self._proc: subprocess.Popen[bytes] | None = None
        self._runs = 0

    def start(self, fresh: bool = True) -> None:
        """Start on a free port; `fresh=False` keeps the last run's store (a real restart)."""
        if fresh or not self._runs:
            # Restarting after a failed test must not inherit sequence numbers or state.
            self._runs += 1
        self.port = free_port()
        config = self.config_path
        config.write_text(self.config_text())
        with self.log.open("ab") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "nyquestro", "serve", "--config", str(config)],
                cwd=self.root,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"nyquestro serve exited early:\n{self.tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nyquestro serve did not listen within {START_TIMEOUT}s")

    @property
    def config_path(self) -> Path:
        """The venue TOML of the current (or last) run."""
        return self.root / f"venue{self._runs}.toml"

    @property
    def pid(self) -> int | None:
        """`nyquestro serve`'s own process: the supervisor (see `core_pid`)."""
        return None if self._proc is None else self._proc.pid

    @property
    def core_pid(self) -> int | None:
        """The venue's core, the supervisor's child: the newest one its log names."""
        found = gateway_pids(self, "core") if self.log.exists() else []
        return found[-1] if found else None

    def config_text(self) -> str:
        store = self.root / f"store{self._runs}"
        text = VENUE_TOML.format(store=store, port=self.port, durability=self.durability)
        if self.db is not None:
            text = text.replace("[store]\n", f'[store]\ndb = "{self.db}"\n', 1)
        text += self.extra_toml
        text = text.replace("[fix]\n", f"[fix]\n{self.fix_settings}", 1)
        text = text.replace("[store]\n", f"[store]\n{self.store_settings}", 1)
        if not self.audit:
            text = text.replace("[store]\n", "[store]\naudit = false\n", 1)
        if self.snapshot_every is not None:
            text = text.replace(
                "[store]\n", f"[store]\nsnapshot_every = {self.snapshot_every}\n", 1
            )
        return text

    def reload(self, extra_toml: str, *, raw: str | None = None) -> str:
        """Rewrite the running venue's config (`raw` replaces it whole), send SIGHUP and
        return the log lines the reload wrote."""
        self.extra_toml = extra_toml
        config = self.root / f"venue{self._runs}.toml"
        config.write_text(self.config_text() if raw is None else raw)
        done = self.log.read_text(errors="replace").count("SIGHUP received")
        assert self._proc is not None
        self._proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            text = self.log.read_text(errors="replace")
            if text.count("SIGHUP received") > done:
                tail = text[text.rindex("SIGHUP received") :]
                if "config reloaded" in tail or "config reload refused" in tail:
                    return tail
            time.sleep(0.05)
        raise AssertionError(f"no reload in the log:\n{self.tail()}")

    def stop(self) -> None:
        """SIGTERM (the venue logs every session out), SIGKILL if it does not exit."""
        self.signal_stop()
        self.wait_stopped()

    def signal_stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)

    def wait_stopped(
        self, timeout: float = STOP_TIMEOUT, before_kill: Callable[[int], None] | None = None
    ) -> None:
        """Wait `timeout` seconds for the exit, then SIGKILL (`returncode` None);
        `before_kill(pid)` runs first (to look at a hung venue while it is still there)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            self.returncode = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            if before_kill is not None:
                before_kill(self.core_pid or proc.pid)
            proc.kill()
            proc.wait(STOP_TIMEOUT)
            self.returncode = None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, as a crash."""
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.kill()
            proc.wait(STOP_TIMEOUT)
        self.returncode = None

    def restart(self, fresh: bool = True) -> None:
        self.stop()
        self.start(fresh)

    def tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


TIMESTAMP = re.compile(r"\d{8}-\d{2}:\d{2}:\d{2}(\.\d{3}|\.\d{6}|\.\d{9})?")


class Dictionary:
    """Checks what the venue sends against a stock FIX dictionary, as a client would.

    A quickfix initiator validates every incoming message against its own copy of the
    dictionary (the stock one, without the venue's additions) and rejects what does not
    fit: a message type or enum value its version does not define, a tag not defined for
    the message type, a missing required field, a malformed number. These tests' client
    does not run quickfix, so it applies the same checks here.
    """

    NUMERIC = frozenset({"INT", "LENGTH", "SEQNUM", "NUMINGROUP", "DAYOFMONTH"})
    DECIMAL = frozenset({"PRICE", "QTY", "FLOAT", "AMT", "PRICEOFFSET", "PERCENTAGE"})
    MULTI = frozenset({"MULTIPLEVALUESTRING", "MULTIPLECHARVALUE"})

    def __init__(self, path: Path) -> None:
        root = ET.parse(path).getroot()
        self.types: dict[int, str] = {}
        self.enums: dict[int, set[str]] = {}
        numbers: dict[str, int] = {}
        for field in root.iter("field"):
            if field.get("number") is None:
                continue
            number = int(field.get("number", "0"))
            numbers[field.get("name", "")] = number
            self.types[number] = field.get("type", "")
            values = {v.get("enum", "") for v in field.iter("value")}
            if values:
                self.enums[number] = values
        components = {c.get("name", ""): c for c in root.iter("component") if len(c)}

        def walk(node: ET.Element, required_only: bool) -> set[int]:
            tags: set[int] = set()
            for child in node:
                name = child.get("name", "")
                if required_only and child.get("required") != "Y":
                    continue
                if child.tag == "field":
                    tags.add(numbers[name])
                elif child.tag == "component":
                    tags |= walk(components[name], required_only)
                elif child.tag == "group":
                    tags.add(numbers[name])
                    if not required_only:  # group members are checked per entry by quickfix
                        tags |= walk(child, False)
            return tags

        header = root.find("header")
        trailer = root.find("trailer")
        assert header is not None and trailer is not None
        envelope = walk(header, False) | walk(trailer, False)
        self.allowed: dict[str, set[int]] = {}
        self.required: dict[str, set[int]] = {}
        messages = root.find("messages")
        assert messages is not None
        for message in messages:
            msg_type = message.get("msgtype", "")
            self.allowed[msg_type] = walk(message, False) | envelope
            self.required[msg_type] = walk(message, True)

    def problems(self, msg: Msg) -> list[str]:
        msg_type = msg.get(35) or ""
        if msg_type not in self.allowed:
            return [f"MsgType {msg_type!r} is not defined in this version"]
        found = []
        tags = {tag for tag, _ in msg.pairs}
        for tag in sorted(self.required[msg_type] - tags):
            found.append(f"required tag {tag} missing")
        for tag, value in msg.pairs:
            if tag not in self.allowed[msg_type]:
                found.append(f"tag {tag} is not defined for MsgType {msg_type}")
                continue
            kind = self.types.get(tag, "")
            tokens = value.split(" ") if kind in self.MULTI else [value]
            if tag in self.enums and any(t not in self.enums[tag] for t in tokens):
                found.append(f"{tag}={value} is not a value this version defines")
            if kind in self.NUMERIC and not value.lstrip("-").isdigit():
                found.append(f"{tag}={value} is not an integer")
            if kind == "UTCTIMESTAMP" and not TIMESTAMP.fullmatch(value):
                found.append(f"{tag}={value} is not a UTCTimestamp")
            if kind == "CHAR" and len(value) != 1:
                found.append(f"{tag}={value} is not a single character")
            if kind in self.DECIMAL:
                try:
                    Decimal(value)
                except ArithmeticError:
                    found.append(f"{tag}={value} is not a number")
        return found


STOCK_DICTIONARIES = Path(sys.prefix) / "share" / "quickfix"
_dictionaries: dict[str, Dictionary] = {}


def check_against_dictionary(msg: Msg) -> None:
    """FixClient hook: fail on anything a stock-dictionary client would reject."""
    begin_string = msg.get(8) or ""
    if begin_string not in _dictionaries:
        path = STOCK_DICTIONARIES / (begin_string.replace(".", "") + ".xml")
        _dictionaries[begin_string] = Dictionary(path)
    problems = _dictionaries[begin_string].problems(msg)
    assert not problems, f"a {begin_string} client would reject {msg}: {problems}"


class Venue:
    """What a test gets: logged-on clients of the module's server."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.clients: list[FixClient] = []

    @property
    def port(self) -> int:
        return self.server.port

    def client(self, comp_id: str, begin_string: str, logon: bool = True) -> FixClient:
        client = FixClient(self.server.port, comp_id, begin_string)
        client.validate = check_against_dictionary
        self.clients.append(client)
        if logon:
            client.logon()
        return client

    def cleanup(self) -> None:
        for client in self.clients:
            if client.connected:
                client.cancel_open_orders()
                client.logout()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("venue"))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def venue(server: Server) -> Iterator[Venue]:
    yield from managed(Venue(server), server)


V = TypeVar("V", bound=Venue)


def managed(v: V, server: Server) -> Iterator[V]:
    """A test's venue, cleaned up after it (restarting the server if that fails)."""
    yield v
    try:
        v.cleanup()
    except (AssertionError, OSError):
        # Some order may still rest (or a session be stuck): start the next test afresh.
        print(f"cleanup failed; venue log before the restart:\n{server.tail()}")
        server.restart()
    finally:
        for client in v.clients:
            client.close()


@pytest.fixture(params=VERSIONS, ids=["42", "44"])
def version(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


# --- helpers shared by the test modules ---------------------------------------------------


def fill_exec_type(version: str, filled: bool) -> str:
    """ExecType of an execution: 4.2 tells partial (1) from full (2); 4.4 says F (Trade)."""
    if version == "FIX.4.4":
        return "F"
    return "2" if filled else "1"


def rest(
    client: FixClient,
    symbol: str,
    side: str,
    qty: object,
    price: object,
    extra: Fields = (),
) -> str:
    """Send a limit order and wait for its New report; returns its ClOrdID."""
    cl_ord_id = client.new_order(symbol, side, qty, price, extra=extra)
    ack = client.expect("8", {11: cl_ord_id})
    assert ack[150] == "0", f"expected New, got {ack}"
    return cl_ord_id


def reports(messages: list[Msg], cl_ord_id: str | None = None) -> list[Msg]:
    """The ExecutionReports among `messages` (for one ClOrdID when given)."""
    return [m for m in messages if m.type == "8" and (cl_ord_id is None or m[11] == cl_ord_id)]


def fills(messages: list[Msg]) -> list[Msg]:
    """ExecutionReports that report an execution (they carry LastQty/LastShares)."""
    return [m for m in reports(messages) if 32 in m and Decimal(m[32]) > 0]


Levels = dict[tuple[str, Decimal], int]
"""Market data as a client holds it: (MDEntryType, price) → size."""


def snapshot(client: FixClient, symbol: str, depth: int = 0) -> Levels:
    """The book as a one-off MarketDataRequest snapshot (263=0) shows it."""
    md_req_id = client.subscribe([symbol], depth=depth, kind="0")
    snap = client.expect("W", {262: md_req_id})
    assert snap[55] == symbol
    return {(e[269], Decimal(e[270])): int(e[271]) for e in snap.groups(268, 269)}


def apply_incremental(levels: Levels, update: Msg) -> None:
    """Fold one X message's bid/offer entries into `levels`."""
    for entry in update.groups(268, 279):
        if entry[269] not in ("0", "1"):
            continue
        key = (entry[269], Decimal(entry[270]))
        if entry[279] == "2":
            assert key in levels, f"delete of a level the client never had: {entry}"
            del levels[key]
        else:
            levels[key] = int(entry[271])


def gateway_pids(server: Server, name: str) -> list[int]:
    """Pids of the venue's `name` processes so far (core, replica, fix, itch, websocket), in the
    order they were started (the log says so)."""
    text = server.log.read_text(errors="replace")
    return [int(pid) for pid in re.findall(rf"{name} process started \(pid (\d+)\)", text)]


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, dead but not yet reaped by its init, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def log_matches(server: Server, pattern: str, wait: float = 10.0) -> re.Match[str]:
    """The last line of the venue's log matching `pattern`, waiting for it to appear."""
    deadline = time.monotonic() + wait
    while True:
        found = list(re.finditer(pattern, server.log.read_text(errors="replace")))
        if found:
            return found[-1]
        assert time.monotonic() < deadline, f"no {pattern!r} in the venue log:\n{server.tail()}"
        time.sleep(0.05)
