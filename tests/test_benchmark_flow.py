"""The engine benchmark's flow and replay, at a tiny size: no timing is asserted.

What is checked is what the benchmark's figures rest on: the op mix is the specified
one, every op does in the engine what the flow meant it to do (adds rest, cancels cancel,
marketable orders trade, replaces replace), the flow's model of the book is the engine's,
and a seed names one command sequence.
"""

import gc
import io
from dataclasses import asdict, replace

import pytest
from rich.console import Console

from benchmarks.engine_bench import (
    ReplayResult,
    book_size,
    bytes_per_resting_order,
    main,
    replay,
    warm_up,
)
from benchmarks.flow import Flow, FlowConfig, OpKind
from nyquestro import BUILD_KIND
from nyquestro.domain.commands import Cancel, CancelReplace, Command, NewOrder
from nyquestro.domain.enums import OrdType, Side, TimeInForce
from nyquestro.domain.events import (
    Accepted,
    Cancelled,
    CancelRejected,
    EventBase,
    Execution,
    LevelAdded,
    LevelChanged,
    Rejected,
    Replaced,
    Trade,
)
from nyquestro.domain.reasons import CancelReason
from nyquestro.engine import Engine

TINY = FlowConfig(seed=7, warmup_orders=2_000, ops=2_000)

Op = tuple[OpKind, Command, list[EventBase]]


def run(cfg: FlowConfig) -> tuple[ReplayResult, list[Op]]:
    ops: list[Op] = []
    result = replay(cfg, on_op=lambda kind, cmd, events: ops.append((kind, cmd, events)))
    return result, ops


@pytest.fixture(scope="module")
def tiny() -> tuple[ReplayResult, list[Op]]:
    return run(TINY)


def test_mix_is_roughly_as_specified(tiny: tuple[ReplayResult, list[Op]]) -> None:
    _, ops = tiny
    assert len(ops) == TINY.ops
    share = {kind: sum(1 for k, _, _ in ops if k is kind) / len(ops) for kind in OpKind}
    # About four standard deviations of a binomial share at 2,000 draws.
    assert share[OpKind.ADD] == pytest.approx(0.45, abs=0.045)
    assert share[OpKind.CANCEL] == pytest.approx(0.40, abs=0.045)
    assert share[OpKind.MARKETABLE] == pytest.approx(0.10, abs=0.025)
    assert share[OpKind.REPLACE] == pytest.approx(0.05, abs=0.02)


def test_every_op_does_in_the_engine_what_its_kind_says(
    tiny: tuple[ReplayResult, list[Op]],
) -> None:
    for kind, cmd, events in tiny[1]:
        assert not [e for e in events if isinstance(e, Rejected | CancelRejected)], (cmd, events)
        trades = [e for e in events if isinstance(e, Trade)]
        if kind is OpKind.ADD:
            assert isinstance(cmd, NewOrder)
            assert (cmd.ord_type, cmd.tif) == (OrdType.LIMIT, TimeInForce.DAY)
            # Passive: accepted and resting, nothing traded.
            assert [type(e) for e in events] in ([Accepted, LevelAdded], [Accepted, LevelChanged])
        elif kind is OpKind.CANCEL:
            assert isinstance(cmd, Cancel)
            cancelled = [e for e in events if isinstance(e, Cancelled)]
            assert len(cancelled) == 1
            assert cancelled[0].reason is CancelReason.REQUESTED
        elif kind is OpKind.REPLACE:
            assert isinstance(cmd, CancelReplace)
            assert any(isinstance(e, Replaced) for e in events)
            assert not trades, "a replace is meant to stay passive"
        else:
            assert isinstance(cmd, NewOrder)
            self_matched = any(
                isinstance(e, Cancelled) and e.reason is CancelReason.SELF_MATCH for e in events
            )
            assert trades or self_matched, (cmd, events)


def test_marketable_orders_mostly_trade_and_self_match_is_rare(
    tiny: tuple[ReplayResult, list[Op]],
) -> None:
    result, ops = tiny
    marketable = [events for kind, _, events in ops if kind is OpKind.MARKETABLE]
    traded = sum(1 for events in marketable if any(isinstance(e, Execution) for e in events))
    assert traded >= 0.9 * len(marketable)
    assert result.counts.self_match_cancels <= 0.1 * len(marketable)


def test_the_flow_model_is_the_engine_book(tiny: tuple[ReplayResult, list[Op]]) -> None:
    result, _ = tiny
    engine_live = {
        o.order_id: (o.session, o.cl_ord_id, o.side, o.px, o.qty, o.cum_qty)
        for o in result.engine.live_orders()
    }
    flow_live = {
        oid: (o.session, o.cl_ord_id, o.side, o.px, o.qty, o.cum_qty)
        for oid, o in result.flow.live.items()
    }
    assert flow_live == engine_live
    size = book_size(result.engine)
    assert size.orders == len(engine_live)
    for sym in range(TINY.symbols):
        depth_bids = result.engine.depth(result.flow.symbols[sym], Side.BUY)
        depth_asks = result.engine.depth(result.flow.symbols[sym], Side.SELL)
        assert result.flow.best_bid(sym) == depth_bids[0][0]
        assert result.flow.best_ask(sym) == depth_asks[0][0]


