"""A FIX venue without sockets, for the fuzz harnesses: engine, sequencer and gateway
core wired as `nyquestro serve` wires them, with outbound messages collected in a list
(and passed through the quickfix adapter's message builder, so that runs too)."""

import contextlib

import quickfix as fix

from nyquestro.config.paths import FIXSPEC_DIR
from nyquestro.config.venue import default_venue
from nyquestro.engine import Engine
from nyquestro.gateways.fix.acceptor import QuickfixFields, session_key_of, to_quickfix
from nyquestro.gateways.fix.message import OutMessage
from nyquestro.gateways.fix.venue import FixVenue, UnsupportedMessage
from nyquestro.runtime.sequencer import Sequencer

BEGIN_STRINGS = ("FIX.4.2", "FIX.4.4")
DICTIONARIES = {
    begin: fix.DataDictionary(str(FIXSPEC_DIR / f"FIX{begin[4]}{begin[6]}.xml"))
    for begin in BEGIN_STRINGS
}


class Rig:
    def __init__(self) -> None:
        config = default_venue()
        self._now = 1_700_000_000_000_000_000
        self.sequencer = Sequencer(Engine(config.instruments), self._clock)
        self.sent: list[tuple[str, OutMessage]] = []
        self.venue = FixVenue(
            config.instruments,
            submit=self.sequencer.submit,
            read=self.sequencer.read,
            send=self._send,
            clock=self._clock,
        )
        self.keys = {}
        for begin in BEGIN_STRINGS:
            key = session_key_of(begin, "NYQUESTRO", "FUZZ")
            self.venue.add_session(key, begin, "FUZZ", cancel_on_disconnect=True)
            self.keys[begin] = key
        self.sequencer.subscribe(self.venue.on_events)

    def _clock(self) -> int:
        self._now += 1_000
        return self._now

    def _send(self, key: str, message: OutMessage) -> None:
        to_quickfix(message, key.split(":", 1)[0])
        self.sent.append((key, message))

    def deliver(self, begin: str, message: fix.Message) -> None:
        """What the acceptor does with a validated application message."""
        msg_type = message.getHeader().getField(35)
        # UnsupportedMessage is documented: quickfix answers it with BusinessMessageReject.
        with contextlib.suppress(UnsupportedMessage):
            self.venue.on_message(
                self.keys[begin], msg_type, QuickfixFields(message, message.toString())
            )
