"""A bridge whose loop falls behind conflates: what was delivered while it was busy goes
out as one update per symbol with each level's latest size and the latest command's
stamps, every trade and order message still one by one, and a snapshot in its place."""

import asyncio
import json
from typing import Any

from nyquestro.config.instruments import default_instruments
from nyquestro.config.websocket import WebSocketConfig
from nyquestro.domain.enums import Side
from nyquestro.domain.events import LevelAdded, LevelChanged, LevelRemoved, Trade
from nyquestro.domain.ids import OrderId, Px, Qty, Seq, Symbol, TradeId, Ts
from nyquestro.gateways.websocket.bridge import Bridge, Published, SnapshotReady

AAPL, IBM = Symbol("AAPL"), Symbol("IBM")


def level(kind: type, seq: int, symbol: Symbol, px: int, qty: int) -> Any:
    return kind(seq=Seq(seq), ts=Ts(seq * 10), symbol=symbol, side=Side.BUY, px=Px(px),
                qty=Qty(qty), orders=1 if qty else 0, order_id=OrderId(seq),
                order_qty=Qty(qty))  # fmt: skip


def trade(seq: int) -> Trade:
    return Trade(seq=Seq(seq), ts=Ts(seq * 10), symbol=AAPL, trade_id=TradeId(seq),
                 px=Px(19_000), qty=Qty(1), aggressor_side=Side.SELL,
                 buy_order_id=OrderId(1), sell_order_id=OrderId(2))  # fmt: skip


def published(seq: int, *levels: Any, trades: tuple[Trade, ...] = ()) -> Published:
    return Published(seq=seq, ts=seq * 10, levels=levels, trades=trades, orders=())


def test_what_waits_for_a_busy_loop_goes_out_conflated_in_order() -> None:
    loop = asyncio.new_event_loop()
    bridge = Bridge(WebSocketConfig(port=1), default_instruments(), lambda _b: (),
                    lambda query: query(), loop)  # fmt: skip
    fanout = bridge.fanout
    sent: list[dict[str, Any]] = []
    # Its connection takes everything at once (none of it waits in the backlog).
    client = fanout.connect(lambda _reason: None, lambda data: not sent.append(json.loads(data)))
    client.wanted.add(AAPL)
    client.wanted.add(IBM)
    snapshot = SnapshotReady(client=client.id, symbol=AAPL, seq=0, bids=(), asks=(), trades=())
    fanout.dispatch(snapshot)
    fanout.dispatch(SnapshotReady(client=client.id, symbol=IBM, seq=0, bids=(), asks=(),
                                  trades=()))  # fmt: skip
    # While the loop is busy elsewhere: five commands' publications and a snapshot.
    bridge.deliver("feed", published(1, level(LevelAdded, 1, AAPL, 19_000, 5)))
    bridge.deliver("feed", published(2, level(LevelChanged, 2, AAPL, 19_000, 8),
                                     level(LevelAdded, 2, IBM, 18_000, 3)))  # fmt: skip
    bridge.deliver("feed", published(3, level(LevelRemoved, 3, AAPL, 18_999, 0),
                                     trades=(trade(3),)))  # fmt: skip
    bridge.deliver("feed", SnapshotReady(client=client.id, symbol=IBM, seq=3, bids=(), asks=(),
                                         trades=()))  # fmt: skip
    bridge.deliver("feed", published(4, level(LevelChanged, 4, AAPL, 19_000, 2)))
    bridge.deliver("feed", published(5, level(LevelChanged, 5, AAPL, 19_000, 1),
                                     trades=(trade(5),)))  # fmt: skip
    loop.run_until_complete(asyncio.sleep(0))  # the loop gets round to it: one drain
    loop.close()
    assert not client.backlog
    kinds = [(m["type"], m.get("symbol"), m.get("seq")) for m in sent]
    assert kinds == [
        ("snapshot", "AAPL", 0), ("snapshot", "IBM", 0),
        ("update", "AAPL", 3), ("update", "IBM", 3), ("trade", "AAPL", 3),
        ("snapshot", "IBM", 3),
        ("update", "AAPL", 5), ("trade", "AAPL", 5),
    ]  # fmt: skip
    first_aapl = sent[2]
    assert first_aapl["ts"] == 30
    assert [(c["px"], c["qty"]) for c in first_aapl["changes"]] == [("190.00", 8), ("189.99", 0)]
    assert [(c["px"], c["qty"]) for c in sent[6]["changes"]] == [("190.00", 1)]
