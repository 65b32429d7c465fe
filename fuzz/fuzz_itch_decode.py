"""Invariant: any bytes either decode as a MoldUDP64 packet of ITCH messages or raise
ItchError, and a client book fed decoded messages changes or raises ItchError, nothing else.

Run with atheris (`pip install -e '.[fuzz]'`):
    .venv/bin/python fuzz/fuzz_itch_decode.py -max_total_time=60
tests/fuzz/test_fuzz_harnesses.py drives the same `check_one_input` from hypothesis in CI.
"""

import contextlib

from atheris_main import fuzz

from nyquestro.gateways.itch.depth import decode_depth
from nyquestro.gateways.itch.errors import ItchError
from nyquestro.gateways.itch.framing import parse_packet
from nyquestro.gateways.itch.messages import decode
from nyquestro.gateways.itch.requests import decode_request
from nyquestro.marketdata.builder import BookBuilder

_BUILDER = BookBuilder()


def check_one_input(data: bytes) -> None:
    for single in (decode_request, decode_depth):
        with contextlib.suppress(ItchError):
            single(data)
    try:
        packet = parse_packet(data)
    except ItchError:
        return
    for message in packet.messages:
        try:
            _BUILDER.apply(decode(message))
        except ItchError:
            continue
    if len(_BUILDER.book.orders) > 10_000:
        _BUILDER.reset()


if __name__ == "__main__":
    fuzz(check_one_input)
