"""`nyquestro replay`'s second check: the FIX messages a replay renders against those the
venue sent, as its audit trail recorded them.

A replay drives a `FixVenue` with the venue's sessions (from its config: FIX sessions,
drop copy, copied UDP sessions) through the same `on_events` a live venue runs, so it
renders every message a journaled command caused: ExecutionReports, OrderCancelRejects
and OrderMassCancelReports, with their drop copies. Those are compared, field by field,
with the outbound rows of the audit trail. Left out of the comparison: header fields
quickfix stamps (BeginString, BodyLength, CheckSum, MsgSeqNum, Sender/TargetCompID,
SendingTime, PossDup, PossResend, OrigSendingTime), messages quickfix re-sent (PossDup
43=Y), and replies between commands, which no command caused (see ADR 0003): OrderStatus
answers and gateway-level rejects (ExecIDs in the upper half of a command's slot), market
data, security lists, business rejects, refused mass-cancel requests.

How a recorded message is paired with a rendered one: ExecutionReports by session and
ExecID (seq x 10^6 + n, unique for the day), mass-cancel reports by session and OrderID
(MC<seq>); OrderCancelRejects carry neither, so by session and ClOrdID, in order,
preferring an exact match (a gateway-level reject with the same ClOrdID is then skipped).
The audit trail stores a message's SOH as "|", so a value containing "|" cannot be told
apart; the venue writes none. A crash loses the trail's unwritten rows (ADR 0006): after
one, a message can be reported as missing from the trail although it was sent.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NoReturn, TypeVar

from sqlalchemy import Engine as DbEngine

from nyquestro.config.venue import VenueConfig
from nyquestro.domain.commands import Command
from nyquestro.domain.events import EventBase
from nyquestro.gateways.fix.message import OutMessage, ToSession
from nyquestro.gateways.fix.venue import EXEC_SLOT, REPLY_OFFSET, FixVenue
from nyquestro.runtime.assembly import add_sessions
from nyquestro.store.audit import OUTBOUND, audit_rows

_T = TypeVar("_T")

COMPARED_TYPES = frozenset({"8", "9", "r"})
"""Message types a command causes (market-data incrementals depend on subscriptions)."""
STAMPED = frozenset({8, 9, 10, 34, 35, 43, 49, 52, 56, 97, 122})
"""Tags quickfix fills in as it sends (35 is compared on its own)."""
MSG_SEQ_NUM, POSS_DUP, EXEC_ID, CL_ORD_ID, ORDER_ID = 34, 43, 17, 11, 37


@dataclass(frozen=True, slots=True)
class Message:
    session: str
    msg_type: str
    fields: dict[int, str]
    command_seq: int | None
    """The command that caused it, where the message says (ExecID, MC<seq>)."""
    msg_seq_num: str | None = None
    """As sent (recorded messages only)."""

    @property
    def key(self) -> tuple[str, str, str] | None:
        """What pairs it with its counterpart; None for OrderCancelRejects."""
        if self.msg_type == "8":
            return self.session, "8", self.fields.get(EXEC_ID, "")
        if self.msg_type == "r":
            return self.session, "r", self.fields.get(ORDER_ID, "")
        return None


@dataclass(frozen=True, slots=True)
class Difference:
    replayed: Message | None
    live: Message | None
    tag: int | None
    """The first tag whose value differs; None when one side has no such message."""
    unknown_session: bool = False
    """The message went to a session the replay's venue config does not have."""

    def describe(self) -> str:
        shown = self.live or self.replayed
        assert shown is not None
        where = (
            f"session {shown.session}, MsgSeqNum {self.live.msg_seq_num if self.live else '-'}, "
            f"MsgType {shown.msg_type}, ExecID {shown.fields.get(EXEC_ID, '-')}, "
            f"ClOrdID {shown.fields.get(CL_ORD_ID, '-')}, command seq "
            f"{shown.command_seq if shown.command_seq is not None else '-'}"
        )
        if self.unknown_session:
            return (
                f"{where}: sent live to a session the venue config does not have "
                "(give replay the config the venue ran with: --config)"
            )
        if self.live is None:
            return f"{where}: rendered on replay, not in the audit trail"
        if self.replayed is None:
            return f"{where}: sent live, not rendered on replay"
        live, again = self.live.fields.get(self.tag or 0), self.replayed.fields.get(self.tag or 0)
        return f"{where}: tag {self.tag} live {live!r}, replayed {again!r}"


@dataclass(frozen=True, slots=True)
class MessageCheck:
    compared: int
    difference: Difference | None


