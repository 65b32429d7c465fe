"""What the control plane keeps of the committed stream, beside its copy of the engine.

Folded from every command's events, in the follower's lock (`on_events`); read by the
gRPC threads through the follower's `read`, so a query sees the state between two
commands. Kept: the events of the last `history` commands (what `StreamEvents` resumes
from), which operator requests have been carried out (what an action waits for), why
each halted instrument is halted (the engine keeps no reason), and the rates of commands
and events. The books, positions and settings are the engine's; the orders and
executions are the projections' (the store's tables).
"""

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from nyquestro.domain.commands import (
    BustTrade,
    Command,
    Configure,
    ControlSession,
    CorrectTrade,
    Halt,
    KillSwitch,
    MassCancel,
    Resume,
    SetPhase,
)
from nyquestro.domain.events import EventBase, Halted, LevelEvent, Resumed
from nyquestro.domain.instrument import Instrument

_T = TypeVar("_T")
_RATE_SECONDS = 5.0
"""The window commands/s and events/s are averaged over."""


@dataclass(frozen=True, slots=True)
class Committed:
    """One committed command's events, as the stream brought them."""

    seq: int
    ts: int
    events: Sequence[EventBase]


@dataclass(frozen=True, slots=True)
class Stats:
    last_seq: int
    commands_per_second: float
    events_per_second: float
    history_from_seq: int


class ReadFn(Protocol):
    """The follower's `read`: runs a query between two commands."""

    def __call__(self, query: Callable[[], _T]) -> _T: ...


class ControlView:
    def __init__(self, instruments: Iterable[Instrument], history: int) -> None:
        self.instruments = {str(i.symbol): i for i in instruments}
        self.halt_reasons: dict[str, str] = {}
        """Why a symbol halted, from its Halted event (since this process started)."""
        self.last_seq = 0
        self._history: deque[Committed] = deque(maxlen=history)
        self._carried_out: dict[int, Committed] = {}
        """Operator request id → the command that carried it out (since this process
        started; a request older than that is answered from the store)."""
        self._rates: deque[tuple[float, int, int]] = deque()
        """Per command within the last `_RATE_SECONDS`: (when it came, the last seq and
        the events counted before it)."""
        self._events_seen = 0
        self.generation = 0
        """Counts the commands folded; changes under `_changed`, which is notified then."""
        self._changed = threading.Condition()

    def start_at(self, last_seq: int) -> None:
        """The stream follows command `last_seq` (the start snapshot's)."""
        self.last_seq = last_seq

    def on_events(self, command: Command, events: Sequence[EventBase]) -> None:
        committed = Committed(command.seq, command.ts, events)
        self._rates.append((time.monotonic(), self.last_seq, self._events_seen))
        self._forget_old_samples()
        self.last_seq = command.seq
        self._history.append(committed)
        self._events_seen += len(events)
        for event in events:
            self._fold(event)
        request_id = _request_id(command)
        if request_id:
            self._carried_out[request_id] = committed
        with self._changed:
            self.generation += 1
            self._changed.notify_all()

    def _fold(self, event: EventBase) -> None:
        if isinstance(event, Halted):
            self.halt_reasons[str(event.symbol)] = event.reason
        elif isinstance(event, Resumed):
            self.halt_reasons.pop(str(event.symbol), None)

    def _forget_old_samples(self) -> None:
        now = time.monotonic()
        while self._rates and now - self._rates[0][0] > _RATE_SECONDS:
            self._rates.popleft()

    # --- reads (under the follower's lock) ------------------------------------------------

    def history_after(self, seq: int, limit: int) -> list[Committed] | None:
        """Up to `limit` commands after `seq`, oldest first; None if the history no longer
        reaches back to the one after `seq`."""
        if not self._history:
            return [] if seq >= self.last_seq else None
        first = self._history[0].seq
        if seq + 1 < first:
            return None
        start = seq + 1 - first
        return [self._history[i] for i in range(start, min(start + limit, len(self._history)))]

    def next_batch(self, after: int, limit: int) -> tuple[list[Committed] | None, int, int]:
        """`history_after`, with the generation and the last seq it was read at."""
        return self.history_after(after, limit), self.generation, self.last_seq

    @property
    def history_from_seq(self) -> int:
        """The oldest command `history_after` can resume after (one before the oldest held)."""
        return self._history[0].seq - 1 if self._history else self.last_seq

    def order_events(self, order_id: int) -> list[tuple[Committed, EventBase]]:
        """The order's own events here (its book's level events name it too: not those)."""
        return [
            (committed, event)
            for committed in self._history
            for event in committed.events
            if getattr(event, "order_id", None) == order_id and not isinstance(event, LevelEvent)
        ]

    def carried_out(self, request_id: int) -> Committed | None:
        return self._carried_out.get(request_id)

    # --- waiting (never under the follower's lock, which `on_events` holds) -------------

    def wait_past(self, generation: int, timeout: float) -> None:
        """Wait until a command after the one `generation` was read at has been folded, or
        `timeout` seconds."""
        with self._changed:
            self._changed.wait_for(lambda: self.generation != generation, timeout)

    def wait_carried_out(self, read: ReadFn, request_id: int, timeout: float) -> Committed | None:
        """The command that carried out operator request `request_id`, once it has come
        (None after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            found, generation = read(lambda: (self.carried_out(request_id), self.generation))
            if found is not None:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.wait_past(generation, left)

    def stats(self) -> Stats:
        """Rates over the last `_RATE_SECONDS`."""
        self._forget_old_samples()
        commands = events = 0.0
        if self._rates:
            _, seq0, events0 = self._rates[0]
            commands = (self.last_seq - seq0) / _RATE_SECONDS
            events = (self._events_seen - events0) / _RATE_SECONDS
        return Stats(self.last_seq, commands, events, self.history_from_seq)


_ACTIONS = (Halt, Resume, KillSwitch, MassCancel, Configure, ControlSession, BustTrade,
            CorrectTrade, SetPhase)  # fmt: skip
"""The commands that carry out an operator's request, naming it (`request_id`)."""


def _request_id(command: Command) -> int:
    if isinstance(command, _ACTIONS):
        return command.request_id
    return 0
