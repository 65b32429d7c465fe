"""A recorded FIX conversation played again against a fresh venue, each outbound message
compared with the recording field by field (`nyquestro replay --fix`).

The recording is the audit trail's messages in the order the venue saw them, every
session's interleaved. It is the script: an inbound message is sent again on its
session, and a recorded outbound message is waited for and compared before the replay
goes on. Ordering across sessions is therefore the recording's.

Time: given a `set_clock` (the fresh venue runs on a virtual clock), the venue's clock is
set, before each inbound message, to the time the recording's venue saw it, and stands
still while the venue handles it: TransactTime (60) is compared. A venue that recorded on
the wall clock stamped a little later than it saw the message (its time moved on while
it handled it); its TransactTime is taken as the same when the replay's is the time the
message was seen and the recorded one lies between that and when the recorded reply
went out. Without `set_clock`, 60 is not compared.

What is not compared, and why:
- SendingTime (52) and OrigSendingTime (122): quickfix stamps them from the machine's
  clock.
- BodyLength (9) and CheckSum (10): they follow from the rest.
- MsgSeqNum (34): the replay numbers its messages itself, and leaves out the traffic that
  only time causes. That is both sides' Heartbeats without a TestReqID, the venue's
  TestRequests, and the client's Heartbeats answering them.
Everything else must be the same, in the same order: OrderIDs, ExecIDs, prices,
quantities, states, reasons and texts.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from nyquestro.cert.connection import Closed, Connection, Dialer, Transcript
from nyquestro.cert.matching import named
from nyquestro.cert.session import ClientSession, ClientSpec, Outgoing
from nyquestro.codec.fix_wire import Field, Message

IGNORED = frozenset({9, 10, 34, 52, 122})
TRANSACT_TIME = 60
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
    ts: int
    """When the recording's venue saw it (ns since the epoch, in its time)."""


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


def utc_millis(ts: int) -> str:
    """`ts` as a FIX UTCTimestamp with milliseconds, as the venue writes TransactTime."""
    second, fraction = divmod(ts, 1_000_000_000)
    return f"{datetime.fromtimestamp(second, tz=UTC):%Y%m%d-%H:%M:%S}.{fraction // 1_000_000:03d}"


@dataclass(frozen=True)
class Window:
    """Times of one outbound message, as UTC timestamps with milliseconds."""

    set_to: str
    """The replay's venue clock: when the recording's venue saw the last inbound message."""
    sent: str
    """When the recording's venue sent its message."""

    def same(self, recorded: str, replayed: str) -> bool:
        """Whether two TransactTimes are the same (see the module doc): equal, or the
        replay's is the time it was set to and the recording's lies between that and when
        it went out."""
        return recorded == replayed or (
            replayed == self.set_to and self.set_to <= recorded <= self.sent
        )


def compare(
    recorded: list[Field], replayed: list[Field], window: Window | None = None
) -> str | None:
    """The first difference in words, or None: a value both sides have (in the
    recording's field order), then a field only one side has, then the fields' order.
    TransactTime (60) is compared only with a `window`."""
    ignored = IGNORED if window is not None else IGNORED | {TRANSACT_TIME}
    want = [(t, v) for t, v in recorded if t not in ignored]
    got = [(t, v) for t, v in replayed if t not in ignored]
    left = list(got)
    missing: list[Field] = []
    for tag, value in want:
        match = next((i for i, (t, _) in enumerate(left) if t == tag), None)
        if match is None:
            missing.append((tag, value))
            continue
        same = (
            window.same(value, left[match][1]) if window is not None and tag == TRANSACT_TIME
            else left[match][1] == value
        )  # fmt: skip
        if not same:
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
    def __init__(self, dialer: Dialer, set_clock: Callable[[int], None] | None = None) -> None:
        """`set_clock`: sets the venue's virtual clock (None: the venue runs on the wall
        clock, and TransactTime is not compared)."""
        self._dialer = dialer
        self._set_clock = set_clock
        self._clock = 0
        """The time the venue's clock was last set to."""
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
                    if self._set_clock is not None:
                        # Never back, should the recording's wall clock have stepped back.
                        self._clock = max(self._clock, record.ts)
                        self._set_clock(self._clock)
                    self._send(record.session, fields)
                    sent += 1
                    continue
                if not self._connected(record.session):
                    # Stored by the venue for a session that was not logged on (a drop copy
                    # nobody read, reports after a logout): never delivered, so not compared.
                    continue
                replayed = self._next(record.session)
                window = None
                if self._set_clock is not None:
                    window = Window(utc_millis(self._clock), utc_millis(record.ts))
                problem = (
                    "nothing came within the wait" if replayed is None
                    else compare(fields, list(replayed.pairs), window)
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
