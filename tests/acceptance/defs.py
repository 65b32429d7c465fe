"""Parse and run QuickFIX's server acceptance definitions (`*.def`) against a live acceptor.

The format is described in shared/quickfix-acceptance/README.md; the definitions themselves
stay in that shared folder (they are QuickFIX's test data under its own licence) and are read
from there at test time, never copied into this repository.

One line is one step:
    iCONNECT / iDISCONNECT      open / close a TCP connection
    eDISCONNECT                 the acceptor must close the connection within 10 s
    I<msg> / E<msg>             send a message / read one message and compare it
and `I2,...`, `e2,DISCONNECT`, ... pick connection 2 (one digit). `<TIME>`, `<TIME+N>` and
`<TIME-N>` become the current UTC time (shifted by N seconds) when the step runs, and a
missing BodyLength (9) or CheckSum (10) is filled in; present ones are kept as written so a
definition can send a wrong one on purpose.
"""

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NoReturn

from benchmarks.venue_process import free_port

SOH = "\x01"
REPO_ROOT = Path(__file__).resolve().parents[2]
ACCEPTANCE_TOML = REPO_ROOT / "sessions" / "acceptance.toml"
ENV_DIR = "NYQUESTRO_ACCEPTANCE_DIR"
VERSIONS = ("fix42", "fix44")

# Files that expect QuickFIX's echo application (orders sent back verbatim) rather than an
# exchange answering them; the README lists them. Most are named by their test-case code.
ECHO_CODES = frozenset(
    {"2d", "2f", "2g", "2m", "2r", "3b", "3c", "14e", "15", "19a", "19b", "20", "21"}
)
ECHO_STEMS = frozenset({"8_OnlyApplicationMessages", "8_AdminAndApplicationMessages"})

DISCONNECT_TIMEOUT = 10.0
"""How long eDISCONNECT waits for the acceptor to close, as QuickFIX's own runner does."""
MIN_EXPECT_TIMEOUT = 10.0
"""Floor for waiting on an E step; replies to what we sent come within milliseconds."""
CONNECT_TIMEOUT = 5.0
SERVER_START_TIMEOUT = 30.0
SERVER_STOP_TIMEOUT = 10.0

_TIME = re.compile(r"<TIME(?:([+-])(\d+))?>")


def acceptance_dir() -> Path:
    """The shared definitions folder: $NYQUESTRO_ACCEPTANCE_DIR, else shared/ beside the repo."""
    override = os.environ.get(ENV_DIR)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3] / "shared" / "quickfix-acceptance"


def is_session_only(path: Path) -> bool:
    return path.stem not in ECHO_STEMS and path.stem.split("_", 1)[0] not in ECHO_CODES


def session_only_definitions(root: Path) -> list[Path]:
    files: list[Path] = []
    for version in VERSIONS:
        files.extend(p for p in sorted((root / version).glob("*.def")) if is_session_only(p))
    return files


def load_field_formats(path: Path) -> dict[str, re.Pattern[str]]:
    """fields.fmt: `tag=regex` a line; those tags' received values are matched, not compared."""
    formats: dict[str, re.Pattern[str]] = {}
    for raw in path.read_text(encoding="ascii").splitlines():
        line = raw.strip()
        if line:
            tag, _, pattern = line.partition("=")
            formats[tag] = re.compile(pattern)
    return formats


# --- parsing ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    line: int
    """1-based line number in the definition file, for failure messages."""
    kind: str
    """'connect', 'disconnect', 'expect_disconnect', 'send' or 'expect'."""
    conn: int
    text: str = ""
    """The message as written (before time substitution and completion); send/expect only."""


class DefinitionSyntaxError(ValueError):
    pass


_KINDS = {
    ("i", "CONNECT"): "connect",
    ("i", "DISCONNECT"): "disconnect",
    ("e", "DISCONNECT"): "expect_disconnect",
}


