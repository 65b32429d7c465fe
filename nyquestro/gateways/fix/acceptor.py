"""The quickfix adapter: the only module of the FIX gateway that touches quickfix.

It runs quickfix's single-threaded `SocketAcceptor` (one callback thread for every
session: the binding takes the GIL on each callback, and a threaded acceptor collapses
with several sessions — see shared/notes/quickfix-python-performance.md), turns callbacks
into `FixVenue` calls, and turns `OutMessage`s into `quickfix.Message`s. Messages are
built with `setField(tag, str)`: typed field objects cost ~14 µs more per message.

quickfix makes every callback while it holds the session's mutex. A callback here never
waits for the venue: it copies what it needs out of the message and `post`s the work to
the single writer (which takes the sequencer's lock), so a thread that holds that lock
and waits for a session mutex can never be waited for in return (ADR 0008).
"""

import logging
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Protocol

import quickfix as fix
import quickfix42 as fix42
import quickfix44 as fix44

from nyquestro.domain.enums import SessionAction
from nyquestro.domain.ids import SessionKey
from nyquestro.gateways.fix.inbound import FieldSource
from nyquestro.gateways.fix.message import OutMessage, SessionOrder, ToSession
from nyquestro.gateways.fix.peers import LogonGate
from nyquestro.gateways.fix.stages import ANSWERS, TIMED, StageClock
from nyquestro.gateways.fix.throttle import HeldFields
from nyquestro.gateways.fix.trading_status import UNSOLICITED_INDICATOR
from nyquestro.gateways.fix.venue import GROUP_COUNT_TAGS

Post = Callable[[Callable[[], None]], None]
"""Hands a piece of work to the single writer and returns at once."""

log = logging.getLogger(__name__)

MSG_TYPE = 35
STATUS_TYPES = frozenset({"f", "h"})
"""SecurityStatus and TradingSessionStatus: unsolicited ones go to logged-on sessions only."""

# Typed group classes carry the dictionary's field order for each group; a generic
# fix.Group would sort members by tag number, which strict initiators reject.
_GROUP_CLASSES = {
    ("FIX.4.2", "W", 268): fix42.MarketDataSnapshotFullRefresh.NoMDEntries,
    ("FIX.4.2", "X", 268): fix42.MarketDataIncrementalRefresh.NoMDEntries,
    ("FIX.4.4", "W", 268): fix44.MarketDataSnapshotFullRefresh.NoMDEntries,
    ("FIX.4.4", "X", 268): fix44.MarketDataIncrementalRefresh.NoMDEntries,
    ("FIX.4.4", "y", 146): fix44.SecurityList.NoRelatedSym,
}


def session_key(session_id: fix.SessionID) -> SessionKey:
    return SessionKey(session_id.toString())


def session_key_of(begin_string: str, sender_comp_id: str, target_comp_id: str) -> SessionKey:
    """The key quickfix's SessionID.toString() gives the same session."""
    return SessionKey(f"{begin_string}:{sender_comp_id}->{target_comp_id}")


class QuickfixFields:
    """`FieldSource` over a received quickfix.Message.

    The message is read once, as its wire string, into a dict: one call into the binding
    instead of two per tag (isSetField + getField cost ~1.3 µs a pair). Repeating groups,
    whose tags repeat, are read through quickfix's group API.
    """

    __slots__ = ("_fields", "_message", "_wire")

    def __init__(self, message: fix.Message, wire: str) -> None:
        self._message = message
        self._wire = wire
        self._fields: dict[int, str] | None = None

    def get(self, tag: int) -> str | None:
        fields = self._fields
        if fields is None:
            fields = self._fields = _parse_fields(self._wire)
        return fields.get(tag)

    def groups(self, count_tag: int, delimiter: int, tags: Sequence[int]) -> list[dict[int, str]]:
        count = self.get(count_tag)
        if count is None or not count.isdigit():
            return []
        entries = []
        group = fix.Group(count_tag, delimiter)
        for index in range(1, int(count) + 1):
            self._message.getGroup(index, group)
            entries.append({t: group.getField(t) for t in tags if group.isSetField(t)})
        return entries

    def detach(self, count_tags: Collection[int] | None = None) -> HeldFields:
        """Every field and the entries of every repeating group (of those `count_tags`,
        when given), copied out of the message.

        Entries are read through quickfix, which knows from the dictionary where each
        group ends; every tag of an entry also occurs in the message, so asking for each
        of the message's tags finds them all.
        """
        fields = dict(self._fields if self._fields is not None else _parse_fields(self._wire))
        groups: dict[int, tuple[dict[int, str], ...]] = {}
        for count_tag, count in fields.items():
            if count_tags is not None and count_tag not in count_tags:
                continue
            if count.isdigit() and self._message.groupCount(count_tag):
                # (quickfix finds a group by its count tag; reading needs no delimiter)
                groups[count_tag] = tuple(self.groups(count_tag, 0, list(fields)))
        return HeldFields(fields, groups)


