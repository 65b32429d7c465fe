"""Sends the model's requests over FIX sessions at a target rate and counts the answers.

One thread: each request goes out at its time (`rate` a second, from the start) and waits
for its answer; reports for the other sessions (the other side of a trade) are read as
they come. Behind schedule, requests go out as fast as the venue answers; the result says
which rate was reached.

`exact`: each request is followed by an OrderStatusRequest for an order that does not
exist, whose answer leaves the venue after every report the request caused, to every
session. Only once it is back does the next request get chosen, so the model has seen
all that came of the last one, and a seed sends the same requests every time (to a venue
in the same state). It costs a second round trip per request.
"""

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from nyquestro.cert.connection import Connection, sending_time
from nyquestro.cert.session import Outgoing
from nyquestro.codec.fix_wire import Message
from nyquestro.flowgen.model import CL_ORD_ID, FlowModel

ANSWER_TIMEOUT = 10.0
_ANSWERS = {"0": "acknowledged", "4": "cancelled", "5": "replaced", "F": "filled",
            "1": "filled", "2": "filled"}  # fmt: skip
_VOLATILE = (52, 60)
"""Fields a request log leaves out: they say when, which no seed decides."""


class FlowError(RuntimeError):
    """The venue stopped answering (the text says what it was asked)."""


@dataclass
class FlowResult:
    requests: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    """Seconds from each request to its answer."""
    seconds: float = 0.0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def run_flow(
    model: FlowModel,
    connections: dict[str, Connection],
    rate: float | None,
    count: int | None,
    seconds: float | None,
    log: TextIO | None = None,
    progress: Callable[[FlowResult], None] = lambda _result: None,
    exact: bool = False,
) -> FlowResult:
    """Until `count` requests or `seconds` have passed (whichever comes first)."""
    result = FlowResult()
    started = time.monotonic()
    sent = 0
    while (count is None or sent < count) and (
        seconds is None or time.monotonic() - started < seconds
    ):
        if rate is not None:
            wait = started + sent / rate - time.monotonic()
            if wait > 0:
                _read_others(model, connections, None, time.monotonic() + wait, result)
        session, request, kind = model.next_request(sending_time())
        result.requests[kind] += 1
        if log is not None:
            kept = [(t, v) for t, v in request.fields if t not in _VOLATILE]
            log.write(json.dumps({"session": session, "type": request.msg_type,
                                  "fields": kept}) + "\n")  # fmt: skip
        filled = result.answers["filled"]
        _ask(model, connections, session, request, result, f"sync{sent}" if exact else None)
        if exact and result.answers["filled"] > filled:
            # A trade reported the other side's fill to its own session: wait for it too.
            for other in connections:
                if other != session:
                    _barrier(model, connections, other, f"sync{sent}-{other}",
                             dict(request.fields)[55], result)  # fmt: skip
        sent += 1
        if sent % 1000 == 0:
            progress(result)
    result.seconds = time.monotonic() - started
    return result


def cancel_everything(model: FlowModel, connections: dict[str, Connection]) -> int:
    """Cancels what the run left on the book; returns how many."""
    cancels = model.cancels_of_everything(sending_time())
    for session, request in cancels:
        _ask(model, connections, session, request, FlowResult())
    return len(cancels)


def _ask(
    model: FlowModel,
    connections: dict[str, Connection],
    session: str,
    request: Outgoing,
    result: FlowResult,
    barrier: str | None = None,
) -> None:
    """Sends `request` and reads until its answer (and the `barrier`'s, if given)."""
    fields = dict(request.fields)
    cl_ord_id = fields[CL_ORD_ID]
    asked = time.monotonic()
    connections[session].send(request)
    waiting = {cl_ord_id}
    if barrier is not None:
        connections[session].send(Outgoing("H", [(CL_ORD_ID, barrier), (55, fields[55]),
                                                 (54, "1")]))  # fmt: skip
        waiting.add(barrier)
    deadline = asked + ANSWER_TIMEOUT
    while waiting:
        msg = connections[session].receive(deadline)
        if msg is None:
            raise FlowError(f"{session}: no answer to 35={request.msg_type} {cl_ord_id} "
                            f"within {ANSWER_TIMEOUT:g} s")  # fmt: skip
        answered = msg.get(CL_ORD_ID) if msg.get(CL_ORD_ID) == barrier else None
        answered = answered or _note(model, session, msg, result)
        if answered == cl_ord_id:
            result.latencies.append(time.monotonic() - asked)
        waiting.discard(answered or "")
    _read_others(model, connections, session, time.monotonic(), result)


def _barrier(
    model: FlowModel,
    connections: dict[str, Connection],
    session: str,
    token: str,
    symbol: str,
    result: FlowResult,
) -> None:
    """An OrderStatusRequest for no order on `session`; returns once it is answered."""
    connections[session].send(Outgoing("H", [(CL_ORD_ID, token), (55, symbol), (54, "1")]))
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while (msg := connections[session].receive(deadline)) is not None:
        if msg.get(CL_ORD_ID) == token:
            return
        _note(model, session, msg, result)
    raise FlowError(f"{session}: no answer to the status request {token}")


def _read_others(
    model: FlowModel,
    connections: dict[str, Connection],
    but: str | None,
    until: float,
    result: FlowResult,
) -> None:
    """What the other sessions were sent meanwhile (fills of their resting orders)."""
    for name, connection in connections.items():
        if name != but:
            while (msg := connection.receive(until)) is not None:
                _note(model, name, msg, result)


def _note(model: FlowModel, session: str, msg: Message, result: FlowResult) -> str | None:
    """Counts an answer and tells the model; returns the ClOrdID it answers, if any."""
    if msg.type == "8":
        exec_type = msg.get(150) or ""
        name = _ANSWERS.get(exec_type, f"150={exec_type}")
        if exec_type == "8":
            name = f"rejected: {msg.get(58) or msg.get(103)}"
        result.answers[name] += 1
    elif msg.type == "9":
        result.answers[f"cancel rejected: {msg.get(58) or msg.get(102)}"] += 1
    elif msg.type in ("3", "j"):
        raise FlowError(f"{session}: the venue refused a message: {msg.text()}")
    else:
        return None
    model.observe(session, msg)
    return msg.get(CL_ORD_ID)
