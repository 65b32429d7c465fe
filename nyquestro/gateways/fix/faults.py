"""Session faults: the venue misbehaving on purpose, so a QA engineer sees how their FIX
engine copes. One named fault at a time, armed for one session; after it the venue
behaves normally again.

quickfix cannot be made to send most of these (it computes CheckSum and BodyLength, sends
its own Heartbeats, answers ResendRequests itself), so they are done below it: the fault
relay (`relay.py`) sits between the client's socket and quickfix and hands every message
of the session to a `Link` here. Sans-IO: messages in, bytes and instructions out. Two
faults move quickfix's own sequence numbers instead, through its session API (`Effect`).
"""

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from nyquestro.codec.fix_wire import Field, Message, encode
from nyquestro.config.faults import Fault

RECORDED = 2000
"""Outbound messages a session keeps for duplicates and resends (the newest)."""


DESCRIPTIONS: dict[Fault, str] = {
    Fault.SKIP_SEQUENCE: "the next message goes out `amount` MsgSeqNums ahead (default 5); a "
    "ResendRequest for the gap gets a gap fill",
    Fault.DUPLICATE: "the last `amount` messages sent (default 1) again, as PossDupFlag=Y "
    "with OrigSendingTime",
    Fault.GAP_FILL_RESEND: "the next ResendRequest is answered with one SequenceReset-GapFill "
    "over the whole range, even where messages could be resent",
    Fault.RESEND_EVERYTHING: "the next ResendRequest is answered by resending every message "
    "of the range, Heartbeats and other admin messages too, with no gap fill",
    Fault.RESET_SEQUENCE: "a Logon with ResetSeqNumFlag=Y and MsgSeqNum 1 mid-session; the "
    "client's Logon answer resets both sides to 2",
    Fault.CORRUPT_CHECKSUM: "the next message goes out with a wrong CheckSum (10)",
    Fault.CORRUPT_BODY_LENGTH: "the next message goes out with a BodyLength (9) 5 too long",
    Fault.SILENCE: "nothing goes out for `amount` seconds (default: 2 x HeartBtInt); what "
    "the venue sends meanwhile follows afterwards",
    Fault.LOGOUT_TOO_LOW: "a Logout whose MsgSeqNum is lower than the client expects",
    Fault.DISCONNECT: "the connection is closed at once, with no Logout",
    Fault.DELAY_LOGON: "the next Logon answer waits `amount` seconds (default 5)",
}
IMMEDIATE = frozenset({Fault.SKIP_SEQUENCE, Fault.DUPLICATE, Fault.RESET_SEQUENCE,
                       Fault.SILENCE, Fault.LOGOUT_TOO_LOW, Fault.DISCONNECT})  # fmt: skip
"""Faults done when armed: they need the session connected."""
DEFAULT_AMOUNT = {Fault.SKIP_SEQUENCE: 5.0, Fault.DUPLICATE: 1.0, Fault.DELAY_LOGON: 5.0}

POSS_DUP = 43
ORIG_SENDING_TIME = 122
SENDING_TIME = 52
GAP_FILL_FLAG = 123
NEW_SEQ_NO = 36
BEGIN_SEQ_NO = 7
RESET_SEQ_NUM_FLAG = 141
HEART_BT_INT = 108


class Effect(StrEnum):
    """What quickfix's session must do itself (its own numbering)."""

    SKIP = "skip"
    """Move its next outbound MsgSeqNum on by the amount."""
    RESET = "reset"
    """Both next MsgSeqNums to 2 (a reset Logon each way took 1)."""


@dataclass
class Action:
    """What the relay does with one message or one armed fault."""

    to_client: list[bytes] = field(default_factory=list)
    forward: bool = True
    """Pass the message on (outbound: to the client; inbound: to quickfix)."""
    message: bytes | None = None
    """The outbound message as it goes out (None: unchanged)."""
    hold: float = 0.0
    """Seconds the outbound side waits before it writes anything more."""
    close: bool = False
    effects: list[tuple[Effect, int]] = field(default_factory=list)


def _fields(msg: Message) -> list[Field]:
    """The message without 8, 9 and 10, for building it again."""
    return [(tag, value) for tag, value in msg.pairs[2:] if tag != 10]


def _replaced(fields: Sequence[Field], tag: int, value: str) -> list[Field]:
    return [(t, value if t == tag else v) for t, v in fields]


class SessionRecord:
    """One FIX session as the relay saw it, across its connections: what it sent, what
    is armed for it."""

    def __init__(self, begin_string: str) -> None:
        self.begin_string = begin_string
        self.sent: OrderedDict[int, Message] = OrderedDict()
        self.last_out = 0
        self.heartbeat = "30"
        self.armed: list[tuple[Fault, float]] = []

    def record(self, msg: Message) -> None:
        if msg.get(POSS_DUP) == "Y":
            return  # a resend: the original is recorded already
        if msg.type == "A" and msg.get(RESET_SEQ_NUM_FLAG) == "Y":
            # Numbering starts again at this Logon: what went before cannot be asked for.
            self.sent.clear()
            self.last_out = 0
        self.sent[msg.seq] = msg
        self.sent.move_to_end(msg.seq)
        while len(self.sent) > RECORDED:
            self.sent.popitem(last=False)
        self.last_out = max(self.last_out, msg.seq)

    def take(self, fault: Fault) -> float | None:
        """The amount if `fault` is armed (disarming it), else None."""
        for i, (armed, amount) in enumerate(self.armed):
            if armed is fault:
                del self.armed[i]
                return amount
        return None


