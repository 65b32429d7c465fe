"""The PyLOB benchmark runs end to end against a stand-in book with PyLOB's interface.

CI has no PyLOB checkout, so a small price-time book below answers the same calls
(`processOrder` in its replay form, `cancelOrder`, `modifyOrder`, `depth`). Both books in
the race must then make exactly the trades, cancels and final book the engine made; no
timing is asserted. The bad-path tests check the error that names the path.
"""

import io
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from rich.console import Console

from benchmarks.peer_bench import (
    Peer,
    PeerNotFound,
    check,
    flow_config,
    load_pylob,
    main,
    race,
    record,
)


class StandInError(Exception):
    """What the stand-in raises for a call PyLOB would refuse."""


class Fill(NamedTuple):
    qty: int


@dataclass(slots=True)
class Resting:
    id_num: int
    side: str
    price: float | None
    qty: int
    filled: int = 0


class StandInBook:
    """Price-time priority, trades at the maker's price, self-matching allowed, one symbol."""

    def __init__(self) -> None:
        self.levels: dict[str, dict[float, dict[int, Resting]]] = {"bid": {}, "ask": {}}
        self.orders: dict[int, Resting] = {}
        self.traders: set[int] = set()

    def configure_instrument(self, symbol: str, currency: str, /) -> None:
        assert (symbol, currency) == ("SYM0", "USD")

    def configure_trader(self, tid: int, /, *, allow_self_matching: bool) -> None:
        assert allow_self_matching, "the race turns self-match prevention off"
        self.traders.add(tid)

    def processOrder(self, quote: dict[str, Any], from_data: bool, /) -> tuple[list[Fill], Any]:  # noqa: N802
        assert from_data, "the race replays its own order ids"
        assert quote["tid"] in self.traders
        order = Resting(quote["idNum"], quote["side"], quote.get("price"), quote["qty"])
        if order.id_num in self.orders:
            raise StandInError(f"idNum {order.id_num} is already in use")
        self.orders[order.id_num] = order
        return self._match_and_rest(order, market=quote["type"] == "market"), quote

    def cancelOrder(self, side: str | None, id_num: int, time: int, /) -> Resting:  # noqa: N802
        order = self._resting(id_num)
        self._take_out(order)
        return order

    def modifyOrder(  # noqa: N802
        self, id_num: int, update: dict[str, Any], time: int, /
    ) -> tuple[list[Fill], Any]:
        order = self._resting(id_num)
        if update["price"] == order.price and update["qty"] <= order.qty:
            order.qty = update["qty"]  # a decrease keeps the order's place in its queue
            return [], update
        self._take_out(order)
        order.price, order.qty = update["price"], update["qty"]
        return self._match_and_rest(order, market=False), update

    def depth(self, instrument: str, side: str, /) -> list[tuple[float, int]]:
        levels = self.levels[side]
        prices = sorted(levels, reverse=side == "bid")
        return [(px, sum(o.qty - o.filled for o in levels[px].values())) for px in prices]

    def _match_and_rest(self, taker: Resting, *, market: bool) -> list[Fill]:
        fills = []
        opposite = self.levels["ask" if taker.side == "bid" else "bid"]
        while taker.filled < taker.qty and opposite:
            best = (min if taker.side == "bid" else max)(opposite)
            crosses = taker.price is None or (
                best <= taker.price if taker.side == "bid" else best >= taker.price
            )
            if not crosses:
                break
            maker = next(iter(opposite[best].values()))
            qty = min(taker.qty - taker.filled, maker.qty - maker.filled)
            taker.filled += qty
            maker.filled += qty
            fills.append(Fill(qty))
            if maker.filled == maker.qty:
                self._take_out(maker)
        if taker.filled < taker.qty and not market:
            self.levels[taker.side].setdefault(_price(taker), {})[taker.id_num] = taker
        return fills

    def _resting(self, id_num: int) -> Resting:
        order = self.orders.get(id_num)
        if order is None or order.price is None:
            raise StandInError(f"order {id_num} never rested")
        if id_num not in self.levels[order.side].get(order.price, {}):
            raise StandInError(f"order {id_num} is not resting")
        return order

    def _take_out(self, order: Resting) -> None:
        levels = self.levels[order.side]
        level = levels[_price(order)]
        del level[order.id_num]
        if not level:
            del levels[_price(order)]


def _price(order: Resting) -> float:
    assert order.price is not None, "only limit orders rest"
    return order.price


STAND_IN = Peer(name="stand-in", make_book=StandInBook, error=StandInError, origin="stand-in book")


