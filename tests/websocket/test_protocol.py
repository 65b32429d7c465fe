"""The message parser: every bad message becomes one ProtocolError naming what is wrong."""

import json

import pytest

from nyquestro.domain.enums import OrdType, Side, TimeInForce
from nyquestro.gateways.websocket.protocol import (
    CancelRequest,
    Login,
    NewOrderRequest,
    ProtocolError,
    Subscribe,
    Unsubscribe,
    parse_request,
)

LIMIT = 4096


def parse(message: object) -> object:
    return parse_request(json.dumps(message), LIMIT)


def refused(data: str | bytes, limit: int = LIMIT) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        parse_request(data, limit)
    return caught.value


def test_every_request_type_parses() -> None:
    assert parse({"v": 1, "type": "login", "token": "t"}) == Login(token="t")
    assert parse({"v": 1, "type": "subscribe", "symbols": ["AAPL", "IBM", "AAPL"]}) == Subscribe(
        symbols=("AAPL", "IBM")
    )
    assert parse({"v": 1, "type": "unsubscribe", "symbols": ["IBM"]}) == Unsubscribe(
        symbols=("IBM",)
    )
    order = {"v": 1, "type": "new_order", "cl_ord_id": "o1", "symbol": "AAPL", "side": "sell",
             "qty": 10, "px": "190.25", "tif": "ioc"}  # fmt: skip
    assert parse(order) == NewOrderRequest(
        cl_ord_id="o1", symbol="AAPL", side=Side.SELL, qty=10, ord_type=OrdType.LIMIT,
        px="190.25", tif=TimeInForce.IOC,
    )  # fmt: skip
    market = {"v": 1, "type": "new_order", "cl_ord_id": "o2", "symbol": "AAPL", "side": "buy",
              "qty": 5, "ord_type": "market"}  # fmt: skip
    parsed = parse(market)
    assert isinstance(parsed, NewOrderRequest)
    assert (parsed.ord_type, parsed.px, parsed.tif) == (OrdType.MARKET, None, TimeInForce.DAY)
    assert parse({"v": 1, "type": "cancel", "cl_ord_id": "x", "orig_cl_ord_id": "o1"}) == (
        CancelRequest(cl_ord_id="x", orig_cl_ord_id="o1")
    )


@pytest.mark.parametrize(
    ("data", "code", "names"),
    [
        ("{not json", "malformed", "not JSON"),
        ("[1, 2]", "malformed", "JSON object"),
        ('"text"', "malformed", "JSON object"),
        (b'{"v": 1}', "malformed", "binary"),
        ('{"type": "login", "token": "t"}', "bad_version", "v: missing"),
        ('{"v": 2, "type": "login", "token": "t"}', "bad_version", "v: 2"),
        ('{"v": true, "type": "login", "token": "t"}', "bad_version", "v: true"),
        ('{"v": "1", "type": "login", "token": "t"}', "bad_version", 'v: "1"'),
        ('{"v": 1, "type": "trade"}', "unknown_type", 'type: "trade"'),
        ('{"v": 1}', "unknown_type", "type: missing"),
        ('{"v": 1, "type": "login"}', "bad_field", "token: missing"),
        ('{"v": 1, "type": "login", "token": "t", "x": 1}', "bad_field", "x: not a field"),
        ('{"v": 1, "type": "subscribe", "symbols": "AAPL"}', "bad_field", "symbols:"),
        ('{"v": 1, "type": "subscribe", "symbols": []}', "bad_field", "symbols: []"),
        ('{"v": 1, "type": "subscribe", "symbols": ["AAPL", 7]}', "bad_field", "symbols[1]: 7"),
        ('{"v": 1, "type": "cancel", "cl_ord_id": "a b", "orig_cl_ord_id": "o"}', "bad_field",
         "cl_ord_id"),
    ],
)  # fmt: skip
def test_bad_messages_name_what_is_wrong(data: str | bytes, code: str, names: str) -> None:
    error = refused(data)
    assert error.code == code
    assert names in error.text


ORDER = {"v": 1, "type": "new_order", "cl_ord_id": "o1", "symbol": "AAPL", "side": "buy",
         "qty": 10, "px": "190.00"}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "names"),
    [
        ({"side": "long"}, 'side: "long"; expected one of buy, sell'),
        ({"qty": 0}, "qty: 0"),
        ({"qty": 1.5}, "qty: 1.5"),
        ({"qty": True}, "qty: true"),
        ({"px": 190.0}, "px: 190.0"),
        ({"px": "1e3"}, 'px: "1e3"'),
        ({"ord_type": "pegged"}, "ord_type"),
        ({"ord_type": "market"}, "a market order has no price"),
        ({"tif": "gtd"}, "tif"),
        ({"cl_ord_id": ""}, "cl_ord_id"),
        ({"cl_ord_id": "x" * 65}, "cl_ord_id"),
    ],
)
def test_bad_orders_name_the_field(change: dict[str, object], names: str) -> None:
    error = refused(json.dumps({**ORDER, **change}))
    assert error.code == "bad_field"
    assert names in error.text


def test_oversized_messages_are_refused_before_parsing() -> None:
    message = json.dumps({"v": 1, "type": "login", "token": "t" * 200})
    assert parse_request(message, len(message)) == Login(token="t" * 200)
    error = refused(message, len(message) - 1)
    assert error.code == "too_large"
    assert f"{len(message)} bytes" in error.text
    # Counted in bytes as sent, not in characters.
    wide = json.dumps({"v": 1, "type": "login", "token": "é" * 10}, ensure_ascii=False)
    assert refused(wide, len(wide)).code == "too_large"


def test_deeply_nested_json_is_malformed_not_a_crash() -> None:
    assert refused("[" * 100_000 + "]" * 100_000, 10**6).code == "malformed"


def test_long_values_are_cut_short_in_error_texts() -> None:
    error = refused(json.dumps({"v": 1, "type": "x" * 1000}))
    assert len(error.text) < 200
