"""A recorded FIX conversation played again against a fresh venue, each outbound message
compared with the recording field by field (`nyquestro replay --fix`).

The recording is the audit trail's messages in the order the venue saw them, every
session's interleaved. It is the script: an inbound message is sent again on its
session, and a recorded outbound message is waited for and compared before the replay
goes on. Ordering across sessions is therefore the recording's.

What is not compared, and why:
- SendingTime (52), OrigSendingTime (122) and TransactTime (60): when, not what.
- BodyLength (9) and CheckSum (10): they follow from the rest.
- MsgSeqNum (34): the replay numbers its messages itself, and leaves out the traffic that
  only time causes. That is both sides' Heartbeats without a TestReqID, the venue's
  TestRequests, and the client's Heartbeats answering them.
Everything else must be the same, in the same order: OrderIDs, ExecIDs, prices,
quantities, states, reasons and texts.
"""

import time
from collections.abc import Iterable
from dataclasses import dataclass

from nyquestro.cert.connection import Closed, Connection, Dialer, Transcript
from nyquestro.cert.matching import named
from nyquestro.cert.session import ClientSession, ClientSpec, Outgoing
from nyquestro.codec.fix_wire import Field, Message

IGNORED = frozenset({9, 10, 34, 52, 60, 122})
HEADER = frozenset({8, 9, 35, 49, 56, 34, 52, 10})
"""Fields the replay's client writes itself."""
WAIT = 10.0


@dataclass(frozen=True)
class Recorded:
    session: str
    """A session key: FIX.4.4:NYQUESTRO->CLIENT1."""
    inbound: bool
    text: str
    """With | for SOH."""


@dataclass(frozen=True)
class Divergence:
    index: int
    """Which recorded message (from 1) differed."""
    session: str
    recorded: str
    replayed: str | None
    """None: nothing came."""
    difference: str


@dataclass(frozen=True)
class ReplayResult:
    sent: int
    compared: int
    divergence: Divergence | None


def pairs(text: str) -> list[Field]:
    found: list[Field] = []
    for part in text.strip("|").split("|"):
        tag, _, value = part.partition("=")
        if tag.isdigit():
            found.append((int(tag), value))
    return found


def is_time_traffic(fields: list[Field], inbound: bool) -> bool:
    """Heartbeats, and TestRequests from the venue with the Heartbeats answering them."""
    kind = dict(fields).get(35)
    tagged = any(tag == 112 for tag, _ in fields)
    if kind == "0":
        return not tagged or inbound
    return kind == "1" and not inbound


def compare(recorded: list[Field], replayed: list[Field]) -> str | None:
    """The first difference in words, or None: a value both sides have (in the
    recording's field order), then a field only one side has, then the fields' order."""
    want = [(t, v) for t, v in recorded if t not in IGNORED]
    got = [(t, v) for t, v in replayed if t not in IGNORED]
    left = list(got)
    missing: list[Field] = []
    for tag, value in want:
        match = next((i for i, (t, _) in enumerate(left) if t == tag), None)
        if match is None:
            missing.append((tag, value))
            continue
        if left[match][1] != value:
            return f"tag {named(tag)}: recorded {value!r}, replayed {left[match][1]!r}"
        del left[match]
    if missing:
        tag, value = missing[0]
        return f"tag {named(tag)} ({value!r} in the recording) is missing from the replay"
    if left:
        return f"only the replay has {', '.join(named(t) for t, _ in left)}"
    if [t for t, _ in want] != [t for t, _ in got]:
        return "the same fields in another order"
    return None


class SessionReplay:
    def __init__(self, dialer: Dialer) -> None:
        self._dialer = dialer
        self._sessions: dict[str, ClientSession] = {}
        self._connections: dict[str, Connection] = {}

    def run(self, recording: Iterable[Recorded]) -> ReplayResult:
        sent = compared = 0
        try:
            for index, record in enumerate(recording, 1):
                fields = pairs(record.text)
                if is_time_traffic(fields, record.inbound):
                    continue
                if record.inbound:
                    self._send(record.session, fields)
                    sent += 1
                    continue
                if not self._connected(record.session):
                    # Stored by the venue for a session that was not logged on (a drop copy
                    # nobody read, reports after a logout): never delivered, so not compared.
                    continue
                replayed = self._next(record.session)
                problem = (
                    "nothing came within the wait" if replayed is None
                    else compare(fields, list(replayed.pairs))
                )  # fmt: skip
                if problem is not None:
                    text = None if replayed is None else replayed.text()
                    divergence = Divergence(index, record.session, record.text, text, problem)
                    return ReplayResult(sent, compared, divergence)
                compared += 1
        finally:
            for connection in self._connections.values():
                connection.close()
        return ReplayResult(sent, compared, None)

    def _send(self, key: str, fields: list[Field]) -> None:
        body = [(tag, value) for tag, value in fields if tag not in HEADER]
        msg_type = dict(fields)[35]
        connection = self._connections.get(key)
        if connection is None or msg_type == "A":
            if connection is not None:
                connection.close()
            connection = self._connect(key)
        try:
            connection.send(Outgoing(msg_type, body))
        except Closed:
            connection = self._connect(key)
            connection.send(Outgoing(msg_type, body))

    def _connect(self, key: str) -> Connection:
        begin, _, rest = key.partition(":")
        venue, _, client = rest.partition("->")
        session = self._sessions.setdefault(
            key, ClientSession(ClientSpec(client, client, venue, begin))
        )
        connection = Connection(session, *self._dialer.open(5.0), Transcript(keep=False))
        self._connections[key] = connection
        return connection

    def _connected(self, key: str) -> bool:
        connection = self._connections.get(key)
        return connection is not None and not connection.finished

    def _next(self, key: str) -> Message | None:
        """The session's next message that is not time traffic, None after the wait."""
        connection = self._connections.get(key)
        if connection is None:
            return None
        deadline = time.monotonic() + WAIT
        try:
            while (msg := connection.receive(deadline)) is not None:
                if not is_time_traffic(list(msg.pairs), inbound=False):
                    return msg
        except Closed:
            return None
        return None
