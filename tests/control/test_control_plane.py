"""The control plane against a real venue: `nyquestro serve` in a subprocess, FIX clients
over TCP, and a gRPC client on the control plane's port.

Queries see what the FIX clients did; actions are carried out by the venue (the FIX
client sees their effect) and refused with a status that names the problem."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from sqlalchemy import select

from nyquestro.control import control_pb2 as pb
from nyquestro.control.client import ControlClient
from nyquestro.store.database import create_db_engine
from nyquestro.store.models import OperatorRequest
from tests.control.conftest import OPERATOR, VIEWER, ControlServer, eventually
from tests.fix.client import FixClient
from tests.fix.conftest import Venue, free_port, rest

BUY, SELL = "1", "2"


def instrument(client: ControlClient, symbol: str) -> pb.Instrument:
    listed = client.stub.ListInstruments(pb.ListInstrumentsRequest(), **client.call())
    return next(i for i in listed.instruments if i.symbol == symbol)


def status_of(call: object) -> grpc.RpcError:
    """The error a call raised (the test fails if it raised none)."""
    assert callable(call)
    with pytest.raises(grpc.RpcError) as raised:
        call()
    return raised.value


def test_every_call_needs_a_known_token(server: ControlServer) -> None:
    with ControlClient(server.control_address, "not-a-token") as stranger:
        error = status_of(
            lambda: stranger.stub.ListInstruments(pb.ListInstrumentsRequest(), **stranger.call())
        )
    assert error.code() is grpc.StatusCode.UNAUTHENTICATED
    assert "unknown token" in (error.details() or "")
    with ControlClient(server.control_address, "") as anonymous:
        error = status_of(
            lambda: anonymous.stub.GetEngineStats(pb.GetEngineStatsRequest(), **anonymous.call())
        )
    assert error.code() is grpc.StatusCode.UNAUTHENTICATED
    assert "authorization: Bearer" in (error.details() or "")


def test_a_watching_token_may_query_but_not_act(server: ControlServer) -> None:
    with server.client(VIEWER) as watcher:
        listed = watcher.stub.ListInstruments(pb.ListInstrumentsRequest(), **watcher.call())
        assert "AAPL" in [i.symbol for i in listed.instruments]
        error = status_of(
            lambda: watcher.stub.Halt(pb.HaltRequest(symbol="AAPL"), **watcher.call())
        )
    assert error.code() is grpc.StatusCode.PERMISSION_DENIED
    assert "watcher" in (error.details() or "")


def test_queries_see_what_fix_clients_did(venue: Venue, ops: ControlClient) -> None:
    buyer = venue.client("CLIENT1", "FIX.4.4")
    seller = venue.client("CLIENT2", "FIX.4.4")
    resting = rest(buyer, "MSFT", BUY, 300, "419.50")
    rest(buyer, "MSFT", BUY, 100, "419.00")
    seller.new_order("MSFT", SELL, 120, "419.50")
    fill = buyer.expect("8", {11: resting, 150: "F"})
    order_id = int(fill[37])

    book = ops.stub.GetBook(pb.GetBookRequest(symbol="MSFT"), **ops.call())
    assert [(level.px, level.qty, level.orders) for level in book.bids] == [
        (41950, 180, 1),
        (41900, 100, 1),
    ]
    assert not book.asks
    msft = instrument(ops, "MSFT")
    assert (msft.state, msft.last_trade_px, msft.tick_size) == (pb.Instrument.OPEN, 41950, "0.01")

    def partially_filled() -> pb.ListOrdersResponse | None:
        page = ops.stub.ListOrders(
            pb.ListOrdersRequest(symbol="MSFT", status="partially_filled"), **ops.call()
        )
        return page if page.orders else None

    (order,) = eventually(partially_filled).orders
    assert (order.order_id, order.cl_ord_id, order.cum_qty, order.leaves_qty) == (
        order_id,
        resting,
        120,
        180,
    )
    fills = ops.stub.ListExecutions(pb.ListExecutionsRequest(order_id=order_id), **ops.call())
    assert [(e.qty, e.px, e.aggressor) for e in fills.executions] == [(120, 41950, False)]

    history = ops.stub.GetOrderHistory(pb.GetOrderHistoryRequest(order_id=order_id), **ops.call())
    assert history.complete
    assert [e.type for e in history.events] == ["accepted", "partially_filled"]
    assert json.loads(history.events[1].fields_json)["px"] == "419.50"
    stats = ops.stub.GetEngineStats(pb.GetEngineStatsRequest(), **ops.call())
    assert stats.last_seq >= history.events[-1].seq
    assert stats.commands_per_second > 0


def test_orders_come_a_page_at_a_time(venue: Venue, ops: ControlClient) -> None:
    client = venue.client("CLIENT3", "FIX.4.2")
    for i in range(5):
        rest(client, "IBM", BUY, 10 + i, "170.00")

    def all_five() -> list[pb.Order] | None:
        got: list[pb.Order] = []
        token = ""
        while True:
            page = ops.stub.ListOrders(
                pb.ListOrdersRequest(symbol="IBM", status="open", page_size=2, page_token=token),
                **ops.call(),
            )
            got += page.orders
            token = page.next_page_token
            if not token:
                return got if len(got) == 5 else None

    orders = eventually(all_five)
    assert [o.qty for o in orders] == [10, 11, 12, 13, 14]
    error = status_of(
        lambda: ops.stub.ListOrders(pb.ListOrdersRequest(status="resting"), **ops.call())
    )
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "status 'resting'" in (error.details() or "")


def test_halt_and_resume_with_who_asked_recorded(
    server: ControlServer, venue: Venue, ops: ControlClient
) -> None:
    client = venue.client("CLIENT1", "FIX.4.2")
    halted = ops.stub.Halt(pb.HaltRequest(symbol="ESZ6", reason="news pending"), **ops.call())
    assert [e.type for e in halted.events] == ["halted"]
    try:
        cl_ord_id = client.new_order("ESZ6", BUY, 1, "6000.00")
        reject = client.expect("8", {11: cl_ord_id})
        assert reject[39] == "8", reject
        state = instrument(ops, "ESZ6")
        assert (state.state, state.halt_reason) == (pb.Instrument.HALTED, "news pending")
        again = status_of(lambda: ops.stub.Halt(pb.HaltRequest(symbol="ESZ6"), **ops.call()))
        assert again.code() is grpc.StatusCode.FAILED_PRECONDITION
        assert again.details() == "ESZ6 is already halted (news pending)"
    finally:
        resumed = ops.stub.Resume(pb.ResumeRequest(symbol="ESZ6"), **ops.call())
    assert [e.type for e in resumed.events] == ["resumed"]
    assert resumed.seq > halted.seq
    rest(client, "ESZ6", BUY, 1, "6000.00")
    error = status_of(lambda: ops.stub.Resume(pb.ResumeRequest(symbol="ESZ6"), **ops.call()))
    assert error.code() is grpc.StatusCode.FAILED_PRECONDITION
    unknown = status_of(lambda: ops.stub.Halt(pb.HaltRequest(symbol="TSLA"), **ops.call()))
    assert unknown.code() is grpc.StatusCode.NOT_FOUND
    assert "unknown symbol 'TSLA'" in (unknown.details() or "")

    db = create_db_engine(str(server.store_db))
    with db.connect() as connection:
        row = connection.execute(
            select(OperatorRequest.kind, OperatorRequest.payload, OperatorRequest.ts).where(
                OperatorRequest.id == halted.request_id
            )
        ).one()
    assert row.kind == "halt"
    assert json.loads(row.payload) == {"by": "ops", "reason": "news pending", "symbol": "ESZ6"}
    assert row.ts > 0


def acknowledged(client: FixClient, symbol: str, side: str, qty: int, px: str) -> int:
    """Rest a limit order; its OrderID."""
    cl_ord_id = client.new_order(symbol, side, qty, px)
    ack = client.expect("8", {11: cl_ord_id})
    assert ack[150] == "0", ack
    return int(ack[37])


def test_an_operator_cancels_one_order_and_the_client_sees_it_unsolicited(
    venue: Venue, ops: ControlClient
) -> None:
    client = venue.client("CLIENT2", "FIX.4.4")
    order_id = acknowledged(client, "AAPL", BUY, 50, "185.00")
    other = acknowledged(client, "AAPL", BUY, 60, "184.00")
    done = ops.stub.CancelOrder(
        pb.CancelOrderRequest(order_id=order_id, reason="fat finger"), **ops.call()
    )
    assert done.summary == "1 order cancelled"
    assert [(e.type, e.order_id) for e in done.events if e.type == "cancelled"] == [
        ("cancelled", order_id)
    ]
    report = client.expect("8", {37: str(order_id), 150: "4"})
    assert report[39] == "4" and report[151] == "0"
    again = status_of(
        lambda: ops.stub.CancelOrder(pb.CancelOrderRequest(order_id=order_id), **ops.call())
    )
    assert again.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert again.details() == f"order {order_id} is not open: it is canceled"
    unknown = status_of(
        lambda: ops.stub.CancelOrder(pb.CancelOrderRequest(order_id=987654), **ops.call())
    )
    assert unknown.code() is grpc.StatusCode.NOT_FOUND
    assert unknown.details() == "unknown order 987654"
    book = ops.stub.GetBook(pb.GetBookRequest(symbol="AAPL"), **ops.call())
    assert [(level.px, level.qty) for level in book.bids] == [(18400, 60)]
    ops.stub.CancelOrder(pb.CancelOrderRequest(order_id=other), **ops.call())


def test_mass_cancel_by_account_and_symbol(venue: Venue, ops: ControlClient) -> None:
    one = venue.client("CLIENT3", "FIX.4.4")
    two = venue.client("CLIENT1", "FIX.4.4")
    for client in (one, two):
        acknowledged(client, "IBM", SELL, 10, "181.00")
        acknowledged(client, "MSFT", SELL, 10, "421.00")
    nothing = status_of(lambda: ops.stub.MassCancel(pb.MassCancelRequest(), **ops.call()))
    assert nothing.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "all=true" in (nothing.details() or "")
    done = ops.stub.MassCancel(pb.MassCancelRequest(symbol="IBM"), **ops.call())
    assert done.summary == "2 orders cancelled"
    for client in (one, two):
        client.expect("8", {55: "IBM", 150: "4"})
    book = ops.stub.GetBook(pb.GetBookRequest(symbol="MSFT"), **ops.call())
    assert [(level.px, level.qty, level.orders) for level in book.asks] == [(42100, 20, 2)]
    ops.stub.MassCancel(pb.MassCancelRequest(all=True), **ops.call())
    assert not ops.stub.GetBook(pb.GetBookRequest(symbol="MSFT"), **ops.call()).asks


def test_a_kill_switch_engaged_and_released(venue: Venue, ops: ControlClient) -> None:
    client = venue.client("CLIENT4", "FIX.4.2")
    acknowledged(client, "AAPL", SELL, 5, "195.00")
    engaged = ops.stub.SetKillSwitch(
        pb.SetKillSwitchRequest(engage=True, account="CLIENT4", reason="runaway algo"),
        **ops.call(),
    )
    assert engaged.summary == "kill switch engaged for account CLIENT4; 1 order cancelled"
    client.expect("8", {150: "4"})
    switches = ops.stub.ListKillSwitches(pb.ListKillSwitchesRequest(), **ops.call()).engaged
    assert [(k.scope, k.name, k.reason) for k in switches] == [
        ("account", "CLIENT4", "runaway algo")
    ]
    twice = status_of(
        lambda: ops.stub.SetKillSwitch(
            pb.SetKillSwitchRequest(engage=True, account="CLIENT4"), **ops.call()
        )
    )
    assert twice.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert twice.details() == "the kill switch for account CLIENT4 is already engaged"
    ops.stub.SetKillSwitch(pb.SetKillSwitchRequest(engage=False, account="CLIENT4"), **ops.call())
    assert not ops.stub.ListKillSwitches(pb.ListKillSwitchesRequest(), **ops.call()).engaged
    acknowledged(client, "AAPL", SELL, 5, "195.00")


def nyquestro(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI, with no operator token from this environment."""
    environment = {**os.environ}
    environment.pop("NYQUESTRO_OPERATOR_TOKEN", None)
    command = [sys.executable, "-m", "nyquestro", *args]
    return subprocess.run(
        command, check=False, capture_output=True, text=True, timeout=60, env=environment
    )


