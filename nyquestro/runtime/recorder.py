"""The recorder: feeds the audit trail and the orders/executions/sessions projections.

In the venue it is the FIX acceptor's `Tap` (every message in and out, every logon and
logout): recording only appends to in-memory buffers, which the committer thread writes
(`write_pending`) between journal batches. In the replica (`nyquestro.runtime.replica`)
it is a sequencer subscriber (every command's decision and its events folded into the
orders and executions projections), off the order path.

The replica replays journaled commands it has seen before (after a restart, from its
snapshot on): decisions already in the audit trail (up to `audited_upto`) are not
recorded twice, and the projections' writes are idempotent upserts.
"""

import re
import time
from collections.abc import Callable, Iterable, Sequence

from nyquestro.domain.commands import Command
from nyquestro.domain.events import EventBase
from nyquestro.domain.ids import SessionKey
from nyquestro.gateways.fix.acceptor import SessionSeqNums
from nyquestro.store.audit import AuditTrail
from nyquestro.store.projection import Projection, SessionActivity

_LOGON = "\x0135=A\x01"
_HEARTBEAT = re.compile("\x01108=([0-9]{1,9})\x01")
WRITE_INTERVAL_S = 0.25
SESSIONS_REFRESH_SECONDS = 1.0
"""How often the FIX gateway's owner passes every session's state to `refresh_sessions`."""
WRITE_EVERY_COMMANDS = 64


class Recorder:
    def __init__(
        self,
        audit: AuditTrail,
        projection: Projection,
        last_seq: Callable[[], int],
        clock: Callable[[], int],
    ) -> None:
        self._audit = audit
        self._projection = projection
        self._last_seq = last_seq
        self._clock = clock
        self.audited_upto = audit.last_decision_seq()
        """Decisions up to this command are already in the audit trail."""
        self._written_at = 0.0
        self._unwritten = 0
        self._last_in: dict[SessionKey, int] = {}
        self._last_out: dict[SessionKey, int] = {}
        self._heartbeat: dict[SessionKey, int] = {}
        self._seen: dict[SessionKey, tuple[SessionSeqNums, bool, SessionActivity]] = {}
        """What each session's row says (a refresh writes only what changed)."""
        self.throttle_usage: Callable[[SessionKey], tuple[int | None, int | None]] = _unknown
        """A session's throttle refusals and queued messages (set by whoever runs the FIX
        gateway; read without its lock, so from any thread)."""

    # --- the acceptor's Tap ------------------------------------------------------------

    def inbound(self, key: SessionKey, text: str) -> None:
        now = self._clock()
        self._audit.inbound(self._last_seq(), now, key, text)
        self._last_in[key] = now
        if _LOGON in text:
            found = _HEARTBEAT.search(text)
            if found is not None:
                self._heartbeat[key] = int(found.group(1))

    def outbound(self, key: SessionKey, text: str) -> None:
        now = self._clock()
        self._audit.outbound(self._last_seq(), now, key, text)
        self._last_out[key] = now

    def session_state(self, key: SessionKey, state: SessionSeqNums, logged_on: bool) -> None:
        """At a logon or logout (quickfix's callback: nothing here waits for a lock)."""
        refusals, queued = self.throttle_usage(key)
        activity = SessionActivity(
            heartbeat_interval=self._heartbeat.get(key),
            last_inbound_ts=self._last_in.get(key),
            last_outbound_ts=self._last_out.get(key),
            throttle_refusals=refusals,
            queued_messages=queued,
        )
        seen = (state, logged_on, activity)
        if self._seen.get(key) == seen:
            return
        self._seen[key] = seen
        self._projection.session_state(
            session_key=key,
            begin_string=state.begin_string,
            sender_comp_id=state.sender_comp_id,
            target_comp_id=state.target_comp_id,
            next_sender_seq=state.next_sender_seq,
            next_target_seq=state.next_target_seq,
            state="logged_on" if logged_on else "logged_out",
            ts=self._clock(),
            activity=activity,
        )

    def refresh_sessions(self, states: Iterable[tuple[SessionKey, SessionSeqNums, bool]]) -> None:
        """Every second or so: the sessions whose numbers or activity changed since."""
        for key, state, logged_on in states:
            self.session_state(key, state, logged_on)

    # --- the sequencer subscriber ------------------------------------------------------

    def on_events(self, command: Command, events: Sequence[EventBase]) -> None:
        if command.seq > self.audited_upto:
            self._audit.decision(command, events)
        self._projection.apply(events)
        self._unwritten += 1

    # --- the committer thread ----------------------------------------------------------

    def write_pending(self, *, now: bool = True) -> None:
        """Write what was recorded; `now=False` writes only once `WRITE_EVERY_COMMANDS`
        commands or `WRITE_INTERVAL_S` have passed since the last write.

        Each write carries several commands' rows (a statement costs ~100 µs of Python
        whatever its size) but not too many: in the venue, writing holds the GIL the
        sequencer needs, so a big batch is a pause clients see. Projections first:
        audited implies projected (the replica resumes from the last audited decision).
        """
        clock = time.monotonic()
        due = self._unwritten >= WRITE_EVERY_COMMANDS
        if not (now or due) and clock - self._written_at < WRITE_INTERVAL_S:
            return
        self._written_at = clock
        self._unwritten = 0
        self._projection.write_pending()
        self._audit.write_pending()


def _unknown(_key: SessionKey) -> tuple[int | None, int | None]:
    """No FIX gateway here tells its throttles' figures."""
    return None, None
