"""The sequencer: the one place every command goes through, in this order:

    stamp seq + ts  →  journal (issue: journal and recovery)  →  engine.process  →  publish

One lock serialises every command. Whoever holds it stamps the next sequence number,
runs the engine and hands the events to every subscriber before letting go, so the order
in which commands reached the engine is the order of their sequence numbers, and every
subscriber sees every command's events in that same total order. With quickfix's
single-threaded SocketAcceptor there is one callback thread, so the lock is uncontended;
it exists for the other writers (operator commands, further gateways).

Who may touch what: only code running under `submit` (the engine and the subscribers)
touches engine state, and subscribers only read the events they are given.
"""

import threading
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from nyquestro.domain.commands import Command
from nyquestro.domain.events import EventBase
from nyquestro.domain.ids import Seq, Ts
from nyquestro.engine import Engine

CommandFactory = Callable[[Seq, Ts], Command]
"""Builds the command once its sequence number and timestamp are known."""

Subscriber = Callable[[Command, Sequence[EventBase]], None]
_T = TypeVar("_T")


class Clock(Protocol):
    def __call__(self) -> int:
        """Nanoseconds since the Unix epoch."""
        ...


class Sequencer:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock
        self._lock = threading.Lock()
        self._subscribers: list[Subscriber] = []
        self._last_ts = 0

    def subscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers.append(subscriber)

    def submit(self, build: CommandFactory) -> Sequence[EventBase]:
        """Sequence, apply and publish one command; returns its events."""
        with self._lock:
            # Timestamps never run backwards, even if the wall clock does.
            ts = max(self._clock(), self._last_ts)
            self._last_ts = ts
            command = build(Seq(self._engine.last_seq + 1), Ts(ts))
            events = self._engine.process(command)
            for subscriber in self._subscribers:
                subscriber(command, events)
            return events

    def read(self, query: Callable[[], _T]) -> _T:
        """Run `query` under the lock: it sees subscriber state between two commands."""
        with self._lock:
            return query()
