"""Invariant: any datagram decodes to a request frame or a FrameError, nothing else escapes.

A decoded request re-encodes to the same bytes (the decoder accepts one spelling of each
request), and one that passes the config checks becomes a command the engine handles
(with events, possibly rejects) without raising.

Run with atheris (`pip install -e '.[fuzz]'`):
    .venv/bin/python fuzz/fuzz_udp_frame.py -max_total_time=60
tests/fuzz/test_fuzz_harnesses.py drives the same `check_one_input` from hypothesis in CI.
"""

from atheris_main import fuzz

from nyquestro.config.instruments import default_instruments
from nyquestro.domain.ids import Seq, Ts
from nyquestro.engine import Engine
from nyquestro.gateways.udp import frames
from nyquestro.gateways.udp.orders import Retry, UdpOrders

_ENGINE = Engine(default_instruments())
_SYMBOLS = frozenset(_ENGINE.instruments)
SESSION = 1
"""The one configured session: frames from it reach the engine."""
_ORDERS = UdpOrders({SESSION: "FUZZ"})


def check_one_input(data: bytes) -> None:
    decoded = frames.decode(data)
    if isinstance(decoded, frames.FrameError):
        assert decoded.code in frames.FrameErrorCode
        reply = frames.error_reply(decoded)
        assert reply is None or frames.decode_reply(reply).msg_type is frames.MsgType.REJECTED
        return
    assert frames.encode(decoded) == data, (decoded, data)
    if frames.check_known(decoded, frozenset({SESSION}), _SYMBOLS) is not None:
        return
    outcome = _ORDERS.handle(decoded)
    if isinstance(outcome, Retry | frames.FrameError):
        return
    command = outcome(Seq(_ENGINE.last_seq + 1), Ts(0))
    events = _ENGINE.process(command)
    for _session, reply in _ORDERS.on_events(command, events):
        frames.decode_reply(reply)


if __name__ == "__main__":
    fuzz(check_one_input)