def test_the_operator_commands_go_through_the_control_plane(
    server: ControlServer, venue: Venue, tmp_path: Path
) -> None:
    through = (
        "--connect",
        server.control_address,
        "--token",
        OPERATOR,
        "--db",
        str(server.store_db),
    )
    halted = nyquestro("halt", "IBM", "--reason", "cli test", *through)
    assert halted.returncode == 0, halted.stderr
    assert re.search(
        r"halt IBM: done as command \d+ \(request \d+\): IBM halted \(cli test\)", halted.stderr
    )
    twice = nyquestro("halt", "IBM", *through)
    assert twice.returncode == 1
    assert (
        "halt IBM: refused (FAILED_PRECONDITION): IBM is already halted (cli test)" in twice.stderr
    )
    resumed = nyquestro("resume", "IBM", *through)
    assert resumed.returncode == 0, resumed.stderr
    closed = nyquestro("phase", "post_close", "--symbol", "IBM", *through)
    assert closed.returncode == 0, closed.stderr
    assert "move IBM to post_close: done as command" in closed.stderr
    reopened = nyquestro("phase", "continuous", *through)
    assert reopened.returncode == 0, reopened.stderr
    assert "move every symbol to continuous: done" in reopened.stderr
    lunch = nyquestro("phase", "lunch", *through)
    assert lunch.returncode == 2 and "invalid choice: 'lunch'" in lunch.stderr
    scope = nyquestro("kill-switch", "engage", "--session", "NOSUCH", "--account", "A", *through)
    assert scope.returncode == 2
    watcher = nyquestro("halt", "IBM", "--connect", server.control_address, "--token", VIEWER)
    assert watcher.returncode == 1
    assert "PERMISSION_DENIED" in watcher.stderr


