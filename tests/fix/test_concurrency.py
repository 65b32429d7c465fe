"""Two sessions race crossing orders into one book from two threads.

CLIENT1 (FIX 4.2) only buys, CLIENT2 (FIX 4.4) only sells, both at random prices around
one mid, so most orders cross something and the arrival order between the two sockets is
up to the venue. Whatever that order was, the reports must be consistent: each execution
reported to both sides exactly once, quantities conserved per order and in total, prices
within each order's limit, and a book that is not crossed at the end.
"""

import random
import threading
from collections import Counter
from decimal import Decimal

from tests.fix.client import FixClient, Msg
from tests.fix.conftest import Venue, reports, snapshot

BUY, SELL = "1", "2"
ORDERS_PER_SIDE = 150
BURST = 3
SYMBOL = "IBM"
BUYER = ("CLIENT1", "FIX.4.2")
SELLER = ("CLIENT2", "FIX.4.4")


def flow(seed: int, side: str) -> list[tuple[str, int, Decimal]]:
    rng = random.Random(seed)
    return [
        (side, rng.randint(1, 20), Decimal(rng.randint(9990, 10010)) / 100)
        for _ in range(ORDERS_PER_SIDE)
    ]


def race(clients: list[FixClient], flows: list[list[tuple[str, int, Decimal]]]) -> list[list[Msg]]:
    """Each client sends its flow from its own thread; returns everything each got."""
    results: list[list[Msg]] = [[] for _ in clients]
    errors: list[BaseException] = []
    start = threading.Barrier(len(clients))

    def run(index: int) -> None:
        client = clients[index]
        try:
            start.wait(timeout=10)
            # Short bursts, each ended by a round trip: the venue reads a socket's whole
            # buffer at once, so one long burst per client would hardly interleave.
            for n, (side, qty, price) in enumerate(flows[index], start=1):
                client.new_order(SYMBOL, side, qty, f"{price:.2f}")
                if n % BURST == 0:
                    client.sync()
            results[index] = client.drain(timeout=30)
        except BaseException as exc:  # handed to the main thread, which fails the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not [t for t in threads if t.is_alive()], "a client thread hung"
    assert not errors, errors
    # Each thread's drain proved its own orders processed, but reports caused by the
    # other thread's later orders may have followed; now every order is in, so one more
    # drain each collects the rest.
    for client, got in zip(clients, results, strict=True):
        got.extend(client.drain())
    return results


def test_two_sessions_racing_on_one_book(venue: Venue) -> None:
    buyer = venue.client(*BUYER)
    seller = venue.client(*SELLER)
    flows = [flow(1, BUY), flow(2, SELL)]
    got_buyer, got_seller = race([buyer, seller], flows)

    limits: dict[str, tuple[str, int, Decimal]] = {}
    for client, sent in ((buyer, flows[0]), (seller, flows[1])):
        limits.update(zip(client.orders, sent, strict=True))

    open_qty = {BUY: Counter[Decimal](), SELL: Counter[Decimal]()}
    executions: dict[str, Counter[tuple[Decimal, Decimal]]] = {}
    for name, got in (("buyer", got_buyer), ("seller", got_seller)):
        ers = reports(got)
        assert len(ers) == len(got), [m for m in got if m.type != "8"]
        exec_ids = [m[17] for m in ers]
        assert len(set(exec_ids)) == len(exec_ids), f"{name}: an ExecID repeated"
        executions[name] = Counter()
        by_order: dict[str, list[Msg]] = {}
        for er in ers:
            by_order.setdefault(er[11], []).append(er)
        for cl_ord_id, order_reports in by_order.items():
            side, qty, limit = limits[cl_ord_id]
            assert order_reports[0][150] == "0", order_reports
            assert not [m for m in order_reports if m[150] in ("4", "8")], order_reports
            cum = Decimal(0)
            notional = Decimal(0)
            for er in order_reports:
                assert Decimal(er[14]) + Decimal(er[151]) == qty, er
                if 32 in er:
                    last_qty, last_px = Decimal(er[32]), Decimal(er[31])
                    assert last_px <= limit if side == BUY else last_px >= limit, er
                    cum += last_qty
                    notional += last_qty * last_px
                    executions[name][(last_px, last_qty)] += 1
                assert Decimal(er[14]) == cum, f"CumQty is not the sum of the fills: {er}"
            final = order_reports[-1]
            if cum:
                assert Decimal(final[6]) == (notional / cum).quantize(Decimal("0.00000001"))
            assert final[39] == ("2" if cum == qty else "1" if cum else "0"), final
            if cum < qty:
                open_qty[side][limit] += qty - int(cum)
        assert len(by_order) == ORDERS_PER_SIDE, f"{name}: some orders got no report"

    # Every execution is reported to both sides, once each.
    assert executions["buyer"] == executions["seller"]
    assert sum(executions["buyer"].values()) > 0, "the flows were meant to cross"

    watcher = venue.client("CLIENT3", "FIX.4.4")
    book = snapshot(watcher, SYMBOL)
    bids = {p: q for (t, p), q in book.items() if t == "0"}
    offers = {p: q for (t, p), q in book.items() if t == "1"}
    assert not bids or not offers or max(bids) < min(offers), f"crossed book: {book}"
    assert bids == {p: q for p, q in open_qty[BUY].items() if q}
    assert offers == {p: q for p, q in open_qty[SELL].items() if q}
