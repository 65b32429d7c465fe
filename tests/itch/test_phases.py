"""Trading phases on the ITCH feed: Stock Trading Action follows each stock's phase (and
its halts), System Events 'Q'/'M' bracket market hours and 'S'/'E' system hours, and an
auction's indicative price is a Net Order Imbalance Indicator; snapshots and a real UDP
subscriber see them too."""

from collections.abc import Callable

from nyquestro.domain.commands import Command, Halt, NewOrder, Resume, SetPhase
from nyquestro.domain.enums import Side, TradingPhase
from nyquestro.domain.ids import Account, ClOrdId, Px, Qty, Seq, SessionKey, Symbol, Ts
from nyquestro.engine import Engine
from nyquestro.gateways.itch.feed import Batch, ItchFeed
from nyquestro.gateways.itch.framing import session_field
from nyquestro.gateways.itch.messages import (
    Message,
    NetOrderImbalance,
    OrderExecuted,
    StockTradingAction,
    SystemEvent,
    Unknown,
    decode,
)
from nyquestro.marketdata.builder import BookBuilder
from tests.itch.rig import INSTRUMENTS, assert_books_match, published, scale

AAPL = next(i for i in INSTRUMENTS if i.symbol == "AAPL")
STOCKS = sorted(i.symbol for i in INSTRUMENTS)
P = TradingPhase


class Day:
    """An engine and a feed in-process; each command's messages decoded, and a client
    book built from them checked against the engine's after every command."""

    def __init__(self) -> None:
        self.engine = Engine(INSTRUMENTS)
        self.builder = BookBuilder()
        self.sent: list[bytes] = []
        self.feed = ItchFeed(INSTRUMENTS, self.deliver, session=session_field("T"))
        self.seq = 0

    def deliver(self, _key: str, batch: object) -> None:
        assert isinstance(batch, Batch)
        self.sent.extend(batch.messages)

    def send(self, make: Callable[[Seq, Ts], Command]) -> list[Message | Unknown]:
        self.seq += 1
        command = make(Seq(self.seq), Ts(self.seq * 1_000))
        before = len(self.sent)
        self.feed.on_events(command, self.engine.process(command))
        out = [decode(data) for data in self.sent[before:]]
        for message in out:
            self.builder.apply(message)
        assert_books_match(self.engine, self.builder)
        return out

    def phase(self, to: TradingPhase, symbol: str | None = None) -> list[Message | Unknown]:
        target = None if symbol is None else Symbol(symbol)
        return self.send(lambda seq, ts: SetPhase(seq=seq, ts=ts, phase=to, symbol=target))

    def order(self, side: Side, qty: int, px: int) -> list[Message | Unknown]:
        return self.send(lambda seq, ts: order(seq, ts, side, qty, px))


def order(seq: Seq, ts: Ts, side: Side, qty: int, px: int) -> NewOrder:
    session = SessionKey(f"S{side.value}")
    return NewOrder(seq=seq, ts=ts, session=session, account=Account(session),
                    cl_ord_id=ClOrdId(f"c{seq}"), symbol=Symbol("AAPL"), side=side,
                    qty=Qty(qty), px=Px(px))  # fmt: skip


def states(messages: list[Message | Unknown]) -> list[tuple[str, str, str]]:
    return [(m.stock, m.state, m.reason) for m in messages if isinstance(m, StockTradingAction)]


def imbalances(messages: list[Message | Unknown]) -> list[NetOrderImbalance]:
    return [m for m in messages if isinstance(m, NetOrderImbalance)]


def events(messages: list[Message | Unknown]) -> list[str]:
    return [m.code for m in messages if isinstance(m, SystemEvent)]


def test_a_trading_day_shows_each_phase_market_hours_and_the_auctions_imbalances() -> None:
    day = Day()
    # The venue starts in continuous trading without a 'Q'; the first pre-open ends nothing.
    opening = day.phase(P.PRE_OPEN)
    assert states(opening) == [(s, "Q", "") for s in STOCKS] and events(opening) == []
    assert day.phase(P.OPENING_AUCTION) == []  # still quotation only: nothing to say

    assert imbalances(day.order(Side.BUY, 100, 10_100)) == []  # nothing would trade yet
    (noii,) = imbalances(day.order(Side.SELL, 60, 10_000))
    px = noii.reference
    assert px in (10_000 * scale(AAPL), 10_100 * scale(AAPL))
    assert (noii.stock, noii.paired, noii.imbalance, noii.direction) == ("AAPL", 60, 40, "B")
    assert (noii.far, noii.near, noii.cross, noii.variation) == (px, px, "O", "L")
    assert noii.locate == 1 and noii.tracking == day.seq

    uncross = day.phase(P.CONTINUOUS)
    kinds = [type(m).__name__ for m in uncross]
    assert (
        kinds.index("OrderExecuted")
        < kinds.index("SystemEvent")
        == kinds.index("StockTradingAction") - 1
    ), "the cross prints, then market hours start, then each stock trades"
    assert sum(m.shares for m in uncross if isinstance(m, OrderExecuted)) == 60
    assert events(uncross) == ["Q"] and states(uncross) == [(s, "T", "") for s in STOCKS]

    closing = day.phase(P.CLOSING_AUCTION)
    assert states(closing) == [(s, "Q", "") for s in STOCKS] and events(closing) == []
    (noii,) = imbalances(day.order(Side.SELL, 50, 10_100))
    assert (noii.paired, noii.imbalance, noii.direction, noii.cross) == (40, 10, "S", "C")
    assert noii.reference == 10_100 * scale(AAPL)

    close = day.phase(P.POST_CLOSE)
    assert states(close) == [(s, "H", "CLSD") for s in STOCKS]
    assert events(close) == ["M"] and isinstance(close[-1], SystemEvent), "after the last"
    assert events(day.phase(P.CLOSED)) == ["E"]  # closed shows as post-close did

    # The next day: one 'Q' and one 'M' again, never two of one in a row.
    assert events(day.phase(P.PRE_OPEN)) == ["S"]
    assert events(day.phase(P.CONTINUOUS, "AAPL")) == ["Q"]
    assert events(day.phase(P.CONTINUOUS)) == []
    assert events(day.phase(P.PRE_OPEN)) == ["M"]
    codes = [m.code for m in map(decode, day.sent) if isinstance(m, SystemEvent)]
    assert codes == ["O", "Q", "M", "E", "S", "Q", "M"]


