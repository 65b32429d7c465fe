"""Behaviour rules' delays (`[[fix.rules]]`): a session's acks or fills held for the
time its rule draws, and everything after them for that session held behind them, so
what the client receives keeps its order. Other sessions are not held.

The draws are seeded (config/rules.py), so the n-th delayed ack of a rule waits the same
time in every run. Delays change when reports leave, never what they say: the engine and
the journal are untouched, and a replay decides the same.

One thread sends what comes due. It takes the lock only to look at the queues, never
while it calls into quickfix.
"""

import heapq
import itertools
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable

from nyquestro.config.rules import Delay, Rule
from nyquestro.gateways.fix.message import OutMessage, ToSession

EXEC_TYPE, CL_ORD_ID = 150, 11
FILLS = frozenset({"F", "1", "2"})
Deliver = Callable[[str, ToSession], None]


class Draws:
    """One rule's delays of one kind, in order."""

    def __init__(self, delay: Delay, seed: str) -> None:
        self._delay = delay
        self._random = random.Random(seed)
        self._count = 0

    def next(self) -> float:
        delay = self._delay
        self._count += 1
        if delay.distribution == "fixed":
            drawn = delay.low
        elif delay.distribution == "uniform":
            drawn = self._random.uniform(delay.low, delay.high)
        else:
            drawn = max(0.0, self._random.gauss(delay.low, delay.high))
        if delay.spike_every and self._count % delay.spike_every == 0:
            drawn += delay.spike
        return drawn


class DelayedDelivery:
    def __init__(self, rules: tuple[Rule, ...], deliver: Deliver) -> None:
        self._rules = rules
        self._deliver = deliver
        self._draws: dict[tuple[int, str], Draws] = {}
        for i, rule in enumerate(rules):
            for kind, delay in (("acks", rule.delay_acks), ("fills", rule.delay_fills)):
                if delay is not None:
                    self._draws[(i, kind)] = Draws(delay, f"{rule.seed}/{kind}")
        self._held: dict[str, deque[tuple[float, ToSession]]] = {}
        self._sending: Counter[str] = Counter()
        """Messages taken off a session's queue and not yet handed to quickfix."""
        self._due: list[tuple[float, int, str]] = []
        self._order = itertools.count()
        self._lock = threading.Condition()
        self._thread: threading.Thread | None = None

    def __call__(self, key: str, message: ToSession) -> None:
        delay = self._delay_of(key, message)
        with self._lock:
            queue = self._held.get(key)
            if not queue and not self._sending[key] and delay == 0.0:
                queue = None
            else:
                queue = self._held.setdefault(key, deque())
                last = queue[-1][0] if queue else 0.0
                due = max(time.monotonic() + delay, last)
                queue.append((due, message))
                heapq.heappush(self._due, (due, next(self._order), key))
                self._start()
                self._lock.notify()
        if queue is None:
            self._deliver(key, message)

    def _delay_of(self, key: str, message: ToSession) -> float:
        if not isinstance(message, OutMessage) or message.msg_type != "8":
            return 0.0
        exec_type = message.get(EXEC_TYPE)
        kind = "acks" if exec_type == "0" else "fills" if exec_type in FILLS else None
        if kind is None:
            return 0.0
        cl_ord_id = message.get(CL_ORD_ID) or ""
        for i, rule in enumerate(self._rules):
            if rule.matches(key, cl_ord_id):
                draws = self._draws.get((i, kind))
                return 0.0 if draws is None else draws.next()
        return 0.0

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="fix-delays", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            ready: list[tuple[str, ToSession]] = []
            with self._lock:
                while not ready:
                    now = time.monotonic()
                    while self._due and self._due[0][0] <= now:
                        _, _, key = heapq.heappop(self._due)
                        queue = self._held[key]
                        while queue and queue[0][0] <= now:
                            ready.append((key, queue.popleft()[1]))
                            self._sending[key] += 1
                    if not ready:
                        wait = self._due[0][0] - now if self._due else None
                        self._lock.wait(wait)
            for key, message in ready:
                self._deliver(key, message)
            with self._lock:
                for key, _message in ready:
                    self._sending[key] -= 1