def _parse_fields(wire: str) -> dict[int, str]:
    """Tag → value of a message quickfix has already parsed and validated.

    The first occurrence of a tag wins; only repeating groups repeat tags, and those are
    read through quickfix's group API.
    """
    fields: dict[int, str] = {}
    for item in wire.split("\x01"):
        key, _, value = item.partition("=")
        try:
            tag = int(key)
        except ValueError:  # the empty tail after the last SOH
            continue
        if tag not in fields:
            fields[tag] = value
    return fields


def to_quickfix(out: OutMessage, begin_string: str) -> fix.Message:
    message = fix.Message()
    if not out.groups:
        # One parse in C++ instead of a binding call per field; quickfix fills in the
        # header, BodyLength and CheckSum when it sends.
        body = "".join(f"{tag}={value}\x01" for tag, value in out.fields)
        message.setString(f"35={out.msg_type}\x01{body}", False)
        return message
    message.getHeader().setField(MSG_TYPE, out.msg_type)
    for tag, value in out.fields:
        message.setField(tag, value)
    for group in out.groups:
        if not group.entries:
            message.setField(group.count_tag, "0")  # a required group may be empty
            continue
        cls = _GROUP_CLASSES.get((begin_string, out.msg_type, group.count_tag))
        for entry in group.entries:
            holder = cls() if cls is not None else fix.Group(group.count_tag, group.delimiter_tag)
            for tag, value in entry:
                holder.setField(tag, value)
            message.addGroup(holder)
    return message


@dataclass(frozen=True, slots=True)
class SessionSeqNums:
    begin_string: str
    sender_comp_id: str
    target_comp_id: str
    next_sender_seq: int
    next_target_seq: int


CL_ORD_ID = 11
_OFF_POLL_SECONDS = 0.05
_OFF_WITHIN_SECONDS = 30.0
"""An operator's logout or reset goes on once the session is off, or after this long anyway."""


def _when_off(session_id: fix.SessionID, then: Callable[[fix.Session], None]) -> None:
    """Waits (on a thread of its own) until the session is off, then calls `then` with it."""
    deadline = time.monotonic() + _OFF_WITHIN_SECONDS
    while time.monotonic() < deadline:
        session = fix.Session.lookupSession(session_id)
        if session is None:
            return
        if not session.isLoggedOn():
            break
        time.sleep(_OFF_POLL_SECONDS)
    session = fix.Session.lookupSession(session_id)
    if session is not None:
        then(session)


def _enable(session: fix.Session) -> None:
    session.logon()  # quickfix's name for enabling an acceptor's session again


def _seq_nums(session_id: fix.SessionID, session: fix.Session) -> SessionSeqNums:
    return SessionSeqNums(
        begin_string=session_id.getBeginString().getString(),
        sender_comp_id=session_id.getSenderCompID().getString(),
        target_comp_id=session_id.getTargetCompID().getString(),
        next_sender_seq=session.getExpectedSenderNum(),
        next_target_seq=session.getExpectedTargetNum(),
    )


class Tap(Protocol):
    """Sees every message in and out, and every session's logon and logout (audit trail)."""

    def inbound(self, key: SessionKey, text: str) -> None: ...
    def outbound(self, key: SessionKey, text: str) -> None: ...
    def session_state(self, key: SessionKey, state: SessionSeqNums, logged_on: bool) -> None: ...


class Venue(Protocol):
    """What the adapter calls: `FixVenue`, or a gateway process's wrapper of it."""

    def handles(self, key: SessionKey, msg_type: str) -> bool: ...
    def receive(self, key: SessionKey, msg_type: str, msg: FieldSource) -> None: ...
    def on_logout(self, key: SessionKey) -> None: ...