def parse_definition(text: str, name: str = "<definition>") -> list[Step]:
    steps: list[Step] = []
    # Split on \n only: SOH and other control bytes are part of messages; some files use CRLF.
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.removesuffix("\r")
        if not line or line.startswith("#"):
            continue
        letter = line[0]
        if len(line) > 2 and line[1].isdigit() and line[2] == ",":
            conn, body = int(line[1]), line[3:]
        else:
            conn, body = 1, line[1:]
        if letter in "IE":
            steps.append(Step(number, "send" if letter == "I" else "expect", conn, body))
        elif (letter, body) in _KINDS:
            steps.append(Step(number, _KINDS[(letter, body)], conn))
        else:
            raise DefinitionSyntaxError(f"{name} line {number}: cannot read {visible(line)!r}")
    return steps


# --- messages --------------------------------------------------------------------------------


def visible(message: str | bytes) -> str:
    """A message for humans: SOH shown as |."""
    if isinstance(message, bytes):
        message = message.decode("latin-1")
    return message.replace(SOH, "|")


def substitute_time(text: str, now: datetime) -> str:
    def stamp(match: re.Match[str]) -> str:
        sign, seconds = match.groups()
        shift = timedelta(seconds=int(seconds or 0)) * (-1 if sign == "-" else 1)
        return (now + shift).strftime("%Y%m%d-%H:%M:%S")

    return _TIME.sub(stamp, text)


def checksum(data: str) -> str:
    return f"{sum(data.encode('latin-1')) % 256:03d}"


def complete(message: str) -> str:
    """Fill in a missing BodyLength after BeginString and a missing CheckSum at the end.

    A message that does not start with 8= (a definition sending the header out of order on
    purpose) is left exactly as written, as are 9= and 10= fields that are present.
    """
    if not message.startswith("8="):
        return message
    head_end = message.find(SOH) + 1
    if head_end == 0:
        return message
    head, rest = message[:head_end], message[head_end:]
    trailer = ""
    last = rest.rstrip(SOH).rfind(SOH) + 1
    if rest[last:].startswith("10="):
        rest, trailer = rest[:last], rest[last:]
    if f"{SOH}9=" not in message:
        head += f"9={len(rest.encode('latin-1'))}{SOH}"
    if not trailer:
        trailer = f"10={checksum(head + rest)}{SOH}"
    return head + rest + trailer


def fields_of(message: str) -> list[tuple[str, str]]:
    parts = message.split(SOH)
    if parts and parts[-1] == "":
        parts.pop()
    return [(tag, value) for tag, _, value in (p.partition("=") for p in parts)]


def mismatch(expected: str, received: str, formats: dict[str, re.Pattern[str]]) -> str | None:
    """Why `received` does not match `expected`, or None if it does.

    Field by field in the order received: same count, same tags, same values, except that a
    tag listed in fields.fmt must have a value matching its pattern (whatever the expected
    value says). The pattern is searched, not anchored, as QuickFIX's own runner does (Ruby's
    Regexp#===): fields.fmt gives 122 as whole seconds while the definitions' bodies (and
    their BodyLengths) carry milliseconds, which only an unanchored match accepts.
    """
    want, got = fields_of(expected), fields_of(received)
    for index, ((tag, value), (got_tag, got_value)) in enumerate(zip(want, got, strict=False)):
        if tag != got_tag:
            return f"field {index + 1}: expected tag {tag}, received tag {got_tag}"
        pattern = formats.get(tag)
        if pattern is not None:
            if not pattern.search(got_value):
                return f"field {tag}={got_value!r} does not match /{pattern.pattern}/"
        elif value != got_value:
            return f"field {tag}: expected {value!r}, received {got_value!r}"
    if len(want) != len(got):
        return f"expected {len(want)} fields, received {len(got)}"
    return None


# --- connections -----------------------------------------------------------------------------


class ConnectionClosed(Exception):
    def __init__(self, partial: bytes) -> None:
        super().__init__("connection closed")
        self.partial = partial


class ReadTimeout(Exception):
    def __init__(self, partial: bytes) -> None:
        super().__init__("read timed out")
        self.partial = partial


