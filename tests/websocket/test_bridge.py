"""The bridge through `nyquestro serve`: FIX clients move the book, WebSocket clients
watch it and trade. Every wait has a deadline; the venue runs in sync durability, so a
FIX client's report means its command is durable and its updates are on their way."""

import json
from decimal import Decimal
from urllib.request import urlopen

from tests.fix.conftest import apply_incremental, rest
from tests.fix.test_market_data import levels_of
from tests.websocket.client import Book
from tests.websocket.conftest import OTHER_TOKEN, TOKEN, WsVenue

BUY, SELL = "1", "2"
V44 = "FIX.4.4"


def test_subscribe_snapshot_then_updates_from_fix_orders(venue: WsVenue) -> None:
    a = venue.client("CLIENT1", V44)
    rest(a, "MSFT", BUY, 10, "419.00")
    rest(a, "MSFT", SELL, 7, "421.00")
    ws = venue.ws()
    assert "MSFT" in ws.symbols
    ws.send(type="subscribe", symbols=["MSFT"])
    snap = ws.expect("snapshot")
    assert snap["symbol"] == "MSFT"
    assert snap["bids"] == [["419.00", 10, 1]]
    assert snap["asks"] == [["421.00", 7, 1]]
    book = Book(snap)

    rest(a, "MSFT", BUY, 3, "419.00")
    update = ws.expect("update")
    assert update["changes"] == [{"side": "buy", "px": "419.00", "qty": 13, "orders": 2}]
    book.apply(update)
    low = rest(a, "MSFT", BUY, 5, "418.00")
    book.apply(ws.expect("update"))
    a.expect("8", {11: a.cancel(low, "MSFT", BUY, 5)})
    removal = ws.expect("update")
    assert removal["changes"] == [{"side": "buy", "px": "418.00", "qty": 0, "orders": 0}]
    book.apply(removal)
    assert book.levels == {("buy", "419.00"): 13, ("sell", "421.00"): 7}

    ws.send(type="unsubscribe", symbols=["MSFT"])
    assert ws.expect("unsubscribed")["symbols"] == ["MSFT"]
    rest(a, "MSFT", BUY, 1, "417.00")
    a.sync()
    ws.send(type="subscribe", symbols=["IBM"])  # a barrier: answered after any update
    ws.expect("snapshot")
    assert not [m for m in ws.inbox if m["type"] == "update"], "no updates after unsubscribe"


def test_trades_reach_the_tape(venue: WsVenue) -> None:
    a = venue.client("CLIENT1", V44)
    b = venue.client("CLIENT2", V44)
    ws = venue.ws()
    ws.send(type="subscribe", symbols=["IBM"])
    ws.expect("snapshot")
    rest(a, "IBM", SELL, 10, "181.00")
    ws.expect("update")
    b.new_order("IBM", BUY, 4, "181.00")
    b.expect("8", {150: "F"})
    trade = ws.expect("trade")
    assert (trade["symbol"], trade["px"], trade["qty"], trade["aggressor"]) == (
        "IBM", "181.00", 4, "buy",
    )  # fmt: skip
    assert ws.expect("update")["changes"] == [
        {"side": "sell", "px": "181.00", "qty": 6, "orders": 1}
    ]
    # A late subscriber finds the trade in its snapshot's tape.
    late = venue.ws()
    late.send(type="subscribe", symbols=["IBM"])
    tape = late.expect("snapshot")["trades"]
    assert tape[-1]["trade_id"] == trade["trade_id"]


def test_own_orders_for_a_token(venue: WsVenue) -> None:
    alice = venue.ws()
    assert alice.login(TOKEN) == {"v": 1, "type": "logged_in", "name": "alice",
                                  "account": "WSALICE"}  # fmt: skip
    watcher = venue.ws()
    watcher.login(OTHER_TOKEN)
    buy = alice.new_order("AAPL", "buy", 100, "189.00")
    ack = alice.order("ack", buy)
    assert (ack["side"], ack["qty"], ack["px"], ack["tif"]) == ("buy", 100, "189.00", "day")

    fix = venue.client("CLIENT2", V44)
    fix.new_order("AAPL", SELL, 30, "189.00")
    fix.expect("8", {150: "F"})
    fill = alice.order("fill", buy)
    assert (fill["px"], fill["qty"], fill["cum_qty"], fill["leaves_qty"]) == ("189.00", 30, 30, 70)

    cancel_id = "WXC" + buy
    alice.send(type="cancel", cl_ord_id=cancel_id, orig_cl_ord_id=buy)
    done = alice.order("cancel", cancel_id)
    assert (done["orig_cl_ord_id"], done["cancelled_qty"], done["reason"]) == (
        buy, 70, "requested",
    )  # fmt: skip
    bad = alice.new_order("RSKY", "buy", 10, "50.00")
    reject = alice.order("reject", bad)
    assert reject["reason"] == "price_outside_band", reject
    # The engine refuses what the bridge passes on; the bridge refuses what it cannot.
    alice.new_order("AAPL", "buy", 1, "189.001")
    assert "px" in alice.expect("error", lambda m: m["code"] == "bad_field")["text"]

    # bob sees none of alice's orders.
    watcher.send(type="subscribe", symbols=["ESZ6"])
    watcher.expect("snapshot")
    assert not [m for m in watcher.inbox if m["type"] == "order"]