@pytest.mark.parametrize("kind", ["simple", "itch"])
def test_both_books_make_the_same_trades_cancels_and_final_book(kind: str) -> None:
    # A thin warm-up makes the ITCH flow's IOC limits leave remainders now and then.
    cfg = flow_config(kind, seed=3, ops=900, warmup=60)
    result = race(record(kind, cfg), STAND_IN, slice_ops=200)

    ours, theirs = result.nyquestro, result.peer
    assert result.slices == len(result.slice_ratios) == 5
    assert all(r > 0 for r in result.slice_ratios)
    assert result.slice_ratios == sorted(result.slice_ratios)
    assert len(ours.latencies_ns) == len(theirs.latencies_ns) == 900
    assert all(ns > 0 for ns in ours.latencies_ns)
    assert all(ns > 0 for ns in theirs.latencies_ns)
    assert check(result) == []
    # The warm-ups are passive orders only: every trade of the recording is a measured one.
    assert ours.trades == theirs.trades == result.recording.trades
    assert ours.trades > 0 and ours.cancels > 0
    assert ours.traded_qty == theirs.traded_qty
    assert ours.depth == theirs.depth and ours.depth[0] and ours.depth[1]
    if kind == "itch":
        assert ours.ioc_remainders == theirs.ioc_remainders > 0


def test_a_book_that_drifts_from_the_engine_is_reported() -> None:
    class ForgetfulBook(StandInBook):
        def cancelOrder(self, side: str | None, id_num: int, time: int, /) -> Resting:  # noqa: N802
            return self.orders[id_num]  # says yes, cancels nothing

    peer = Peer(name="forgetful", make_book=ForgetfulBook, error=StandInError, origin="")
    result = race(record("simple", flow_config("simple", seed=5, ops=300)), peer)
    assert "the books at the end differ (price levels or quantities)" in check(result)


def test_main_prints_both_rates_and_the_ratio() -> None:
    out = io.StringIO()
    argv = ["--pylob", "unused", "--ops", "300", "--warmup", "40", "--slice", "100"]
    assert main(argv, Console(file=out, width=200), STAND_IN) == 0
    text = out.getvalue()
    for flow in ("simple", "itch"):
        assert f"Nyquestro vs stand-in: {flow} flow, seed 1" in text
    assert text.count("ratio Nyquestro / stand-in") == 2
    assert text.count("median of slice ratios") == 2
    assert "disagreement" not in text


def test_a_path_without_pylob_gets_an_error_naming_it(tmp_path: Path) -> None:
    out = io.StringIO()
    assert main(["--pylob", str(tmp_path), "--ops", "10"], Console(file=out, width=300)) == 2
    text = out.getvalue()
    assert f"--pylob {tmp_path}: no PyLOB package there" in text
    assert str(tmp_path / "src" / "PyLOB" / "__init__.py") in text


def test_a_package_named_pylob_without_its_api_is_refused(tmp_path: Path) -> None:
    package = tmp_path / "PyLOB"
    package.mkdir()
    (package / "__init__.py").write_text("class OrderBook:\n    pass\n")
    with pytest.raises(PeerNotFound, match="missing: processOrder, cancelOrder, modifyOrder"):
        load_pylob(tmp_path)
    assert "PyLOB" not in sys.modules


def test_a_checkout_that_fails_to_import_is_reported_and_left_unimported(tmp_path: Path) -> None:
    package = tmp_path / "src" / "PyLOB"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("from . import engine\n")
    (package / "engine.py").write_text("raise SyntaxError('2013 code')\n")
    with pytest.raises(PeerNotFound, match=r"importing .*src/PyLOB failed: SyntaxError"):
        load_pylob(tmp_path)
    assert not [name for name in sys.modules if name.split(".")[0] == "PyLOB"]


@pytest.fixture
def forget_pylob() -> Iterator[None]:
    yield
    for name in [m for m in sys.modules if m.split(".")[0] == "PyLOB"]:
        del sys.modules[name]


@pytest.mark.skipif(
    "PYLOB_CHECKOUT" not in os.environ,
    reason="set PYLOB_CHECKOUT to a DrAshBooth/PyLOB checkout to race the real book",
)
@pytest.mark.usefixtures("forget_pylob")
def test_the_real_pylob_makes_the_engines_trades() -> None:
    out = io.StringIO()
    argv = ["--pylob", os.environ["PYLOB_CHECKOUT"], "--ops", "600", "--warmup", "60"]
    assert main(argv, Console(file=out, width=200)) == 0, out.getvalue()
    assert "run unmodified (no shims)" in out.getvalue()
