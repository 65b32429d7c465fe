"""The orders/executions/sessions tables agree with the engine, and re-applying events
(as recovery does after a crash) leaves them unchanged."""

from collections import defaultdict

from sqlalchemy import Engine as DbEngine
from sqlalchemy import select

from nyquestro.config.instruments import default_instruments
from nyquestro.domain.events import Accepted, EventBase, Execution, Replaced, Trade
from nyquestro.engine import Engine
from nyquestro.store.database import upgrade
from nyquestro.store.models import ExecutionRecord, OrderRecord, SessionRecord
from nyquestro.store.projection import Projection, SessionActivity
from tests.runtime.flows import random_flow

INSTRUMENTS = default_instruments()


def run_flow(seed: int, length: int) -> tuple[Engine, list[list[EventBase]]]:
    engine = Engine(INSTRUMENTS)
    return engine, [engine.process(command) for command in random_flow(seed, length)]


def table(db: DbEngine, model: type) -> list[tuple[object, ...]]:
    with db.connect() as connection:
        keys = list(model.__table__.primary_key.columns)  # type: ignore[attr-defined]
        return [tuple(row) for row in connection.execute(select(model).order_by(*keys))]


def project(db: DbEngine, batches: list[list[EventBase]]) -> None:
    projection = Projection(db)
    for i, events in enumerate(batches):
        projection.apply(events)
        if i % 37 == 0:
            projection.write_pending()
    projection.write_pending()


def test_orders_and_executions_match_the_engine(db_engine: DbEngine) -> None:
    upgrade(db_engine)
    engine, batches = run_flow(30, 400)
    project(db_engine, batches)
    events = [e for batch in batches for e in batch]

    with db_engine.connect() as connection:
        orders = {r.order_id: r for r in connection.execute(select(OrderRecord))}
        fills = list(connection.execute(select(ExecutionRecord)))
    live = {view.order_id: view for view in engine.live_orders()}
    assert live and set(live) <= set(orders)
    for order_id, view in live.items():
        row = orders[order_id]
        assert (row.cl_ord_id, row.px, row.qty, row.cum_qty, row.leaves_qty, row.stop_px) == (
            view.cl_ord_id, view.px, view.qty, view.cum_qty, view.leaves_qty, view.stop_px,
        ), row  # fmt: skip
        assert row.status == ("partially_filled" if view.cum_qty else "new")
    for order_id, row in orders.items():
        if order_id not in live:
            assert row.leaves_qty == 0 and row.status in {"filled", "canceled", "expired"}, row

    stop_px = {e.order_id: e.stop_px for e in events if isinstance(e, Accepted | Replaced)}
    assert any(stop_px.values()), "the flow should have stop orders"
    assert {order_id: row.stop_px for order_id, row in orders.items()} == stop_px
    trades = [e for e in events if isinstance(e, Trade)]
    assert trades, "the flow should trade"
    assert len(fills) == 2 * len(trades)
    filled: dict[int, int] = defaultdict(int)
    for fill in fills:
        filled[fill.order_id] += fill.qty
    for order_id, row in orders.items():
        assert row.cum_qty == filled.get(order_id, 0), row
    aggressors = {(f.trade_id, f.order_id) for f in fills if f.aggressor}
    expected = {(e.trade_id, e.order_id) for e in events
                if isinstance(e, Execution) and e.side is e.aggressor_side}  # fmt: skip
    assert aggressors == expected


def test_projecting_the_same_events_again_changes_nothing(db_engine: DbEngine) -> None:
    upgrade(db_engine)
    _, batches = run_flow(22, 300)
    project(db_engine, batches)
    before = (table(db_engine, OrderRecord), table(db_engine, ExecutionRecord))
    # A crash after a snapshot at command 150: recovery replays what follows.
    project(db_engine, batches[150:])
    assert (table(db_engine, OrderRecord), table(db_engine, ExecutionRecord)) == before
    project(db_engine, batches)
    assert (table(db_engine, OrderRecord), table(db_engine, ExecutionRecord)) == before


def test_a_session_row_holds_its_latest_state(db_engine: DbEngine) -> None:
    upgrade(db_engine)
    projection = Projection(db_engine)
    for state, sender, target in (("logged_on", 2, 2), ("logged_out", 9, 7)):
        projection.session_state(
            session_key="FIX.4.4:NYQUESTRO->CLIENT1", begin_string="FIX.4.4",
            sender_comp_id="NYQUESTRO", target_comp_id="CLIENT1", next_sender_seq=sender,
            next_target_seq=target, state=state, ts=sender,
            activity=SessionActivity(heartbeat_interval=30, last_inbound_ts=sender,
                                     throttle_refusals=target),
        )  # fmt: skip
        projection.write_pending()
    assert table(db_engine, SessionRecord) == [
        ("FIX.4.4:NYQUESTRO->CLIENT1", "FIX.4.4", "NYQUESTRO", "CLIENT1", 9, 7, "logged_out", 9,
         30, 9, None, 7, None)
    ]  # fmt: skip
