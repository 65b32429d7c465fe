"""Invariant: any WebSocket message either parses into a request or raises ProtocolError.

Nothing else may escape (no KeyError, TypeError, RecursionError), and the error text a
client gets back stays short however long its message was.

Run with atheris (`pip install -e '.[fuzz]'`):
    .venv/bin/python fuzz/fuzz_ws_message.py -max_total_time=60
tests/fuzz/test_fuzz_harnesses.py drives the same `check_one_input` from hypothesis in CI.
"""

import json

from atheris_main import fuzz

from nyquestro.gateways.websocket.protocol import ProtocolError, parse_request

MAX_BYTES = 4096
MAX_ERROR_TEXT = 300


FIELDS = ["v", "type", "token", "symbols", "cl_ord_id", "orig_cl_ord_id", "symbol", "side",
          "qty", "px", "ord_type", "tif", "extra"]  # fmt: skip
VALUES: list[object] = [
    1, 2, 0, -1, True, None, 1.5, 10**30, "", "1", "AAPL", "buy", "sell", "limit", "market",
    "day", "ioc", "190.00", "190.005", "1e3", "a b", "x" * 70, [], ["AAPL"], ["AAPL", 7], {},
    "login", "subscribe", "unsubscribe", "new_order", "cancel", "trade",
]  # fmt: skip


def check_one_input(data: bytes) -> None:
    """First byte: 0 binary frame, 1 text frame, 2 a JSON object built from the rest
    (field names and values the parser knows, so runs get past the JSON decoder)."""
    if not data:
        return
    mode, rest = data[0] % 3, data[1:]
    message: str | bytes
    if mode == 0:
        message = rest
    elif mode == 1:
        message = rest.decode("utf-8", errors="replace")
    else:
        obj = {
            FIELDS[a % len(FIELDS)]: VALUES[b % len(VALUES)]
            for a, b in zip(rest[::2], rest[1::2], strict=False)
        }
        message = json.dumps(obj)
    try:
        parse_request(message, MAX_BYTES)
    except ProtocolError as exc:
        assert len(exc.text) <= MAX_ERROR_TEXT, exc.text


if __name__ == "__main__":
    fuzz(check_one_input)