class FixConnection:
    """One TCP connection to the acceptor with a receive buffer for framing messages."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=CONNECT_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = bytearray()
        self.heartbeat_interval = 0
        """HeartBtInt of the last Logon sent here: timer-driven replies may take 1.2x that."""
        self.peer_closed = False
        """Set once an eDISCONNECT has seen the acceptor close this connection."""

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self, deadline: float) -> bool:
        """Receive more bytes; False on EOF or reset. Raises ReadTimeout at the deadline."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ReadTimeout(bytes(self.buffer))
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except TimeoutError:
            raise ReadTimeout(bytes(self.buffer)) from None
        except ConnectionResetError:
            return False
        if not chunk:
            return False
        self.buffer += chunk
        return True

    def read_message(self, timeout: float) -> bytes:
        """Frame one message: everything up to `<SOH>9=len<SOH>`, len bytes, then `10=xxx<SOH>`."""
        deadline = time.monotonic() + timeout
        while True:
            start = self.buffer.find(b"\x019=")
            length_end = self.buffer.find(b"\x01", start + 3) if start >= 0 else -1
            if length_end >= 0:
                break
            if not self._fill(deadline):
                raise ConnectionClosed(bytes(self.buffer))
        length_text = self.buffer[start + 3 : length_end]
        if not length_text.isdigit():
            raise ValueError(f"BodyLength is not a number: {visible(bytes(self.buffer))}")
        body_end = length_end + 1 + int(length_text)
        while True:
            end = self.buffer.find(b"\x01", body_end)
            if len(self.buffer) >= body_end and end >= 0:
                break
            if not self._fill(deadline):
                raise ConnectionClosed(bytes(self.buffer))
        message = bytes(self.buffer[: end + 1])
        del self.buffer[: end + 1]
        return message

    def wait_closed(self, timeout: float) -> bytes | None:
        """None once the peer has closed; else the data that arrived instead (or b'')."""
        if self.buffer:
            return bytes(self.buffer)
        try:
            if self._fill(time.monotonic() + timeout):
                return bytes(self.buffer)
        except ReadTimeout:
            return b""
        return None


# --- running a definition --------------------------------------------------------------------


class StepFailure(AssertionError):
    def __init__(
        self, definition: str, step: Step, reason: str, expected: str = "", received: str = ""
    ) -> None:
        lines = [f"{definition} line {step.line} ({step.kind}): {reason}"]
        if expected:
            lines.append(f"  expected: {expected}")
        if received:
            lines.append(f"  received: {received}")
        super().__init__("\n".join(lines))
        self.definition = definition
        self.step = step
        self.reason = reason


def expect_timeout(heartbeat_interval: int) -> float:
    # The acceptor sends a TestRequest after 1.2 x HeartBtInt of silence (its timer ticks
    # every second); anything else it owes us comes right away.
    return max(MIN_EXPECT_TIMEOUT, 1.2 * heartbeat_interval + 2.0)


def _heartbeat_interval(message: str) -> int | None:
    fields = dict(fields_of(message))
    value = fields.get("108", "")
    if fields.get("35") == "A" and value.isdigit():
        return int(value)
    return None