class Link:
    """One connection of a session: its messages each way, and the faults done to them."""

    def __init__(self, record: SessionRecord) -> None:
        self.record = record
        self._replacing_resend = False
        """quickfix's own answer to a ResendRequest is being dropped (a fault answered)."""
        self._awaiting_reset = False

    def arm(self, fault: Fault, amount: float, now: str) -> Action:
        """An immediate fault, done now (`IMMEDIATE`); others wait for their message."""
        record = self.record
        if fault is Fault.SKIP_SEQUENCE:
            return Action(effects=[(Effect.SKIP, int(amount))])
        if fault is Fault.DUPLICATE:
            recent = list(record.sent.values())[-int(amount) :] if amount >= 1 else []
            return Action(to_client=[self._poss_dup(msg, now) for msg in recent])
        if fault is Fault.SILENCE:
            return Action(hold=amount or 2 * float(record.heartbeat))
        if fault is Fault.DISCONNECT:
            return Action(close=True)
        if fault is Fault.LOGOUT_TOO_LOW:
            text = "logout with a MsgSeqNum too low (a fault the venue was asked to make)"
            logout = [*self._header("5", max(1, record.last_out - 1), now), (58, text)]
            return Action(to_client=[encode(record.begin_string, logout)])
        if fault is Fault.RESET_SEQUENCE:
            self._awaiting_reset = True
            logon = [*self._header("A", 1, now), (98, "0"), (HEART_BT_INT, record.heartbeat),
                     (RESET_SEQ_NUM_FLAG, "Y")]  # fmt: skip
            record.last_out = 1
            record.sent.clear()
            return Action(to_client=[encode(record.begin_string, logon)])
        record.armed.append((fault, amount))
        return Action()

    def outbound(self, msg: Message, now: str) -> Action:
        """A message quickfix sends the client."""
        record = self.record
        if self._replacing_resend:
            if msg.get(POSS_DUP) == "Y":
                return Action(forward=False)
            self._replacing_resend = False
        record.record(msg)
        action = Action()
        if msg.type == "A":
            record.heartbeat = msg.get(HEART_BT_INT) or record.heartbeat
            delay = record.take(Fault.DELAY_LOGON)
            if delay is not None:
                action.hold = delay
        if record.take(Fault.CORRUPT_CHECKSUM) is not None:
            right = int(msg.raw[-4:-1])
            action.message = msg.raw[:-4] + f"{(right + 1) % 256:03d}".encode() + b"\x01"
        elif record.take(Fault.CORRUPT_BODY_LENGTH) is not None:
            length = int(msg.pairs[1][1])
            action.message = encode(record.begin_string, _fields(msg), body_length=length + 5)
        return action

    def inbound(self, msg: Message, now: str) -> Action:
        """A message the client sends quickfix."""
        record = self.record
        if msg.type == "A" and self._awaiting_reset and msg.get(RESET_SEQ_NUM_FLAG) == "Y":
            # The answer to the fault's reset Logon: quickfix never sent that Logon, so
            # it must not see the answer; its numbers move to where the client's are.
            self._awaiting_reset = False
            return Action(forward=False, effects=[(Effect.RESET, 2)])
        if msg.type != "2":
            return Action()
        begin = int(msg.get(BEGIN_SEQ_NO) or "1")
        if record.take(Fault.GAP_FILL_RESEND) is not None:
            self._replacing_resend = True
            gap = [*self._header("4", begin, now, poss_dup=True), (GAP_FILL_FLAG, "Y"),
                   (NEW_SEQ_NO, str(record.last_out + 1))]  # fmt: skip
            return Action(to_client=[encode(record.begin_string, gap)])
        if record.take(Fault.RESEND_EVERYTHING) is not None:
            self._replacing_resend = True
            again = [self._poss_dup(m, now) for seq, m in record.sent.items() if seq >= begin]
            return Action(to_client=again)
        return Action()

    def _header(self, msg_type: str, seq: int, now: str, poss_dup: bool = False) -> list[Field]:
        """A header as quickfix writes this session's: its CompIDs from what it sent."""
        sample = next(reversed(self.record.sent.values()), None)
        sender = sample.get(49) if sample else ""
        target = sample.get(56) if sample else ""
        header: list[Field] = [(35, msg_type), (49, sender or ""), (56, target or ""),
                               (34, str(seq)), (SENDING_TIME, now)]  # fmt: skip
        if poss_dup:
            header += [(POSS_DUP, "Y"), (ORIG_SENDING_TIME, now)]
        return header

    def _poss_dup(self, msg: Message, now: str) -> bytes:
        """`msg` sent again: PossDupFlag=Y, its SendingTime as OrigSendingTime, a new
        SendingTime, and the CheckSum and BodyLength of the result."""
        fields: list[Field] = []
        for tag, value in _fields(msg):
            if tag in (POSS_DUP, ORIG_SENDING_TIME):
                continue
            if tag == SENDING_TIME:
                fields += [(SENDING_TIME, now), (POSS_DUP, "Y"), (ORIG_SENDING_TIME, value)]
            else:
                fields.append((tag, value))
        return encode(self.record.begin_string, fields)