def test_orders_need_a_login_and_errors_keep_the_connection(venue: WsVenue) -> None:
    ws = venue.ws()
    ws.new_order("AAPL", "buy", 1, "189.00")
    assert ws.expect("error")["code"] == "not_logged_in"
    ws.orders.clear()
    ws.send(type="login", token="wrong")
    assert ws.expect("error")["code"] == "bad_token"
    ws.send_raw("{")
    assert ws.expect("error")["code"] == "malformed"
    ws.send_raw(json.dumps({"v": 1, "type": "login", "token": "x" * 4000}))
    assert ws.expect("error")["code"] == "too_large"
    ws.send(type="subscribe", symbols=["NOPE"])
    assert ws.expect("error")["code"] == "unknown_symbol"
    ws.send(type="subscribe", symbols=["AAPL"])
    assert ws.expect("snapshot")["symbol"] == "AAPL"


def test_the_demo_page_is_served_on_the_same_port(venue: WsVenue) -> None:
    with urlopen(f"http://127.0.0.1:{venue.ws_port}/", timeout=5) as page:
        assert page.headers["Content-Type"].startswith("text/html")
        html = page.read().decode()
    assert 'id="ladder"' in html and 'src="/app.js"' in html
    with urlopen(f"http://127.0.0.1:{venue.ws_port}/app.js", timeout=5) as script:
        assert "new WebSocket" in script.read().decode()


def test_a_client_offering_compression_gets_plain_frames(venue: WsVenue) -> None:
    ws = venue.ws()  # websockets' client offers permessage-deflate by default
    assert "permessage-deflate" in ws.ws.request.headers.get("Sec-WebSocket-Extensions", "")
    assert ws.ws.response.headers.get("Sec-WebSocket-Extensions") is None
    ws.send(type="subscribe", symbols=["AAPL"])
    assert ws.expect("snapshot")["symbol"] == "AAPL"


def test_fix_market_data_and_the_websocket_view_agree(venue: WsVenue) -> None:
    a = venue.client("CLIENT1", V44)
    b = venue.client("CLIENT2", V44)
    watcher = venue.client("CLIENT3", V44)
    alice = venue.ws()
    alice.login(TOKEN)
    ws = venue.ws()
    md = watcher.subscribe(["ESZ6"], entry_types=("0", "1", "2"))
    fix_book = levels_of(watcher.expect("W", {262: md}))
    ws.send(type="subscribe", symbols=["ESZ6"])
    ws_book = Book(ws.expect("snapshot"))

    # The same flow for both: resting orders, an iceberg, a sweep, a cancel, and an
    # order from the bridge itself.
    rest(a, "ESZ6", BUY, 5, "5999.00")
    rest(a, "ESZ6", BUY, 8, "5998.75")
    rest(a, "ESZ6", SELL, 4, "6001.00")
    rest(a, "ESZ6", SELL, 20, "6001.25", extra=[(111, 5)])
    gone = rest(a, "ESZ6", SELL, 2, "6002.00")
    alice.order("ack", alice.new_order("ESZ6", "sell", 3, "6000.50"))
    b.new_order("ESZ6", BUY, 12, "6001.25")
    b.expect("8", {150: "F", 151: "0"})
    a.expect("8", {11: a.cancel(gone, "ESZ6", SELL, 2)})
    b.new_order("ESZ6", SELL, 6, "5999.00")
    b.expect("8", {150: "F"})

    # Both views, folded from their updates, and fresh snapshots of both, agree.
    fix_trades = []
    for msg in watcher.drain():
        if msg.type == "X" and msg[262] == md:
            apply_incremental(fix_book, msg)
            fix_trades += [
                (Decimal(e[270]), int(e[271])) for e in msg.groups(268, 279) if e[269] == "2"
            ]
    ws.send(type="subscribe", symbols=["ESZ6"])
    fresh = ws.expect("snapshot", lambda m: m["seq"] > ws_book.seq)
    ws_trades = []
    for msg in list(ws.inbox):
        if msg["type"] == "update" and msg["seq"] <= fresh["seq"]:
            ws_book.apply(msg)
        elif msg["type"] == "trade":
            ws_trades.append((Decimal(msg["px"]), msg["qty"]))
    as_fix = {
        ("0" if side == "buy" else "1", Decimal(px)): qty
        for (side, px), qty in ws_book.levels.items()
    }
    assert as_fix == fix_book
    assert Book(fresh).levels == ws_book.levels
    assert ws_trades == fix_trades and len(ws_trades) >= 3
    assert as_fix == levels_of(watcher.expect("W", {262: watcher.subscribe(["ESZ6"], kind="0")}))


def test_the_book_comes_back_after_a_restart(venue: WsVenue) -> None:
    # A clean stop writes a snapshot: the restarted venue seeds the bridge's book from
    # the engine, then replays whatever the journal holds after it.
    a = venue.client("CLIENT1", V44)
    order = rest(a, "MSFT", SELL, 11, "430.00")
    a.orders.clear()
    a.logout()
    venue.server.restart(fresh=False)
    ws = venue.ws()
    ws.send(type="subscribe", symbols=["MSFT"])
    assert ["430.00", 11, 1] in ws.expect("snapshot")["asks"]
    again = venue.client("CLIENT1", V44)
    again.expect("8", {11: again.cancel(order, "MSFT", SELL), 150: "4"})
    assert ws.expect("update")["changes"][0]["qty"] == 0
