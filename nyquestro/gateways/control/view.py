"""What the control plane knows of the venue from the committed stream.

Folded from every command's events, in the follower's lock (`on_events`); read by the
gRPC threads through the follower's `read`, so a query sees the state between two
commands. Kept: each instrument's trading state and last trade, each book's levels (the
visible totals the level events carry), the engaged kill switches, the events of the last
`history` commands (what `StreamEvents` resumes from), and which operator requests have
been carried out (what an action waits for). The orders and executions themselves are
the projections' (the store's tables), not held here.
"""

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from nyquestro.domain.commands import Command, Halt, KillSwitch, MassCancel, Resume
from nyquestro.domain.enums import Side
from nyquestro.domain.events import (
    EventBase,
    Halted,
    KillSwitchSet,
    LevelEvent,
    LevelRemoved,
    Resumed,
    Trade,
)
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


@dataclass(slots=True)
class InstrumentState:
    halted: bool = False
    halt_reason: str = ""
    last_trade_px: int | None = None


@dataclass(frozen=True, slots=True)
class Stats:
    last_seq: int
    commands_per_second: float
    events_per_second: float
    history_from_seq: int


Depth = Callable[[str, Side], Sequence[tuple[int, int, int]]]


class ReadFn(Protocol):
    """The follower's `read`: runs a query between two commands."""

    def __call__(self, query: Callable[[], _T]) -> _T: ...


class ControlView:
    def __init__(self, instruments: Iterable[Instrument], history: int) -> None:
        self.instruments = {str(i.symbol): i for i in instruments}
        self.states = {symbol: InstrumentState() for symbol in self.instruments}
        self.books: dict[str, dict[Side, dict[int, tuple[int, int]]]] = {
            symbol: {Side.BUY: {}, Side.SELL: {}} for symbol in self.instruments
        }
        self.kill_switches: dict[tuple[str, str], str] = {}
        """(scope, name) → reason: scope "venue" (name ""), "account" or "session"."""
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

    def seed(
        self,
        last_seq: int,
        depth: Depth,
        halted: Callable[[str], bool],
        last_trade_px: Callable[[str], int | None],
        kill_switches: dict[tuple[str, str], str],
    ) -> None:
        """Start from the engine as of the start snapshot (before the stream's history)."""
        self.last_seq = last_seq
        for symbol, state in self.states.items():
            state.halted = halted(symbol)
            state.last_trade_px = last_trade_px(symbol)
            for side, levels in self.books[symbol].items():
                levels.update((px, (qty, orders)) for px, qty, orders in depth(symbol, side))
        self.kill_switches = dict(kill_switches)

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
        if isinstance(event, LevelEvent):
            levels = self.books[str(event.symbol)][event.side]
            if isinstance(event, LevelRemoved):
                levels.pop(event.px, None)
            else:
                levels[event.px] = (event.qty, event.orders)
        elif isinstance(event, Trade):
            self.states[str(event.symbol)].last_trade_px = event.px
        elif isinstance(event, Halted):
            state = self.states[str(event.symbol)]
            state.halted, state.halt_reason = True, event.reason
        elif isinstance(event, Resumed):
            state = self.states[str(event.symbol)]
            state.halted, state.halt_reason = False, ""
        elif isinstance(event, KillSwitchSet):
            scope = (
                ("account", str(event.account))
                if event.account is not None
                else ("session", str(event.session))
                if event.session is not None
                else ("venue", "")
            )
            if event.engaged:
                self.kill_switches[scope] = event.reason
            else:
                self.kill_switches.pop(scope, None)

    def _forget_old_samples(self) -> None:
        now = time.monotonic()
        while self._rates and now - self._rates[0][0] > _RATE_SECONDS:
            self._rates.popleft()

    # --- reads (under the follower's lock) ------------------------------------------------

    def depth(self, symbol: str, side: Side, levels: int) -> list[tuple[int, int, int]]:
        """(px, qty, orders), best first; `levels` 0: all."""
        book = self.books[symbol][side]
        prices = sorted(book, reverse=side is Side.BUY)
        if levels:
            prices = prices[:levels]
        return [(px, *book[px]) for px in prices]

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


def _request_id(command: Command) -> int:
    if isinstance(command, Halt | Resume | KillSwitch | MassCancel):
        return command.request_id
    return 0
