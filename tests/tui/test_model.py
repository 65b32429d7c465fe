"""The TUI's data model alone (no Textual, no venue): it folds the control plane's stream
into the same order rows as the store's projection, filters and sorts them, and keeps
the fills tape."""

import json

from sqlalchemy import Engine as DbEngine
from sqlalchemy import select

from nyquestro.codec.jsonl import encode_event
from nyquestro.codec.prices import DecimalPrices
from nyquestro.control import control_pb2 as pb
from nyquestro.domain.events import EventBase, Execution
from nyquestro.store.database import upgrade
from nyquestro.store.models import OrderRecord
from nyquestro.tui.app import parse_filter
from nyquestro.tui.model import BLOTTER_COLUMNS, Blotter, Filter
from tests.store.test_projections import INSTRUMENTS, project, run_flow

PRICES = DecimalPrices({i.symbol: i for i in INSTRUMENTS})


def stream_of(batches: list[list[EventBase]]) -> list[pb.CommittedEvents]:
    """What StreamEvents sends for these commands' events."""
    out = []
    for seq, events in enumerate(batches, start=1):
        out.append(pb.CommittedEvents(seq=seq, ts=seq * 1000, events=[
            pb.Event(seq=seq, ts=seq * 1000, type=fields["type"],
                     fields_json=json.dumps(fields))
            for fields in (encode_event(e, PRICES) for e in events)
        ]))  # fmt: skip
    return out


def test_the_blotter_keeps_the_projections_rows(db_engine: DbEngine) -> None:
    upgrade(db_engine)
    _, batches = run_flow(33, 500)
    project(db_engine, batches)
    blotter = Blotter(PRICES)
    for committed in stream_of(batches):
        blotter.apply(committed)
    with db_engine.connect() as connection:
        projected = {
            row.order_id: {name: getattr(row, name) for name in BLOTTER_COLUMNS}
            for row in connection.execute(select(OrderRecord))
        }
    assert projected and blotter.orders == projected
    fills = [e for batch in batches for e in batch if isinstance(e, Execution)]
    assert [f["trade_id"] for f in blotter.fills] == [e.trade_id for e in reversed(fills)]
    assert blotter.last_seq == len(batches)


def test_applying_again_leaves_the_same_rows() -> None:
    _, batches = run_flow(34, 200)
    once, twice = Blotter(PRICES), Blotter(PRICES)
    stream = stream_of(batches)
    for committed in stream:
        once.apply(committed)
    for committed in stream + stream[len(stream) // 2 :]:
        twice.apply(committed)
    assert once.orders == twice.orders


def test_filters_and_sorting() -> None:
    _, batches = run_flow(35, 300)
    blotter = Blotter(PRICES)
    for committed in stream_of(batches):
        blotter.apply(committed)
    rows = list(blotter.orders.values())
    symbol = rows[0]["symbol"]
    by_symbol = blotter.rows(Filter(symbol=symbol))
    assert by_symbol and all(r["symbol"] == symbol for r in by_symbol)
    assert len(by_symbol) == sum(r["symbol"] == symbol for r in rows)
    open_rows = blotter.rows(Filter(status="open"))
    assert all(r["status"] in ("new", "partially_filled") for r in open_rows)
    assert len(open_rows) + len(blotter.rows(Filter(status="done"))) == len(rows)
    cl_ord_id = str(rows[-1]["cl_ord_id"])
    assert rows[-1] in blotter.rows(Filter(text=cl_ord_id.upper()))
    ids = [r["order_id"] for r in blotter.rows(Filter(), sort="order_id", descending=True)]
    assert ids == sorted(ids, reverse=True)
    priced = blotter.rows(Filter(), sort="px", descending=False)
    assert [r["px"] for r in priced if r["px"] is None] == [r["px"] for r in priced][
        : sum(r["px"] is None for r in priced)
    ]


def test_the_filter_box_syntax() -> None:
    assert parse_filter("symbol=AAPL status=open big buyer") == Filter(
        symbol="AAPL", status="open", text="big buyer"
    )
    assert parse_filter("colour=red") == Filter(text="colour=red")