def test_a_halt_shows_halted_whatever_the_phase_and_a_resume_shows_the_phase() -> None:
    day = Day()
    halt = day.send(lambda seq, ts: Halt(seq=seq, ts=ts, symbol=Symbol("AAPL"), reason="news"))
    assert states(halt) == [("AAPL", "H", "")]
    assert states(day.phase(P.PRE_OPEN)) == [(s, "Q", "") for s in STOCKS if s != "AAPL"]
    resume = day.send(lambda seq, ts: Resume(seq=seq, ts=ts, symbol=Symbol("AAPL")))
    assert states(resume) == [("AAPL", "Q", "")], "back to quotation only, not trading"
    assert day.builder.halted == set()
    day.phase(P.CONTINUOUS)
    day.phase(P.POST_CLOSE)
    day.send(lambda seq, ts: Halt(seq=seq, ts=ts, symbol=Symbol("AAPL"), reason=""))
    resume = day.send(lambda seq, ts: Resume(seq=seq, ts=ts, symbol=Symbol("AAPL")))
    assert states(resume) == [("AAPL", "H", "CLSD")]


def test_a_book_snapshot_and_a_seeded_feed_show_states_and_the_last_imbalance() -> None:
    day = Day()
    day.phase(P.PRE_OPEN)
    day.phase(P.CONTINUOUS, "MSFT")
    day.phase(P.OPENING_AUCTION, "AAPL")
    day.order(Side.BUY, 100, 10_100)
    day.order(Side.SELL, 60, 10_000)
    day.order(Side.SELL, 10, 10_000)
    seq, snapshot = day.feed.book_snapshot()
    assert seq == day.feed.next_seq - 1
    decoded = [decode(data) for data in snapshot]
    assert states(decoded) == [(s, "Q", "") for s in STOCKS if s != "MSFT"]
    (noii,) = imbalances(decoded)
    assert (noii.paired, noii.imbalance, noii.direction) == (70, 30, "B")
    assert snapshot[-1] == day.sent[-1], "the last one sent"
    rebuilt = BookBuilder()
    for message in decoded:
        rebuilt.apply(message)
    assert_books_match(day.engine, rebuilt)

    restarted = Day()  # a venue restarted from a snapshot of `day`'s
    before = len(restarted.sent)
    phases = {s: day.engine.phase(Symbol(s)) for s in STOCKS}
    restarted.feed.seed([], ["IBM"], phases)
    assert states([decode(d) for d in restarted.sent[before:]]) == [
        ("AAPL", "Q", ""), ("ESZ6", "Q", ""), ("IBM", "H", ""),
    ]  # fmt: skip
    before = len(restarted.sent)
    command = SetPhase(seq=Seq(99), ts=Ts(99), phase=P.CONTINUOUS, symbol=Symbol("ESZ6"))
    restarted.feed.on_events(command, day.engine.process(command))
    after = [decode(d) for d in restarted.sent[before:]]
    assert states(after) == [("ESZ6", "T", "")]
    assert events(after) == [], "MSFT was trading already: market hours had begun"


def test_a_phase_change_and_an_imbalance_reach_a_udp_subscriber() -> None:
    commands: list[Command] = [
        SetPhase(seq=Seq(1), ts=Ts(1_000), phase=P.OPENING_AUCTION, symbol=Symbol("AAPL")),
        order(Seq(2), Ts(2_000), Side.BUY, 10, 10_000),
        order(Seq(3), Ts(3_000), Side.SELL, 4, 10_000),
    ]
    got = [m for m in published(commands) if not isinstance(m, SystemEvent)]
    assert ("AAPL", "Q", "") in states(got)
    noii = got[-1]
    assert isinstance(noii, NetOrderImbalance)
    assert (noii.stock, noii.paired, noii.imbalance, noii.direction, noii.cross) == (
        "AAPL", 4, 6, "B", "O",
    )  # fmt: skip
    assert noii.reference == 10_000 * scale(AAPL)


def test_system_hours_start_when_a_stock_leaves_closed_and_end_when_all_are_closed() -> None:
    day = Day()

    def codes(messages: list[Message | Unknown]) -> list[str]:
        return [m.code for m in messages if isinstance(m, SystemEvent)]

    assert codes(day.phase(P.CLOSED, "AAPL")) == []  # others still trade
    assert codes(day.phase(P.CLOSED)) == ["E"]  # the last ones close (after market hours)
    assert codes(day.phase(P.PRE_OPEN, "AAPL")) == ["S"]
    assert codes(day.phase(P.PRE_OPEN)) == []  # system hours run already
    assert codes(day.phase(P.CONTINUOUS)) == ["Q"]
    assert codes(day.phase(P.CLOSING_AUCTION)) == []
    assert codes(day.phase(P.CLOSED)) == ["M", "E"]
