"""decode_event reads back every event encode_event writes (prices as decimals in their
symbol's tick), and names what it cannot read."""

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nyquestro.codec.jsonl import decode_event, encode_event
from nyquestro.codec.prices import DecimalPrices
from nyquestro.config.instruments import default_instruments
from nyquestro.domain.enums import Side
from nyquestro.domain.errors import InputError
from nyquestro.domain.events import EventBase, Filled
from nyquestro.domain.ids import (
    Account,
    ClOrdId,
    OrderId,
    Px,
    Qty,
    Seq,
    SessionKey,
    Symbol,
    TradeId,
    Ts,
)
from tests.codec.test_frames import ANY_EVENT

INSTRUMENTS = default_instruments()
PRICES = DecimalPrices({i.symbol: i for i in INSTRUMENTS})
SYMBOLS = [i.symbol for i in INSTRUMENTS]


@settings(max_examples=400, deadline=None)
@given(ANY_EVENT, st.sampled_from(SYMBOLS))
def test_every_event_survives_json(event: EventBase, symbol: Symbol) -> None:
    if hasattr(event, "symbol"):  # prices convert in the symbol's tick: a real one
        event = dataclasses.replace(event, symbol=symbol)  # type: ignore[type-var]
    text = json.dumps(encode_event(event, PRICES))
    assert decode_event(json.loads(text), PRICES) == event


def test_what_it_cannot_read_is_named() -> None:
    with pytest.raises(InputError) as unknown:
        decode_event({"type": "teleported"}, PRICES)
    assert unknown.value.field == "type"
    with pytest.raises(InputError) as missing:
        decode_event({"type": "halted", "seq": 1, "ts": 2, "symbol": "AAPL"}, PRICES)
    assert (missing.value.field, missing.value.expected) == (
        "reason",
        "a value (every field of halted is written)",
    )
    with pytest.raises(InputError) as side:
        decode_event({"type": "resting", "seq": 1}, PRICES)
    assert side.value.field == "type"
    fields = encode_event(example_fill(), PRICES)
    with pytest.raises(InputError) as enum:
        decode_event({**fields, "side": "up"}, PRICES)
    assert (enum.value.field, enum.value.value) == ("side", "up")
    assert "one of buy, sell" in enum.value.expected


def example_fill() -> Filled:
    return Filled(
        seq=Seq(7), ts=Ts(8), order_id=OrderId(1), session=SessionKey("S"),
        account=Account("A"), cl_ord_id=ClOrdId("c"), symbol=Symbol("AAPL"), side=Side.BUY,
        trade_id=TradeId(3), px=Px(19000), qty=Qty(5), cum_qty=Qty(5), leaves_qty=Qty(0),
        cum_notional=95000, aggressor_side=Side.SELL, contra_order_id=OrderId(2),
    )  # fmt: skip
