"""What each of nyquestro-tui's screens looks like (SVG snapshots; after a deliberate
change of the layout, `pytest tests/tui/test_snapshots.py --snapshot-update` rewrites
them and the diff shows what changed).

The data is fixed so the pictures are: the engine's own events for a scripted day
(stamped with fixed times), and the figures a control plane would answer for it. The
flows against a live venue are in test_app.py."""

import json
import queue
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, TabbedContent

from nyquestro.codec.jsonl import encode_event
from nyquestro.codec.prices import DecimalPrices
from nyquestro.config.instruments import default_instruments
from nyquestro.control import control_pb2 as pb
from nyquestro.domain.commands import Command, NewOrder
from nyquestro.domain.enums import Side
from nyquestro.domain.ids import Account, ClOrdId, Px, Qty, Seq, SessionKey, Symbol, Ts
from nyquestro.engine import Engine
from nyquestro.tui.app import History, NyquestroApp
from nyquestro.tui.feed import Loaded, Polled, Update
from tests.tui.conftest import until

INSTRUMENTS = default_instruments()
PRICES = DecimalPrices({i.symbol: i for i in INSTRUMENTS})
SIZE = (170, 36)
T0 = 1_796_650_000_000_000_000  # 2026-12-07 13:26:40 UTC
S1, S2 = SessionKey("FIX.4.4:NYQUESTRO->CLIENT1"), SessionKey("FIX.4.2:NYQUESTRO->CLIENT2")


def order(
    seq: int, session: SessionKey, account: str, side: Side, qty: int, px: int, symbol: str = "AAPL"
) -> Command:
    return NewOrder(
        seq=Seq(seq),
        ts=Ts(T0 + seq * 1_000_000),
        session=session,
        account=Account(account),
        cl_ord_id=ClOrdId(f"C{seq}"),
        symbol=Symbol(symbol),
        side=side,
        qty=Qty(qty),
        px=Px(px),
    )


DAY = [
    order(1, S1, "ACC1", Side.BUY, 100, 18990),
    order(2, S1, "ACC1", Side.BUY, 50, 18980),
    order(3, S2, "ACC2", Side.SELL, 70, 19010),
    order(4, S2, "ACC2", Side.SELL, 30, 18990),
    order(5, S1, "ACC1", Side.BUY, 10, 42000, symbol="MSFT"),
    order(6, S2, "ACC2", Side.SELL, 40, 19020),
]


def committed() -> list[pb.CommittedEvents]:
    engine = Engine(INSTRUMENTS)
    out = []
    for command in DAY:
        events = engine.process(command)
        out.append(
            pb.CommittedEvents(
                seq=command.seq,
                ts=command.ts,
                events=[
                    pb.Event(
                        seq=command.seq, ts=command.ts, type=f["type"], fields_json=json.dumps(f)
                    )
                    for f in (encode_event(e, PRICES) for e in events)
                ],
            )
        )
    return out