class Rendering:
    """A FixVenue as the venue had it, whose messages are collected instead of sent.

    Only its `on_events` runs: a replay takes every command from the journal, so a
    request reaching `submit` would be a bug, and nothing else holds the state `read`
    guards.
    """

    def __init__(self, config: VenueConfig) -> None:
        self.messages: list[Message] = []
        self._seq = 0
        self.venue = FixVenue(
            config.instruments, submit=_no_requests, read=_direct, send=self._send,
            clock=lambda: 0,
        )  # fmt: skip
        self.sessions: set[str] = set(add_sessions(self.venue, config))

    def on_events(self, command: Command, events: Sequence[EventBase]) -> None:
        self._seq = command.seq
        self.venue.on_events(command, events)

    def _send(self, key: str, out: ToSession) -> None:
        if isinstance(out, OutMessage) and out.msg_type in COMPARED_TYPES:
            self.messages.append(Message(key, out.msg_type, dict(out.fields), self._seq))


def _no_requests(_build: object) -> NoReturn:
    raise RuntimeError("a replay takes its commands from the journal, never from a request")


def _direct(query: Callable[[], _T]) -> _T:
    return query()


def recorded_messages(db: DbEngine) -> Iterator[Message]:
    """The audit trail's outbound messages a command caused, in the order they were sent."""
    for row in audit_rows(db):
        if row["kind"] != OUTBOUND:
            continue
        message = parse_recorded(row["session"], row["payload"])
        if message is not None:
            yield message


def parse_recorded(session: str, text: str) -> Message | None:
    """One audit-trail message ("|" between fields), or None if no command caused it."""
    pairs = [part.partition("=") for part in text.split("|") if part]
    fields = {int(tag): value for tag, _, value in pairs if tag.isdigit()}
    msg_type = fields.get(35, "")
    if msg_type not in COMPARED_TYPES or fields.get(POSS_DUP) == "Y":
        return None
    command_seq = None
    if msg_type == "8":
        exec_id = fields.get(EXEC_ID, "")
        if not exec_id.isdigit() or int(exec_id) % EXEC_SLOT >= REPLY_OFFSET:
            return None  # a reply between commands (status, gateway-level reject)
        command_seq = int(exec_id) // EXEC_SLOT
    elif msg_type == "r":
        order_id = fields.get(ORDER_ID, "")
        if not (order_id.startswith("MC") and order_id[2:].isdigit()):
            return None  # a request refused before it became a command
        command_seq = int(order_id[2:])
    body = {tag: value for tag, value in fields.items() if tag not in STAMPED}
    return Message(session, msg_type, body, command_seq, fields.get(MSG_SEQ_NUM))


def compare(
    replayed: Iterable[Message], recorded: Iterable[Message], sessions: set[str]
) -> MessageCheck:
    """Pair every rendered message with its recorded one; the first difference, if any.
    `sessions`: the FIX sessions the rendering venue has."""
    by_key: dict[tuple[str, str, str], Message] = {}
    rejects: dict[tuple[str, str], list[Message]] = {}
    for message in recorded:
        if message.session not in sessions:
            return MessageCheck(0, Difference(None, message, None, unknown_session=True))
        key = message.key
        if key is not None:
            by_key[key] = message
        else:
            rejects.setdefault((message.session, message.fields.get(CL_ORD_ID, "")), []).append(
                message
            )
    compared = 0
    for message in replayed:
        key = message.key
        if key is not None:
            live = by_key.pop(key, None)
        else:
            live = _take_reject(rejects.get((message.session, message.fields.get(CL_ORD_ID, ""))),
                                message)  # fmt: skip
        if live is None:
            return MessageCheck(compared, Difference(message, None, None))
        tag = _first_difference(live.fields, message.fields)
        if tag is not None:
            return MessageCheck(compared, Difference(message, live, tag))
        compared += 1
    if by_key:  # command-caused messages (by ExecID or MC<seq>) the replay did not render
        return MessageCheck(compared, Difference(None, next(iter(by_key.values())), None))
    return MessageCheck(compared, None)


def _take_reject(candidates: list[Message] | None, rendered: Message) -> Message | None:
    if not candidates:
        return None
    for index, candidate in enumerate(candidates):
        if candidate.fields == rendered.fields:
            return candidates.pop(index)
    return candidates.pop(0)


def _first_difference(live: dict[int, str], replayed: dict[int, str]) -> int | None:
    for tag in sorted(live.keys() | replayed.keys()):
        if live.get(tag) != replayed.get(tag):
            return tag
    return None