def test_replay_reports_what_happened(tiny: tuple[ReplayResult, list[Op]]) -> None:
    result, ops = tiny
    assert result.ops == len(ops)
    assert result.events == sum(len(events) for _, _, events in ops)
    assert result.kinds == {kind: sum(1 for k, _, _ in ops if k is kind) for kind in OpKind}
    assert list(result.op_kinds) == [int(k) for k, _, _ in ops]
    assert result.counts.trades == sum(
        1 for _, _, events in ops for e in events if isinstance(e, Trade)
    )
    assert all(ns > 0 for ns in result.latencies_ns)
    assert result.engine_ns == sum(result.latencies_ns) <= result.wall_ns


def test_a_seed_names_one_command_sequence(tiny: tuple[ReplayResult, list[Op]]) -> None:
    result, ops = tiny
    again, ops_again = run(TINY)
    assert [(k, c) for k, c, _ in ops_again] == [(k, c) for k, c, _ in ops]
    assert again.engine.state_hash() == result.engine.state_hash()
    other, ops_other = run(FlowConfig(seed=TINY.seed + 1, warmup_orders=2_000, ops=2_000))
    assert [c for _, c, _ in ops_other] != [c for _, c, _ in ops]
    assert other.engine.state_hash() != result.engine.state_hash()


def test_warmup_builds_a_passive_book_over_many_levels() -> None:
    flow, engine = warm_up(TINY)
    size = book_size(engine)
    assert size.orders == TINY.warmup_orders
    assert flow.counts.trades == 0
    assert min(size.bid_levels, size.ask_levels) >= 100


def test_warmup_needs_no_observer_to_stay_passive() -> None:
    # The memory step feeds the warm-up without bookkeeping; it must build the same book.
    _, observed = warm_up(TINY)
    flow = Flow(TINY)
    engine = Engine(flow.instruments())
    for cmd in flow.warmup():
        events = engine.process(cmd)
        assert not any(isinstance(e, Execution) for e in events)
    assert engine.state_hash() == observed.state_hash()


def test_bytes_per_resting_order_counts_the_warmup_book() -> None:
    per_order, orders = bytes_per_resting_order(TINY)
    assert orders == TINY.warmup_orders
    # An order is at least its own record and its ClOrdID; anything near a megabyte
    # would mean the measurement caught something other than the book.
    assert 100 < per_order < 100_000


@pytest.mark.parametrize("gc_mode", ["freeze", "off"])
def test_gc_modes_leave_the_collector_as_they_found_it(gc_mode: str) -> None:
    result = replay(FlowConfig(seed=3, warmup_orders=500, ops=500), gc_mode=gc_mode)
    assert result.ops == 500
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_the_command_line_prints_the_table_and_the_profile() -> None:
    out = io.StringIO()
    assert main(["--ops", "300", "--warmup", "300"], Console(file=out, width=200)) == 0
    text = out.getvalue()
    for figure in ("ops/s (engine time)", "latency p99", "bytes per resting order", "python"):
        assert figure in text
    out = io.StringIO()
    assert main(["--ops", "300", "--warmup", "300", "--profile"], Console(file=out)) == 0
    assert "tottime" in out.getvalue()
    if BUILD_KIND == "compiled":
        assert "NYQUESTRO_PURE=1" in out.getvalue()
    else:
        assert "engine.py" in out.getvalue()


@pytest.mark.parametrize("risk", ["limits", "full"])
def test_risk_limits_change_no_decision_and_every_check_runs(
    risk: str, tiny: tuple[ReplayResult, list[Op]]
) -> None:
    # The limits are set never to be reached: the same flow makes the same events as with
    # none, while the engine holds the limits (and, with "full", samples every holder).
    _, ops = tiny
    result, ops_risk = run(replace(TINY, risk=risk))
    assert [_unsequenced(c, e) for _, c, e in ops_risk] == [_unsequenced(c, e) for _, c, e in ops]
    settings = result.engine.settings
    assert len(settings.accounts) == TINY.sessions
    assert all(a.max_gross_notional and a.max_long for a in settings.accounts.values())
    assert all(i.price_band_pct and i.max_notional for i in settings.instruments.values())
    monitored = [a.max_pnl_variance is not None for a in settings.accounts.values()]
    assert all(monitored) if risk == "full" else not any(monitored)
    assert not result.engine.kill_switches()
    assert not any(result.engine.is_halted(sym) for sym in result.flow.symbols)


def test_an_unknown_risk_level_is_refused() -> None:
    with pytest.raises(ValueError, match="risk must be one of"):
        FlowConfig(risk="some")


def _unsequenced(cmd: Command, events: list[EventBase]) -> list[dict[str, object]]:
    """A command and its events without their sequence numbers (a Configure shifts them)."""
    return [{k: v for k, v in asdict(x).items() if k != "seq"} for x in (cmd, *events)]
