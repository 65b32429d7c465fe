"""Plays a pack's scenarios against a venue, one step at a time, and says what happened.

Each scenario starts from nothing: fresh client sessions (numbering from 1), no captured
values, no connections. A failed step fails its scenario and skips the rest of it; the
next scenario runs regardless. At a scenario's end each session still logged on logs out,
so the next one can log on again under the same CompIDs.
"""

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from nyquestro.cert.connection import (
    Closed,
    Connection,
    Dialer,
    Line,
    Transcript,
    sending_time,
)  # fmt: skip
from nyquestro.cert.matching import MissingValue, substitute, summary, verdict
from nyquestro.cert.pack import (
    Check,
    Connect,
    Disconnect,
    Expect,
    ExpectClosed,
    ExpectSilence,
    Logon,
    Logout,
    Pack,
    Scenario,
    Send,
    SendRaw,
    Step,
    VenueAction,
    Wait,
)  # fmt: skip
from nyquestro.cert.session import RESET_SEQ_NUM_FLAG, ClientSession, Outgoing
from nyquestro.cert.venue import VenueActionError, VenueControl
from nyquestro.codec.fix_wire import SOH, Message, WireError

HEARTBEAT = "0"
TEST_REQUEST = "1"
LOGOUT_GRACE = 3.0
"""How long a scenario's end waits for each session's Logout answer."""


class StepFailed(Exception):
    """The step did not go as the pack says (the text says how, naming the tags)."""


@dataclass(frozen=True)
class StepResult:
    scenario: str
    step: Step
    status: str
    """"passed", "failed" or "skipped" (after an earlier failure in its scenario)."""
    detail: str
    seconds: float
    exchange: tuple[Line, ...]
    """What crossed the wire during the step."""


