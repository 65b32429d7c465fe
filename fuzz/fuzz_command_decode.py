"""Invariant: any input line either becomes a command the engine accepts or raises InputError.

Nothing else may escape — no KeyError, TypeError, AssertionError or engine exception —
and a decoded command never breaks the engine (it answers with events, possibly rejects).

Run with atheris (`pip install -e '.[fuzz]'`):
    .venv/bin/python fuzz/fuzz_command_decode.py -max_total_time=60
tests/fuzz/test_fuzz_harnesses.py drives the same `check_one_input` from hypothesis in CI.
"""

import json

from atheris_main import fuzz

from nyquestro.codec.jsonl import decode_command
from nyquestro.codec.prices import DecimalPrices
from nyquestro.config.instruments import default_instruments
from nyquestro.domain.errors import InputError
from nyquestro.domain.ids import Seq, Ts
from nyquestro.engine import Engine

_ENGINE = Engine(default_instruments())
_PRICES = DecimalPrices(_ENGINE.instruments)


def check_one_input(data: bytes) -> None:
    try:
        obj = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return
    try:
        command = decode_command(obj, Seq(_ENGINE.last_seq + 1), Ts(0), _PRICES)
    except InputError:
        return
    _ENGINE.process(command)


if __name__ == "__main__":
    fuzz(check_one_input)