class QuickfixNumbering:
    """quickfix's sequence numbers of a session, as the fault relay moves them
    (`relay.SessionHooks`): the session API takes quickfix's own locks briefly."""

    def __init__(self, sessions: Callable[[], list[fix.SessionID]]) -> None:
        self._sessions = sessions

    def skip(self, key: str, count: int) -> None:
        session = self._session(key)
        session.setNextSenderMsgSeqNum(session.getExpectedSenderNum() + count)

    def reset(self, key: str, next_seq: int) -> None:
        session = self._session(key)
        session.setNextSenderMsgSeqNum(next_seq)
        session.setNextTargetMsgSeqNum(next_seq)

    def _session(self, key: str) -> fix.Session:
        for session_id in self._sessions():
            if session_key(session_id) == key:
                session = fix.Session.lookupSession(session_id)
                if session is not None:
                    return session
        raise KeyError(f"no quickfix session {key}")


class Application(fix.Application):  # type: ignore[misc]
    """quickfix callbacks → FixVenue. Accepts every configured session's Logon until closed."""

    def __init__(
        self,
        venue: Venue,
        post: Post,
        tap: Tap | None = None,
        gate: LogonGate | None = None,
        stages: StageClock | None = None,
    ) -> None:
        """`stages`: marks when each request arrived and was answered (None: not timed)."""
        super().__init__()
        self._venue = venue
        self._post = post
        self._tap = tap
        self._gate = gate
        """Refuses Logons from peers outside [fix] allow; None: every peer may log on."""
        self._ids: dict[SessionKey, fix.SessionID] = {}
        self._begin: dict[SessionKey, str] = {}
        self._closed = False
        self._stages = stages

    def close(self) -> None:
        """Refuse every Logon from now on (shutdown), and log how Logons were decided."""
        self._closed = True
        if self._gate is not None:
            self._gate.log_counters()

    def log_everyone_out(self, logged_on: Callable[[], bool], grace: float) -> None:
        """A stop: refuse new Logons, send every session a Logout and wait up to `grace`
        seconds while `logged_on()` (the acceptor's) says some are still on."""
        self.close()
        for session_id in self.session_ids():
            session = fix.Session.lookupSession(session_id)
            if session is not None and session.isLoggedOn():
                session.logout("venue shutting down")
        deadline = time.monotonic() + grace
        while logged_on() and time.monotonic() < deadline:
            time.sleep(0.05)

    def session_ids(self) -> list[fix.SessionID]:
        return list(self._ids.values())

    def send(self, key: SessionKey, out: ToSession) -> None:
        session_id = self._ids.get(key)
        if session_id is None:
            log.warning("no FIX session %s; dropped %s", key, out)
            return
        if isinstance(out, SessionOrder):
            self._order_session(session_id, out)
            return
        if out.msg_type in STATUS_TYPES and out.get(UNSOLICITED_INDICATOR) == "Y":
            # Phase and halt news is for sessions logged on now. quickfix would store it
            # for one that is not and resend it, stale, when it comes back (it can ask
            # with e / g then). Asked here, where sendToTarget is called anyway, holding
            # no Python lock: no lock order is added.
            session = fix.Session.lookupSession(session_id)
            if session is None or not session.isLoggedOn():
                return
        fix.Session.sendToTarget(to_quickfix(out, self._begin[key]), session_id)
        if self._stages is not None and out.msg_type in ANSWERS:
            self._stages.answered(key, out.get(CL_ORD_ID) or "")

    def _order_session(self, session_id: fix.SessionID, order: SessionOrder) -> None:
        session = fix.Session.lookupSession(session_id)
        if session is None:
            return
        reset = order.action is SessionAction.RESET
        if not session.isLoggedOn():
            if reset:
                self._reset(session_id, session)
            return
        # quickfix's logout disables the session (its timer then sends the Logout and waits
        # for the answer). Only once it is off are the numbers reset, and only then is it
        # enabled again: a client that comes straight back is turned away until its numbers
        # are 1, never answered with the old ones. quickfix's reset() on a live session
        # closes the connection before it rewrites the store, and a fast client's Logon fell
        # into that gap ("MsgSeqNum too low").
        default = "sequence numbers reset" if reset else "logged out"
        session.logout(order.reason or f"{default} by the venue's operator")
        log.warning("%s: %s by an operator: %s", session_id.toString(), default, order.reason)
        then = (lambda off: self._reset(session_id, off)) if reset else _enable
        threading.Thread(target=_when_off, args=(session_id, then), daemon=True,
                         name="fix-operator").start()  # fmt: skip

    def _reset(self, session_id: fix.SessionID, session: fix.Session) -> None:
        """Both sequence numbers back to 1 on a session that is off; then it may log on."""
        # quickfix's reset: stores a Logout nobody receives, then empties the store.
        session.reset()
        _enable(session)
        log.warning("%s: sequence numbers reset by an operator", session_id.toString())
        self._tell_session_state(session_id, logged_on=False)

    def onCreate(self, sessionID: fix.SessionID) -> None:  # noqa: N802, N803 (quickfix API)
        key = session_key(sessionID)
        self._ids[key] = sessionID
        self._begin[key] = sessionID.getBeginString().getString()

    def onLogon(self, sessionID: fix.SessionID) -> None:  # noqa: N802, N803
        log.info("logon %s", sessionID.toString())
        self._tell_session_state(sessionID, logged_on=True)

    def onLogout(self, sessionID: fix.SessionID) -> None:  # noqa: N802, N803
        log.info("logout %s", sessionID.toString())
        self._tell_session_state(sessionID, logged_on=False)
        self._post(partial(self._venue.on_logout, session_key(sessionID)))

    def _tell_session_state(self, session_id: fix.SessionID, logged_on: bool) -> None:
        session = fix.Session.lookupSession(session_id)
        if self._tap is None or session is None:
            return
        self._tap.session_state(session_key(session_id), _seq_nums(session_id, session), logged_on)

    def session_states(self) -> list[tuple[SessionKey, SessionSeqNums, bool]]:
        """Every session's numbers and whether it is logged on, now. From a thread of the
        caller's that holds no lock: each lookup takes that session's quickfix mutex."""
        states = []
        for key, session_id in list(self._ids.items()):
            session = fix.Session.lookupSession(session_id)
            if session is not None:
                states.append((key, _seq_nums(session_id, session), session.isLoggedOn()))
        return states

    def toAdmin(self, message: fix.Message, sessionID: fix.SessionID) -> None:  # noqa: N802, N803
        if self._tap is not None:
            self._tap.outbound(session_key(sessionID), message.toString())

    def fromAdmin(self, message: fix.Message, sessionID: fix.SessionID) -> None:  # noqa: N802, N803
        if self._tap is not None:
            self._tap.inbound(session_key(sessionID), message.toString())
        if message.getHeader().getField(MSG_TYPE) == "A":
            if self._closed:
                raise fix.RejectLogon("venue shutting down")
            self._check_peer(sessionID)

    def _check_peer(self, session_id: fix.SessionID) -> None:
        """Refuse the Logon (quickfix answers with a Logout carrying the text, which the tap
        records) when its peer is not in [fix] allow. A Logon on a session already logged
        on comes over the connection that was checked at its first Logon."""
        if self._gate is None:
            return
        session = fix.Session.lookupSession(session_id)
        if session is not None and session.isLoggedOn():
            return
        refusal = self._gate.refusal(session_key(session_id))
        if refusal is not None:
            raise fix.RejectLogon(refusal)

    def toApp(self, message: fix.Message, sessionID: fix.SessionID) -> None:  # noqa: N802, N803
        if self._tap is not None:
            self._tap.outbound(session_key(sessionID), message.toString())

    def fromApp(self, message: fix.Message, sessionID: fix.SessionID) -> None:  # noqa: N802, N803
        key = session_key(sessionID)
        wire = message.toString()
        if self._tap is not None:
            self._tap.inbound(key, wire)
        msg_type = message.getHeader().getField(MSG_TYPE)
        if not self._venue.handles(key, msg_type):
            # Decided from the session's configuration alone, so it can be answered here:
            # quickfix replies with a BusinessMessageReject (unsupported message type).
            raise fix.UnsupportedMessageType()
        fields = QuickfixFields(message, wire).detach(GROUP_COUNT_TAGS)
        if self._stages is not None and msg_type in TIMED:
            self._stages.arrived(key, fields.get(CL_ORD_ID) or "", msg_type)
        self._post(partial(self._venue.receive, key, msg_type, fields))
