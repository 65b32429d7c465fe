"""When each FIX request passed each stage of the order path, for latency figures.

    arrived    quickfix handed the FIX gateway the request (NewOrderSingle, cancel, replace)
    sequenced  the core stamped its command (the command's ts)
    durable    its command came back on the committed stream: journaled (in the split
               layout; in one process, when the core decided, before the commit)
    answered   the first answer for it (ExecutionReport or OrderCancelReject) went to quickfix

A request is known by its session and ClOrdID (an answer names the request's own ClOrdID,
a cancel's or replace's, not the order's). Each mark is a dict operation: the threads
that mark (quickfix's, the stream's, the sender's) need no lock of their own. A request
answered before its command came back (refused by the gateway itself) is answered with
no sequenced or durable stage; one never answered is forgotten once too many wait.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

from nyquestro.domain.ids import SessionKey

TIMED = frozenset({"D", "F", "G"})
"""NewOrderSingle, OrderCancelRequest, OrderCancelReplaceRequest."""
ANSWERS = frozenset({"8", "9"})
_MOST_WAITING = 100_000


@dataclass(slots=True)
class Passage:
    """One request's times, in ns since the epoch (0: not passed)."""

    msg_type: str
    arrived: int
    sequenced: int = 0
    durable: int = 0
    answered: int = 0


Sink = Callable[[SessionKey, str, Passage], None]
"""Told each answered request: its session, ClOrdID and times."""


class StageClock:
    def __init__(self, sink: Sink, clock: Callable[[], int] = time.time_ns) -> None:
        self._sink = sink
        self._clock = clock
        self._waiting: dict[tuple[SessionKey, str], Passage] = {}

    def arrived(self, key: SessionKey, cl_ord_id: str, msg_type: str) -> None:
        if len(self._waiting) > _MOST_WAITING:  # requests answered otherwise (a reject 'j')
            self._waiting.clear()
        self._waiting[(key, cl_ord_id)] = Passage(msg_type, self._clock())

    def committed(self, key: SessionKey, cl_ord_id: str, sequenced: int) -> None:
        passage = self._waiting.get((key, cl_ord_id))
        if passage is not None and not passage.durable:
            passage.sequenced, passage.durable = sequenced, self._clock()

    def answered(self, key: SessionKey, cl_ord_id: str) -> None:
        passage = self._waiting.pop((key, cl_ord_id), None)
        if passage is not None:
            passage.answered = self._clock()
            self._sink(key, cl_ord_id, passage)