def polled() -> Polled:
    return Polled(
        stats=pb.GetEngineStatsResponse(
            last_seq=6,
            commands_per_second=1.2,
            events_per_second=4.8,
            projected_seq=6,
            history_from_seq=0,
            latency=[
                pb.StageLatency(
                    stage="arrived to sequenced",
                    requests=6,
                    p50_us=95,
                    p99_us=180,
                    p999_us=180,
                    max_us=181,
                ),
                pb.StageLatency(
                    stage="arrived to answered",
                    requests=6,
                    p50_us=410,
                    p99_us=820,
                    p999_us=820,
                    max_us=823,
                ),
            ],
        ),
        instruments=[
            pb.Instrument(symbol=i.symbol, tick_size=str(i.tick_size), state=pb.Instrument.OPEN)
            for i in INSTRUMENTS
        ],
        sessions=[
            pb.Session(
                session_key=S1,
                state="logged_on",
                next_sender_seq=9,
                next_target_seq=8,
                updated_ts=T0,
                heartbeat_interval=30,
                last_inbound_ts=T0 + 4_000_000,
                last_outbound_ts=T0 + 5_000_000,
                throttle_refusals=2,
                queued_messages=0,
            ),
            pb.Session(
                session_key=S2,
                state="logged_out",
                next_sender_seq=5,
                next_target_seq=6,
                updated_ts=T0 + 5_000_000,
            ),
        ],
        risk=pb.GetRiskResponse(
            accounts=[
                pb.AccountRisk(
                    account="ACC1",
                    positions=[
                        pb.Position(
                            symbol="AAPL",
                            position=30,
                            open_buy=120,
                            realised_pnl="0.00",
                            unrealised_pnl="0.00",
                        )
                    ],
                    limits={"max_long": "1000"},
                ),
                pb.AccountRisk(
                    account="ACC2",
                    positions=[
                        pb.Position(
                            symbol="AAPL",
                            position=-30,
                            open_sell=110,
                            realised_pnl="0.00",
                            unrealised_pnl="0.00",
                        )
                    ],
                ),
            ]
        ),
        kill_switches=[pb.KillSwitch(scope="account", name="ACC9", reason="runaway algo")],
        book=pb.GetBookResponse(
            symbol="AAPL",
            as_of_seq=6,
            bids=[pb.Level(px=18990, qty=70, orders=1), pb.Level(px=18980, qty=50, orders=1)],
            asks=[pb.Level(px=19010, qty=70, orders=1), pb.Level(px=19020, qty=40, orders=1)],
        ),
    )


class Recorded:
    """The updates a Feed would have brought for the day, all at once."""

    def __init__(self) -> None:
        self.updates: queue.Queue[Update] = queue.Queue()
        self.updates.put(
            Loaded(
                [pb.Instrument(symbol=i.symbol, tick_size=str(i.tick_size)) for i in INSTRUMENTS],
                [],
                0,
            )
        )
        for update in committed():
            self.updates.put(update)
        self.updates.put(polled())

    def start(self) -> None:
        """Everything is queued already."""

    def stop(self) -> None:
        """Nothing runs."""


def app() -> NyquestroApp:
    return NyquestroApp("127.0.0.1:9881", "demo-viewer", feed=Recorded())


async def on_tab(pilot: Pilot[Any], tab: str) -> None:
    the_app = pilot.app
    assert isinstance(the_app, NyquestroApp)
    await until(pilot, lambda: the_app.query_one("#blotter", DataTable).row_count == 6)
    await until(pilot, lambda: the_app.query_one("#ladder", DataTable).row_count == 4)
    the_app.query_one(TabbedContent).active = tab
    await pilot.pause(0.2)


@pytest.mark.parametrize("tab", ["orders", "fills", "depth", "sessions", "risk", "engine"])
def test_each_tab(snap_compare: Any, tab: str) -> None:
    async def show(pilot: Pilot[Any]) -> None:
        await on_tab(pilot, tab)

    assert snap_compare(app(), terminal_size=SIZE, run_before=show)


def test_a_confirmation(snap_compare: Any) -> None:
    async def ask(pilot: Pilot[Any]) -> None:
        await on_tab(pilot, "orders")
        pilot.app.query_one("#blotter", DataTable).focus()
        await pilot.press("c")
        await pilot.pause(0.2)

    assert snap_compare(app(), terminal_size=SIZE, run_before=ask)


def test_an_orders_history(snap_compare: Any) -> None:
    events = [
        e
        for c in committed()
        for e in c.events
        if e.type in ("accepted", "partially_filled", "filled") and e.order_id == 1
    ]
    history = pb.GetOrderHistoryResponse(
        order=pb.Order(
            order_id=1, cl_ord_id="C1", side="buy", symbol="AAPL", status="partially_filled"
        ),
        events=events,
        complete=True,
    )

    async def open_it(pilot: Pilot[Any]) -> None:
        await on_tab(pilot, "orders")
        await pilot.app.push_screen(History(history))
        # A fixed pause alone was too short on a loaded machine: wait for the rows.
        await until(pilot, lambda: isinstance(pilot.app.screen, History) and pilot.app.screen
                    .query_one("#history", DataTable).row_count == len(events))  # fmt: skip
        await pilot.pause(0.2)

    assert snap_compare(app(), terminal_size=SIZE, run_before=open_it)