@dataclass
class ScenarioResult:
    scenario: Scenario
    steps: list[StepResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(step.status == "passed" for step in self.steps)

    @property
    def seconds(self) -> float:
        return sum(step.seconds for step in self.steps)


@dataclass
class PackResult:
    pack: Pack
    target: str
    scenarios: list[ScenarioResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(scenario.passed for scenario in self.scenarios)

    def counts(self) -> dict[str, int]:
        found = {"passed": 0, "failed": 0, "skipped": 0}
        for scenario in self.scenarios:
            for step in scenario.steps:
                found[step.status] += 1
        return found


Observer = Callable[[StepResult], None]


class Runner:
    def __init__(
        self,
        pack: Pack,
        dialer: Dialer,
        venue: VenueControl | None,
        observe: Observer | None = None,
        accepting: bool = False,
    ) -> None:
        """`venue`: what `venue` steps act on (None: they fail saying so). `accepting`:
        the pack plays the venue's side (`cert serve`): the engine under test connects
        and logs on, the pack answers."""
        self.pack = pack
        self._dialer = dialer
        self._venue = venue
        self._accepting = accepting
        self._observe = observe or (lambda _result: None)
        self.transcript = Transcript()
        self._run = secrets.token_hex(4)
        self._sessions: dict[str, ClientSession] = {}
        self._connections: dict[str, Connection] = {}
        self._values: dict[str, str] = {}
        self._timeout = 0.0
        """The current step's timeout (a connection it opens may take that long)."""

    def run(self) -> PackResult:
        result = PackResult(self.pack, self._dialer.describe())
        for scenario in self.pack.scenarios:
            result.scenarios.append(self._scenario(scenario))
        return result

    def _scenario(self, scenario: Scenario) -> ScenarioResult:
        self._sessions = {
            name: ClientSession(
                replace(spec, begin_string=scenario.begin_string or spec.begin_string)
            )
            for name, spec in self.pack.clients.items()
        }
        self._connections = {}
        self._values = dict(scenario.variables)
        result = ScenarioResult(scenario)
        failed = False
        try:
            for step in scenario.steps:
                outcome = self._skip(scenario, step) if failed else self._step(scenario, step)
                failed = failed or outcome.status == "failed"
                result.steps.append(outcome)
                self._observe(outcome)
        finally:
            self._log_everyone_out()
        return result

    def _skip(self, scenario: Scenario, step: Step) -> StepResult:
        return StepResult(scenario.name, step, "skipped", "an earlier step failed", 0.0, ())

    def _step(self, scenario: Scenario, step: Step) -> StepResult:
        first = len(self.transcript.lines)
        began = time.monotonic()
        try:
            detail = self._do(step)
            status = "passed"
        except StepFailed as exc:
            status, detail = "failed", str(exc)
        exchange = tuple(self.transcript.lines[first:])
        return StepResult(scenario.name, step, status, detail, time.monotonic() - began,
                          exchange)  # fmt: skip

    def _do(self, step: Step) -> str:
        self._timeout = step.timeout
        deadline = time.monotonic() + step.timeout
        try:
            return self._act(step, deadline)
        except Closed as exc:
            raise StepFailed(f"{step.client}: {exc}") from exc
        except WireError as exc:
            raise StepFailed(f"{step.client}: the venue sent bytes that are not FIX: {exc}"
                             ) from exc  # fmt: skip
        except MissingValue as exc:
            raise StepFailed(str(exc)) from exc
        except VenueActionError as exc:
            raise StepFailed(str(exc)) from exc

    def _act(self, step: Step, deadline: float) -> str:
        action = step.action
        match action:
            case Connect():
                self._connect(step.client)
                return "connected"
            case Disconnect():
                self._disconnect(step.client)
                return "disconnected"
            case Send(out, seq):
                return self._send(step.client, out, seq)
            case SendRaw(text):
                data = substitute(text, self._lookup).encode().replace(b"|", SOH)
                self._connection(step.client).send_bytes(data)
                return f"sent {len(data)} bytes as they are"
            case Expect(msg_type, checks, skip_others):
                return self._expect(step.client, msg_type, checks, skip_others, deadline)
            case ExpectSilence(seconds):
                return self._silence(step.client, seconds)
            case ExpectClosed():
                return self._closed(step.client, deadline)
            case Logon(reset, heartbeat):
                return self._logon(step.client, reset, heartbeat, deadline)
            case Logout(text):
                return self._logout(step.client, text, deadline)
            case Wait(seconds):
                time.sleep(seconds)
                return f"waited {seconds:g} s"
            case VenueAction(name, args):
                return self._venue_action(name, args)

    def _lookup(self, name: str) -> str | None:
        if name == "run":
            return self._run
        if name == "now":
            return sending_time()
        client, dot, attribute = name.partition(".")
        if dot and client in self._sessions:
            session = self._sessions[client]
            numbers = {"next_out": session.next_out, "last_in": session.last_in}
            return str(numbers[attribute]) if attribute in numbers else None
        return self._values.get(name)

    def _connect(self, client: str) -> Connection:
        known = self._connections.pop(client, None)
        if known is not None:
            known.close()
        try:
            sock, peer = self._dialer.open(self._timeout)
        except OSError as exc:
            how = "no engine connected" if self._accepting else "could not connect"
            raise StepFailed(f"{client}: {how} ({self._dialer.describe()}): {exc}") from exc
        connection = Connection(self._sessions[client], sock, peer, self.transcript)
        self._connections[client] = connection
        return connection

    def _connection(self, client: str) -> Connection:
        """The client's connection, opened first when it has none."""
        return self._connections.get(client) or self._connect(client)

    def _disconnect(self, client: str) -> None:
        connection = self._connections.pop(client, None)
        if connection is not None:
            connection.close()

    def _send(self, client: str, out: Outgoing, seq: str | None) -> str:
        number = None if seq is None else substitute(seq, self._lookup)
        if number is not None and not number.isdigit():
            raise StepFailed(f"`seq` came to {number!r}, not a MsgSeqNum (34)")
        resolved = Outgoing(
            out.msg_type,
            [(tag, substitute(value, self._lookup)) for tag, value in out.fields],
            [(tag, substitute(value, self._lookup)) for tag, value in out.header],
            None if number is None else int(number), out.body_length, out.checksum,
        )  # fmt: skip
        connection = self._connection(client)
        connection.send(resolved)
        sent = connection.session.next_out - 1 if number is None else int(number)
        return f"sent 35={out.msg_type} MsgSeqNum {sent}"

    def _next(self, connection: Connection, deadline: float, expecting: str) -> Message | None:
        """The next message that is not a Heartbeat or TestRequest (unless `expecting`
        one), or None at the deadline."""
        while True:
            msg = connection.receive(deadline)
            if msg is None or msg.type == expecting:
                return msg
            if msg.type not in (HEARTBEAT, TEST_REQUEST):
                return msg

    def _expect(
        self, client: str, msg_type: str, checks: tuple[Check, ...], skip_others: bool,
        deadline: float,
    ) -> str:  # fmt: skip
        connection = self._connection(client)
        passed_over: list[str] = []
        while True:
            msg = self._next(connection, deadline, msg_type)
            if msg is None:
                seen = f"; passed over {', '.join(passed_over)}" if passed_over else ""
                raise StepFailed(f"{client}: no 35={msg_type} arrived in time{seen}")
            judged = verdict(msg, msg_type, checks, self._lookup)
            if judged.ok:
                self._values.update(judged.captured)
                kept = ", ".join(f"{name}={value!r}" for name, value in judged.captured)
                return f"got {summary(msg)}" + (f"; captured {kept}" if kept else "")
            if not skip_others or msg.type == msg_type:
                raise StepFailed(f"{client}: " + "; ".join(judged.problems))
            passed_over.append(summary(msg))

    def _silence(self, client: str, seconds: float) -> str:
        connection = self._connection(client)
        msg = self._next(connection, time.monotonic() + seconds, HEARTBEAT)
        while msg is not None and msg.type == HEARTBEAT:
            msg = self._next(connection, time.monotonic() + seconds, HEARTBEAT)
        if msg is not None:
            raise StepFailed(f"{client}: expected nothing for {seconds:g} s, got "
                             f"{summary(msg)}")  # fmt: skip
        return f"nothing but Heartbeats for {seconds:g} s"

    def _closed(self, client: str, deadline: float) -> str:
        connection = self._connection(client)
        try:
            while connection.receive(deadline) is not None:
                pass
        except Closed:
            self._connections.pop(client, None)
            connection.close()
            return "the other side closed the connection"
        raise StepFailed(f"{client}: the other side kept the connection open")

    def _logon(self, client: str, reset: bool, heartbeat: int | None, deadline: float) -> str:
        if self._accepting:
            return self._answer_logon(client, deadline)
        interval = self.pack.clients[client].heartbeat if heartbeat is None else heartbeat
        fields = [(98, "0"), (108, str(interval))]
        if reset:
            fields.append((RESET_SEQ_NUM_FLAG, "Y"))
        connection = self._connection(client)
        connection.send(Outgoing("A", fields))
        msg = self._logon_in(connection, deadline, "no Logon answer (35=A) arrived in time")
        answered = msg.get(108)
        if answered != str(interval):
            raise StepFailed(f"{client}: the Logon answer's HeartBtInt (108) is {answered!r}, "
                             f"expected {str(interval)!r}")  # fmt: skip
        return f"logged on: {summary(msg)}"

    def _logon_in(self, connection: Connection, deadline: float, missing: str) -> Message:
        """The next message, which must be a Logon."""
        msg = self._next(connection, deadline, "A")
        if msg is None:
            raise StepFailed(f"{connection.name}: {missing}")
        judged = verdict(msg, "A", (), self._lookup)
        if not judged.ok:
            raise StepFailed(f"{connection.name}: " + "; ".join(judged.problems))
        return msg

    def _answer_logon(self, client: str, deadline: float) -> str:
        """The venue's side: the engine's Logon, answered with its HeartBtInt (and its
        ResetSeqNumFlag, when it asked for a reset)."""
        connection = self._connection(client)
        msg = self._logon_in(connection, deadline, "no Logon (35=A) from the engine in time")
        fields = [(98, "0"), (108, msg.get(108) or "30")]
        if msg.get(RESET_SEQ_NUM_FLAG) == "Y":
            fields.append((RESET_SEQ_NUM_FLAG, "Y"))
        connection.send(Outgoing("A", fields))
        connection.logged_on = True
        return f"answered the engine's {summary(msg)}"

    def _logout(self, client: str, text: str | None, deadline: float) -> str:
        connection = self._connection(client)
        connection.send(Outgoing("5", [(58, text)] if text else []))
        msg = self._next(connection, deadline, "5")
        while msg is not None and msg.type != "5":
            msg = self._next(connection, deadline, "5")
        if msg is None:
            raise StepFailed(f"{client}: no Logout answer (35=5) arrived in time")
        if self._accepting:
            self._disconnect(client)  # the acceptor ends the connection
            return "logged out; closed the connection"
        self._closed(client, deadline)
        return "logged out; the other side closed the connection"

    def _venue_action(self, name: str, args: tuple[tuple[str, str | int | bool], ...]) -> str:
        resolved: Mapping[str, str | int | bool] = {
            key: substitute(value, self._lookup) if isinstance(value, str) else value
            for key, value in args
        }
        if self._venue is None:
            raise StepFailed(f"`venue = \"{name}\"`: the pack plays the venue here, there is "
                             "no other venue to act on")  # fmt: skip
        if name == "restart":
            for client in list(self._connections):
                self._disconnect(client)
        self.transcript.add("venue", "note", f"{name} {dict(resolved)}")
        return self._venue.act(name, resolved)

    def _log_everyone_out(self) -> None:
        for client, connection in list(self._connections.items()):
            try:
                if connection.logged_on:
                    connection.send(Outgoing("5", [(58, "end of scenario")]))
                    deadline = time.monotonic() + LOGOUT_GRACE
                    while (msg := connection.receive(deadline)) is not None and msg.type != "5":
                        pass
            except (Closed, WireError):
                pass
            finally:
                connection.close()
                del self._connections[client]