@dataclass
class DefinitionRun:
    """Run one definition file's steps in order; the first step that fails raises StepFailure."""

    path: Path
    port: int
    formats: dict[str, re.Pattern[str]]
    name: str = ""
    connections: dict[int, FixConnection] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name:
            self.name = str(self.path)

    def run(self) -> None:
        steps = parse_definition(self.path.read_bytes().decode("latin-1"), self.name)
        try:
            for step in steps:
                self._run_step(step)
        finally:
            for conn in self.connections.values():
                conn.close()
            self.connections.clear()

    def _fail(self, step: Step, reason: str, expected: str = "", received: str = "") -> NoReturn:
        raise StepFailure(self.name, step, reason, expected, received)

    def _conn(self, step: Step) -> FixConnection:
        conn = self.connections.get(step.conn)
        if conn is None:
            self._fail(step, f"connection {step.conn} was never opened")
        if conn.peer_closed:
            self._fail(
                step, f"connection {step.conn} was closed by the acceptor at an earlier step"
            )
        return conn

    def _run_step(self, step: Step) -> None:
        if step.kind == "connect":
            old = self.connections.pop(step.conn, None)
            if old is not None:
                old.close()
            try:
                self.connections[step.conn] = FixConnection(self.port)
            except OSError as exc:
                self._fail(step, f"cannot connect to 127.0.0.1:{self.port}: {exc}")
        elif step.kind == "disconnect":
            # Closing a connection the acceptor already closed is fine, as in QuickFIX's runner.
            conn = self.connections.pop(step.conn, None)
            if conn is None:
                self._fail(step, f"connection {step.conn} was never opened")
            conn.close()
        elif step.kind == "expect_disconnect":
            self._expect_disconnect(step)
        elif step.kind == "send":
            self._send(step)
        else:
            self._expect(step)

    def _send(self, step: Step) -> None:
        conn = self._conn(step)
        message = complete(substitute_time(step.text, datetime.now(UTC)))
        interval = _heartbeat_interval(message)
        if interval is not None:
            conn.heartbeat_interval = interval
        try:
            conn.send(message.encode("latin-1"))
        except OSError as exc:
            self._fail(step, f"send failed: {exc}", expected=visible(message))

    def _expect(self, step: Step) -> None:
        conn = self._conn(step)
        expected = complete(substitute_time(step.text, datetime.now(UTC)))
        timeout = expect_timeout(conn.heartbeat_interval)
        try:
            data = conn.read_message(timeout)
        except ReadTimeout as exc:
            self._fail(
                step,
                f"no complete message within {timeout:.0f} s",
                visible(expected),
                visible(exc.partial) or "(nothing)",
            )
        except ConnectionClosed as exc:
            self._fail(
                step,
                "the acceptor closed the connection instead of sending a message",
                visible(expected),
                visible(exc.partial) or "(nothing before the close)",
            )
        except ValueError as exc:
            self._fail(step, str(exc), visible(expected))
        received = data.decode("latin-1")
        reason = mismatch(expected, received, self.formats)
        if reason is not None:
            self._fail(step, reason, visible(expected), visible(received))

    def _expect_disconnect(self, step: Step) -> None:
        conn = self._conn(step)
        data = conn.wait_closed(DISCONNECT_TIMEOUT)
        if data is None:
            conn.peer_closed = True
            conn.close()
            return
        if not data:
            self._fail(step, f"the acceptor did not disconnect within {DISCONNECT_TIMEOUT:.0f} s")
        # Show the whole message that came instead of the close, if it completes quickly.
        with contextlib.suppress(ReadTimeout, ConnectionClosed, ValueError):
            data = conn.read_message(1.0)
        self._fail(
            step, "expected the acceptor to disconnect, received data first", received=visible(data)
        )


# --- the venue under test ----------------------------------------------------------------------


def acceptance_config(store_dir: Path, port: int, template: Path = ACCEPTANCE_TOML) -> str:
    """sessions/acceptance.toml with its own store dir and port, everything else as shipped."""
    section = ""
    out: list[str] = []
    replaced: set[str] = set()
    for raw in template.read_text(encoding="utf-8").splitlines():
        line = raw
        stripped = raw.strip()
        if stripped.startswith("["):
            section = stripped
        key = stripped.partition("=")[0].strip()
        if section == "[store]" and key == "dir":
            # A TOML literal string: no escapes, so any path without a quote is taken as is.
            line = f"dir = '{store_dir}'"
            replaced.add(key)
        elif section == "[fix]" and key == "port":
            line = f"port = {port}"
            replaced.add(key)
        out.append(line)
    text = "\n".join(out) + "\n"
    doc = tomllib.loads(text)
    if replaced != {"dir", "port"} or doc["store"]["dir"] != str(store_dir):
        raise RuntimeError(f"could not set [store] dir and [fix] port in {template}")
    return text


class VenueServer:
    """`nyquestro serve` in a subprocess, with its own store dir and port; logs to a file."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.config = workdir / "acceptance.toml"
        self.config.write_text(acceptance_config(workdir / "store", self.port))
        self.log_path = workdir / "serve.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "nyquestro", "serve", "--config", str(self.config)],
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"nyquestro serve exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            # A bare connect that closes at once is dropped by quickfix before any Logon.
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1.0),
            ):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nyquestro serve did not open port {self.port}:\n{self.log_tail()}")

    def stop(self) -> int | None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return None if process is None else process.returncode
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(SERVER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait(SERVER_STOP_TIMEOUT)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def running_venue(workdir: Path) -> Iterator[VenueServer]:
    server = VenueServer(workdir)
    try:
        server.start()
        yield server
    finally:
        server.stop()