def test_with_the_venue_down_a_command_is_queued_in_the_store(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    queued = nyquestro("halt", "IBM", "--connect", f"127.0.0.1:{free_port()}", "--token",
                       OPERATOR, "--db", str(db))  # fmt: skip
    assert queued.returncode == 0, queued.stderr
    assert "is not answering" in queued.stderr and "request 1 queued: halt IBM" in queued.stderr
    with create_db_engine(str(db)).connect() as connection:
        (payload,) = connection.execute(select(OperatorRequest.payload)).one()
    assert json.loads(payload)["by"].startswith("cli:")


def test_risk_shows_positions_pnl_and_limits_and_a_limit_changes_live(
    venue: Venue, ops: ControlClient
) -> None:
    buyer = venue.client("CLIENT5", "FIX.4.4")  # trades for account LIMITED
    seller = venue.client("CLIENT3", "FIX.4.4")
    acknowledged(seller, "IBM", SELL, 40, "180.00")
    buyer.new_order("IBM", BUY, 30, "180.00")
    buyer.expect("8", {150: "F"})
    risk = ops.stub.GetRisk(pb.GetRiskRequest(account="LIMITED"), **ops.call())
    (limited,) = risk.accounts
    (ibm,) = [p for p in limited.positions if p.symbol == "IBM"]
    assert (ibm.position, ibm.open_buy, ibm.open_sell) == (30, 0, 0)
    assert (ibm.realised_pnl, ibm.unrealised_pnl) == ("0.00", "0.00")

    changed = ops.stub.SetLimit(
        pb.SetLimitRequest(account="LIMITED", limit="max_qty", value="5"), **ops.call()
    )
    assert "max_qty" in changed.summary and [e.type for e in changed.events] == ["configured"]
    limits = ops.stub.GetRisk(pb.GetRiskRequest(account="LIMITED"), **ops.call())
    assert limits.accounts[0].limits["max_qty"] == "5"
    too_big = buyer.new_order("IBM", BUY, 6, "170.00")
    assert buyer.expect("8", {11: too_big})[39] == "8"
    ops.stub.SetLimit(pb.SetLimitRequest(account="LIMITED", limit="max_qty", value=""),
                      **ops.call())  # fmt: skip
    assert (
        "max_qty"
        not in ops.stub.GetRisk(pb.GetRiskRequest(account="LIMITED"), **ops.call())
        .accounts[0]
        .limits
    )
    acknowledged(buyer, "IBM", BUY, 6, "170.00")

    bad = status_of(
        lambda: ops.stub.SetLimit(
            pb.SetLimitRequest(account="LIMITED", limit="max_qty", value="lots"), **ops.call()
        )
    )
    assert bad.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert bad.details() == "max_qty: expected a whole number > 0 (or none), got 'lots'"
    unknown = status_of(
        lambda: ops.stub.SetLimit(
            pb.SetLimitRequest(session="x", limit="max_long", value="1"), **ops.call()
        )
    )
    assert unknown.details() == (
        "'max_long' is not a session limit: one of max_qty, max_notional, price_band_pct, "
        "price_band_ticks"
    )


def test_a_risk_check_switched_off_for_one_session(venue: Venue, ops: ControlClient) -> None:
    client = venue.client("CLIENT1", "FIX.4.2")
    session = "FIX.4.2:NYQUESTRO->CLIENT1"
    far = client.new_order("RSKY", BUY, 1, "120.00")  # outside RSKY's 5% band
    assert client.expect("8", {11: far})[39] == "8"
    ops.stub.SetRiskCheck(pb.SetRiskCheckRequest(session=session, check="price_band",
                                                 enabled=False), **ops.call())  # fmt: skip
    try:
        sessions = ops.stub.GetRisk(pb.GetRiskRequest(), **ops.call()).sessions
        assert [list(s.checks_off) for s in sessions if s.session == session] == [["price_band"]]
        acknowledged(client, "RSKY", BUY, 1, "120.00")
    finally:
        ops.stub.SetRiskCheck(pb.SetRiskCheckRequest(session=session, check="price_band",
                                                     enabled=True), **ops.call())  # fmt: skip
    again = client.new_order("RSKY", BUY, 1, "120.00")
    assert client.expect("8", {11: again})[39] == "8"
    bad = status_of(
        lambda: ops.stub.SetRiskCheck(
            pb.SetRiskCheckRequest(session=session, check="speed"), **ops.call()
        )
    )
    assert bad.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "unknown risk check 'speed'" in (bad.details() or "")


def test_sessions_show_their_numbers_and_activity(venue: Venue, ops: ControlClient) -> None:
    client = venue.client("CLIENT4", "FIX.4.4")
    acknowledged(client, "MSFT", BUY, 1, "410.00")
    key = "FIX.4.4:NYQUESTRO->CLIENT4"

    def active() -> pb.Session | None:
        sessions = ops.stub.ListSessions(pb.ListSessionsRequest(), **ops.call()).sessions
        found = [s for s in sessions if s.session_key == key]
        if found and found[0].next_target_seq >= 3 and found[0].HasField("last_outbound_ts"):
            return found[0]
        return None

    session = eventually(active)
    assert (session.state, session.sender_comp_id, session.target_comp_id) == (
        "logged_on",
        "NYQUESTRO",
        "CLIENT4",
    )
    assert session.heartbeat_interval == client.heartbeat
    assert session.last_inbound_ts > 0 and session.throttle_refusals == 0
    assert not session.HasField("queued_messages")  # reject-mode throttles hold nothing


def session_row(ops: ControlClient, key: str) -> pb.Session | None:
    sessions = ops.stub.ListSessions(pb.ListSessionsRequest(), **ops.call()).sessions
    return next((s for s in sessions if s.session_key == key), None)


def test_an_operator_logs_a_session_out_and_resets_its_numbers(
    server: ControlServer, venue: Venue, ops: ControlClient
) -> None:
    key = "FIX.4.2:NYQUESTRO->CLIENT3"
    client = venue.client("CLIENT3", "FIX.4.2")
    client.sync()
    eventually(lambda: ((row := session_row(ops, key)) and row.state == "logged_on") or None)
    done = ops.stub.ForceLogout(pb.ForceLogoutRequest(session=key, reason="end of test day"),
                                **ops.call())  # fmt: skip
    assert done.summary == f"{key} logged out"
    assert client.expect("5")[58] == "end of test day"
    client.send("5", [])
    assert client.hung_up()
    eventually(lambda: ((row := session_row(ops, key)) and row.state == "logged_out") or None)
    again = status_of(lambda: ops.stub.ForceLogout(pb.ForceLogoutRequest(session=key),
                                                   **ops.call()))  # fmt: skip
    assert again.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert again.details() == f"session {key} is not logged on"
    unknown = status_of(
        lambda: ops.stub.ResetSequence(
            pb.ResetSequenceRequest(session="FIX.4.4:NYQUESTRO->NOBODY"), **ops.call()
        )
    )
    assert unknown.code() is grpc.StatusCode.NOT_FOUND

    # Numbers well past 1 on both sides, then a reset: the client starts again at 1
    # without asking (no ResetSeqNumFlag), and the venue answers at 1.
    numbered = venue.client("CLIENT3", "FIX.4.2")
    for _ in range(3):
        numbered.sync()
    ops.stub.ResetSequence(pb.ResetSequenceRequest(session=key), **ops.call())
    assert numbered.expect("5")
    assert numbered.hung_up()
    # The session turns Logons away until its numbers are 1 again, then says so.
    eventually(
        lambda: ((row := session_row(ops, key)) and row.state == "logged_out"
                 and (row.next_sender_seq, row.next_target_seq) == (1, 1)) or None
    )  # fmt: skip
    fresh = venue.client("CLIENT3", "FIX.4.2", logon=False)
    answer = fresh.logon(reset=False)
    assert (answer[34], answer.get(141)) == ("1", None)
    fresh.sync()


def test_a_fault_is_refused_on_a_venue_without_the_fault_relay(
    server: ControlServer, ops: ControlClient
) -> None:
    refused = status_of(
        lambda: ops.stub.InjectFault(
            pb.InjectFaultRequest(session="FIX.4.4:NYQUESTRO->CLIENT1", fault="disconnect"),
            **ops.call(),
        )
    )
    assert refused.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert refused.details() == "the venue runs without the fault relay: set [fix] faults = true"


def test_an_opening_auction_run_from_the_control_plane(venue: Venue, ops: ControlClient) -> None:
    """The call collects crossing FIX orders without trading; its end uncrosses them at
    one price, and both owners get their fills."""
    buyer = venue.client("CLIENT1", "FIX.4.4")
    seller = venue.client("CLIENT2", "FIX.4.4")
    call = ops.stub.SetPhase(
        pb.SetPhaseRequest(phase="opening_auction", symbol="MSFT"), **ops.call()
    )
    assert "phase_changed" in [e.type for e in call.events]
    assert instrument(ops, "MSFT").phase == "opening_auction"
    try:
        buy = buyer.new_order("MSFT", BUY, 10, "401.00")
        assert buyer.expect("8", {11: buy})[150] == "0"
        sell = seller.new_order("MSFT", SELL, 6, "399.00")
        assert seller.expect("8", {11: sell})[150] == "0"
        for client in (buyer, seller):
            assert not [m for m in client.drain() if m.get(150) == "F"], "nothing trades in a call"
    finally:
        opened = ops.stub.SetPhase(
            pb.SetPhaseRequest(phase="continuous", symbol="MSFT"), **ops.call()
        )
    assert [e.type for e in opened.events][-1] == "phase_changed"
    assert instrument(ops, "MSFT").phase == "continuous"
    assert "trade" in [e.type for e in opened.events]
    # 6 trade at 399.00 or 401.00 with a buy surplus of 4 at both: market pressure, 401.00.
    bought = buyer.expect("8", {11: buy, 150: "F"})
    sold = seller.expect("8", {11: sell, 150: "F"})
    assert bought[31] == sold[31] == "401.00" and bought[32] == sold[32] == "6"
    refused = status_of(lambda: ops.stub.SetPhase(pb.SetPhaseRequest(phase="lunch"), **ops.call()))
    assert refused.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "continuous" in (refused.details() or "")
