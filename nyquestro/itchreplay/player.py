"""Plays an ITCH file into a venue over one FIX session, paced by the file's timestamps
(`speed` times as fast) or as fast as the venue answers (`speed` None).

Each request waits for the venue's answer to it before the next goes: a cancel/replace
must name the ClOrdID the venue last accepted, and the answers are how the replay learns
what users took (`Translator.report`).
"""

import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from nyquestro.cert.connection import Closed, Connection, Dial, Transcript, sending_time
from nyquestro.cert.session import ClientSession, ClientSpec, Outgoing
from nyquestro.gateways.itch.messages import Message as ItchMessage
from nyquestro.gateways.itch.messages import Unknown
from nyquestro.itchreplay.translate import CL_ORD_ID, Translator

ANSWER_TIMEOUT = 10.0
NS = 1_000_000_000


class ReplayError(RuntimeError):
    """The venue did not let the replay go on (the text says why)."""


@dataclass(frozen=True)
class Session:
    sender: str
    target: str
    begin_string: str


def play(
    messages: Iterable[ItchMessage | Unknown],
    address: tuple[str, int],
    session: Session,
    speed: float | None,
    symbols: frozenset[str] | None = None,
    progress: Callable[[Counter[str]], None] = lambda _counts: None,
) -> Counter[str]:
    """Replays `messages`; returns what it did, by kind."""
    spec = ClientSpec("itch", session.sender, session.target, session.begin_string)
    connection = Connection(ClientSession(spec), *Dial(lambda: address).open(5.0),
                            Transcript(keep=False))  # fmt: skip
    translator = Translator(secrets.token_hex(3), symbols)
    try:
        _logon(connection)
        started, first_ts = time.monotonic(), None
        for count, msg in enumerate(messages, 1):
            translator.counts["ITCH messages"] += 1
            if speed is not None and not isinstance(msg, Unknown):
                first_ts = msg.timestamp if first_ts is None else first_ts
                wait = started + (msg.timestamp - first_ts) / NS / speed - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            for request in translator.message(msg, sending_time()):
                connection.send(request)
                _answer(connection, translator, request)
            if count % 10_000 == 0:
                progress(translator.counts)
        connection.send(Outgoing("5", []))
        _drain(connection, translator)
    except Closed as exc:
        raise ReplayError(f"the venue closed the connection: {exc}") from exc
    finally:
        connection.close()
    return translator.counts


def _logon(connection: Connection) -> None:
    connection.send(Outgoing("A", [(98, "0"), (108, "30"), (141, "Y")]))
    answer = connection.receive(time.monotonic() + ANSWER_TIMEOUT)
    if answer is None or answer.type != "A":
        text = "nothing" if answer is None else answer.text()
        raise ReplayError(f"the venue did not answer the Logon (it sent {text})")


def _answer(connection: Connection, translator: Translator, request: Outgoing) -> None:
    """Reads until the venue answers `request`, noting every report on the way."""
    cl_ord_id = dict(request.fields)[CL_ORD_ID]
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while True:
        msg = connection.receive(deadline)
        if msg is None:
            raise ReplayError(f"no answer to 35={request.msg_type} {cl_ord_id} within "
                              f"{ANSWER_TIMEOUT:g} s")  # fmt: skip
        if msg.type in ("8", "9"):
            translator.report(msg)
            if msg.get(CL_ORD_ID) == cl_ord_id:
                return
        elif msg.type in ("3", "j"):
            raise ReplayError(f"the venue refused a request: {msg.text()}")


def _drain(connection: Connection, translator: Translator) -> None:
    """Reports until the venue answers the Logout and closes."""
    deadline = time.monotonic() + ANSWER_TIMEOUT
    try:
        while (msg := connection.receive(deadline)) is not None and msg.type != "5":
            if msg.type in ("8", "9"):
                translator.report(msg)
    except Closed:
        pass
