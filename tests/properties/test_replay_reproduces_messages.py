"""Live == replay: every message a journaled command causes comes out the same again when
the journal is replayed into freshly assembled gateways.

Scope: the messages sent from the sequencer's `on_events` subscribers, i.e. caused by a
journaled command: the FIX gateway's ExecutionReports (with the drop copies of FIX and
UDP sessions), OrderCancelRejects and OrderMassCancelReports; the UDP gateway's reply
frames; the WebSocket bridge's messages (rendered to their JSON text by the bridge's own
fan-out). Out of scope, because no command causes them and they are not journaled:
replies between commands (OrderStatus answers, MarketData snapshots and the incrementals
that follow a subscription, SecurityList, gateway-level rejects of messages that never
became a command). Compared field by field; FIX SendingTime is stamped by quickfix and
is not part of what the gateway renders.

The pieces are the real ones, wired in process as `nyquestro serve` wires them: engine,
sequencer with a journal on a SQLite file, `FixVenue` with FIX 4.2 and 4.4 sessions, a
drop copy and copied UDP sessions, `UdpOrders`, the WebSocket `BookView` and `Fanout`.
The replay goes through `Sequencer.recover`, the path a restarted venue takes.
"""

import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nyquestro.codec.prices import DecimalPrices
from nyquestro.config.venue import default_venue
from nyquestro.config.websocket import TokenConfig
from nyquestro.domain.commands import (
    Command,
    Configure,
    EndOfDay,
    Halt,
    KillSwitch,
    NewOrder,
    Resume,
)
from nyquestro.domain.enums import OrdType, Side, TimeInForce
from nyquestro.domain.events import EventBase, Rejected
from nyquestro.domain.ids import Account, ClOrdId, Px, Qty, SessionKey, Symbol
from nyquestro.domain.instrument import Instrument
from nyquestro.domain.reasons import RejectReason
from nyquestro.domain.risk import AccountRisk
from nyquestro.engine import Engine
from nyquestro.gateways.fix.acceptor import session_key_of
from nyquestro.gateways.fix.message import OutMessage
from nyquestro.gateways.fix.throttle import HeldFields
from nyquestro.gateways.fix.venue import FixVenue
from nyquestro.gateways.udp import frames
from nyquestro.gateways.udp.orders import Retry, UdpOrders
from nyquestro.gateways.udp.orders import session_key as udp_key
from nyquestro.gateways.websocket.bridge import BookView, Fanout, SnapshotReady
from nyquestro.runtime.sequencer import CommandFactory, Sequencer
from nyquestro.store.database import create_db_engine, upgrade
from nyquestro.store.journal import Durability, JournalWriter, read_journal

INSTRUMENTS = tuple(default_venue().instruments)
PRICES = DecimalPrices({inst.symbol: inst for inst in INSTRUMENTS})
SYMBOLS = tuple(sorted(inst.symbol for inst in INSTRUMENTS))
BASE_TICKS = {"AAPL": 19_000, "MSFT": 42_000, "IBM": 18_000, "ESZ6": 24_000}
FIX_SESSIONS = (
    ("FIX.4.2", "C42", False),
    ("FIX.4.4", "C44", False),
    ("FIX.4.4", "COD44", True),
)
DROP_COPY = session_key_of("FIX.4.4", "NYQUESTRO", "DROP")
UDP_ACCOUNTS = {1: "UDP1", 2: "UDP2"}
WS_TOKEN = TokenConfig(token="t", name="web", account="WEB")
ACCOUNTS = ("ACC1", "ACC2")
START_NS = 1_780_000_000_000_000_000

Recorded = tuple[str, str, object]
"""(gateway, destination, message): a FIX OutMessage, UDP frame bytes or WebSocket text."""


class Venue:
    """The gateways a venue runs, recording what they send, in send order."""

    def __init__(self, journal: JournalWriter | None) -> None:
        self._now = START_NS
        self.engine = Engine(INSTRUMENTS)
        self.sequencer = Sequencer(self.engine, self._clock, journal)
        self.sent: list[Recorded] = []
        self.fix = FixVenue(INSTRUMENTS, submit=self.sequencer.submit,
                            read=self.sequencer.read, send=self._fix_send,
                            clock=self._clock)  # fmt: skip
        self.fix_keys: list[SessionKey] = []
        for begin, client, cod in FIX_SESSIONS:
            key = session_key_of(begin, "NYQUESTRO", client)
            self.fix.add_session(key, begin, ACCOUNTS[len(self.fix_keys) % 2], cod)
            self.fix_keys.append(key)
        self.fix.add_drop_copy(DROP_COPY, "FIX.4.4")
        for session in UDP_ACCOUNTS:
            self.fix.add_copied_session(udp_key(session))
        self.udp = UdpOrders(UDP_ACCOUNTS)
        self.fanout = Fanout(PRICES, client_queue=1_000_000)
        # Its connection takes every message as it is written.
        self.ws_client = self.fanout.connect(lambda reason: None, self._ws_write)
        self.fanout.log_in(self.ws_client, WS_TOKEN)
        self.ws_client.wanted.update(SYMBOLS)
        # The client watches every symbol from the start: every update reaches it.
        for symbol in SYMBOLS:
            self.fanout.dispatch(SnapshotReady(client=self.ws_client.id, symbol=symbol, seq=0,
                                               bids=(), asks=(), trades=()))  # fmt: skip
        view = BookView(SYMBOLS, lambda _key, message: self._ws_send(message))
        self.sequencer.subscribe(self.fix.on_events)
        self.sequencer.subscribe(self._udp_events)
        self.sequencer.subscribe(view.on_events)

    def _clock(self) -> int:
        self._now += 1_000_000
        return self._now

    def _fix_send(self, key: str, message: OutMessage) -> None:
        self.sent.append(("fix", key, message))

    def _udp_events(self, command: Command, events: Sequence[EventBase]) -> None:
        for session, frame in self.udp.on_events(command, events):
            self.sent.append(("udp", str(session), frame))

    def _ws_send(self, message: Any) -> None:
        self.fanout.dispatch(message)

    def _ws_write(self, data: bytes) -> bool:
        self.sent.append(("ws", WS_TOKEN.name, data.decode()))
        return True


# --- one flow step: (kind, a, b, c), integers interpreted by the kind -----------------------

Step = tuple[str, int, int, int]


@dataclass
class Driver:
    """Turns steps into FIX messages, UDP requests and operator commands on a live venue."""

    venue: Venue
    cl_ord_ids: dict[str, list[str]]
    udp_seq: dict[int, int]
    counter: int = 0

    def run(self, step: Step) -> None:
        kind, a, b, c = step
        getattr(self, f"_{kind}")(a, b, c)

    def _next_id(self, key: str) -> str:
        self.counter += 1
        ident = f"o{self.counter}"
        self.cl_ord_ids.setdefault(key, []).append(ident)
        return ident

    def _fix(self, key: str, msg_type: str, fields: dict[int, str]) -> None:
        self.venue.fix.on_message(SessionKey(key), msg_type, HeldFields(fields, {}))

    def _order(self, a: int, b: int, c: int) -> None:
        """A new order on a FIX session: every order type and time in force."""
        key = self.venue.fix_keys[a % len(self.venue.fix_keys)]
        symbol = SYMBOLS[b % len(SYMBOLS)]
        fields = {11: self._next_id(key), 55: symbol, 54: "12"[c % 2],
                  38: str(10 * (1 + (c // 2) % 20)), 59: "0134"[(c // 40) % 4]}  # fmt: skip
        shape = (b // 4) % 5
        if shape in (0, 1):  # limit, the second one an iceberg
            fields[40] = "2"
            fields[44] = price_text(symbol, BASE_TICKS[symbol] + (a // 3) % 9 - 4)
            if shape == 1:
                fields[111] = "10"
        elif shape == 2:
            fields[40] = "1"
        else:  # pegged: midpoint, primary, market or last-sale, with an offset
            fields[40] = "P"
            fields[18] = "MRPL"[(a // 3) % 4]
            fields[211 if "4.2" in key else 1094] = price_text(symbol, shape - 3)
        self._fix(key, "D", fields)

    def _cancel(self, a: int, b: int, _c: int) -> None:
        key = self.venue.fix_keys[a % len(self.venue.fix_keys)]
        orig = self._known(key, b)
        self._fix(key, "F", {11: self._next_id(key), 41: orig, 55: "AAPL", 54: "1"})

    def _replace(self, a: int, b: int, c: int) -> None:
        key = self.venue.fix_keys[a % len(self.venue.fix_keys)]
        orig = self._known(key, b)
        symbol = SYMBOLS[c % len(SYMBOLS)]
        self._fix(key, "G", {
            11: self._next_id(key), 41: orig, 55: symbol, 54: "12"[c % 2], 40: "2",
            38: str(10 * (1 + c % 7)), 44: price_text(symbol, BASE_TICKS[symbol] + c % 5 - 2),
        })  # fmt: skip

    def _mass(self, a: int, b: int, _c: int) -> None:
        key = self.venue.fix_keys[1 + a % 2]  # the FIX 4.4 sessions
        fields = {11: self._next_id(key), 530: "7"}
        if b % 2:
            fields.update({530: "1", 55: SYMBOLS[b % len(SYMBOLS)]})
        self._fix(key, "q", fields)

    def _logout(self, a: int, _b: int, _c: int) -> None:
        self.venue.fix.on_logout(self.venue.fix_keys[a % len(self.venue.fix_keys)])

    def _udp_order(self, a: int, b: int, c: int) -> None:
        session = 1 + a % 2
        symbol = SYMBOLS[b % len(SYMBOLS)]
        market = c % 5 == 0
        self._udp(frames.NewOrderFrame(
            session=session, seq=self._udp_next(session), symbol=symbol, side=Side(1 + c % 2),
            ord_type=OrdType.MARKET if market else OrdType.LIMIT,
            tif=TimeInForce.IOC if market else (TimeInForce.DAY, TimeInForce.GTC)[b % 2],
            qty=10 * (1 + c % 9), px=0 if market else BASE_TICKS[symbol] + a % 7 - 3,
            display_qty=0,
        ))  # fmt: skip

    def _udp_cancel(self, a: int, b: int, _c: int) -> None:
        session = 1 + a % 2
        self._udp(frames.CancelFrame(session=session, seq=self._udp_next(session),
                                     order_id=1 + b % 30))  # fmt: skip

    def _udp_mass(self, a: int, b: int, _c: int) -> None:
        session = 1 + a % 2
        symbol = None if b % 2 else SYMBOLS[b % len(SYMBOLS)]
        self._udp(frames.MassCancelFrame(session=session, seq=self._udp_next(session),
                                         symbol=symbol))  # fmt: skip

    def _udp_retry(self, a: int, _b: int, _c: int) -> None:
        """The same request again: answered from the retry window, not a new command."""
        session = 1 + a % 2
        if self.udp_seq.get(session):
            self._udp(frames.CancelFrame(session=session, seq=self.udp_seq[session], order_id=1))

    def _ws_order(self, a: int, b: int, c: int) -> None:
        symbol = SYMBOLS[b % len(SYMBOLS)]
        self._command(lambda seq, ts: NewOrder(
            seq=seq, ts=ts, session=SessionKey(WS_TOKEN.session),
            account=Account(WS_TOKEN.account), cl_ord_id=ClOrdId(f"w{seq}"),
            symbol=Symbol(symbol), side=Side(1 + c % 2), qty=Qty(10 * (1 + a % 5)),
            px=Px(BASE_TICKS[symbol] + c % 5 - 2),
        ))  # fmt: skip

    def _halt(self, a: int, b: int, _c: int) -> None:
        symbol = Symbol(SYMBOLS[b % len(SYMBOLS)])
        if a % 2:
            self._command(lambda seq, ts: Halt(seq=seq, ts=ts, symbol=symbol, reason="test"))
        else:
            self._command(lambda seq, ts: Resume(seq=seq, ts=ts, symbol=symbol))

    def _end_of_day(self, _a: int, _b: int, _c: int) -> None:
        self._command(lambda seq, ts: EndOfDay(seq=seq, ts=ts))

    def _kill(self, a: int, b: int, _c: int) -> None:
        account = Account(ACCOUNTS[b % 2])
        self._command(lambda seq, ts: KillSwitch(seq=seq, ts=ts, engage=a % 2 == 1,
                                                 account=account))  # fmt: skip

    def _configure(self, a: int, _b: int, _c: int) -> None:
        tight = a % 2 == 1
        self._command(lambda seq, ts: Configure(
            seq=seq, ts=ts, instruments=risk_instruments() if tight else INSTRUMENTS,
            accounts=ACCOUNT_LIMITS if tight else (),
        ))  # fmt: skip

    def _reject(self, a: int, b: int, c: int) -> None:
        """An order built to meet one particular engine refusal."""
        recipe = REJECT_RECIPES[a % len(REJECT_RECIPES)]
        key = self.venue.fix_keys[b % len(self.venue.fix_keys)]
        fields = {11: self._next_id(key), 54: "12"[c % 2]} | recipe
        if fields.get(11) == "DUP":  # a ClOrdID this session already used
            fields[11] = self._known(key, c)
        self._fix(key, "D", fields)

    def _known(self, key: str, index: int) -> str:
        used = self.cl_ord_ids.get(key, [])
        return used[index % len(used)] if used else "never-sent"

    def _udp_next(self, session: int) -> int:
        self.udp_seq[session] = self.udp_seq.get(session, 0) + 1
        return self.udp_seq[session]

    def _udp(self, request: frames.Request) -> None:
        handled = self.venue.udp.handle(request)
        if not isinstance(handled, Retry | frames.FrameError):
            self._command(handled)

    def _command(self, build: CommandFactory) -> None:
        self.venue.sequencer.submit(build)


def price_text(symbol: str, ticks: int) -> str:
    return PRICES.to_wire(symbol, ticks)


def risk_instruments() -> tuple[Instrument, ...]:
    """Limits every fat-finger and lot check can trip: a price band on AAPL, a notional
    limit on MSFT, a minimum on IBM, lots of 10 and a maximum of 500 on ESZ6."""
    tight: dict[str, Callable[[Instrument], Instrument]] = {
        "AAPL": lambda inst: replace(inst, price_band_pct=Decimal("1")),
        "MSFT": lambda inst: replace(inst, max_notional=Decimal("100000")),
        "IBM": lambda inst: replace(inst, min_qty=Qty(5)),
        "ESZ6": lambda inst: replace(inst, lot_size=Qty(10), max_qty=Qty(500)),
    }
    return tuple(tight[inst.symbol](inst) for inst in INSTRUMENTS)


ACCOUNT_LIMITS = (
    AccountRisk(account=Account("ACC1"), max_long=Qty(100), max_short=Qty(100)),
    AccountRisk(account=Account("ACC2"), max_gross_notional=Decimal("50000")),
)

REJECT_RECIPES: tuple[dict[int, str], ...] = (
    {55: "ZZZZ", 38: "10", 40: "1"},  # unknown symbol
    {55: "AAPL", 38: "0", 40: "2", 44: "190.00"},  # quantity not positive
    {55: "IBM", 38: "2", 40: "2", 44: "180.00"},  # below the minimum (tight config)
    {55: "ESZ6", 38: "6000", 40: "2", 44: "6000.00"},  # above the maximum
    {55: "ESZ6", 38: "15", 40: "2", 44: "6000.00"},  # not a lot multiple (tight config)
    {55: "AAPL", 38: "10", 40: "2", 44: "190.00", 111: "20"},  # display above qty
    {55: "AAPL", 38: "10", 40: "2"},  # limit without a price
    {55: "AAPL", 38: "10", 40: "2", 44: "190.00", 11: "DUP"},  # duplicate ClOrdID
    {55: "MSFT", 38: "10", 40: "1"},  # market order into an empty book
    {55: "MSFT", 38: "10", 40: "P", 18: "M"},  # peg without a reference
    {55: "AAPL", 38: "10", 40: "2", 44: "250.00"},  # outside the price band (tight)
    {55: "MSFT", 38: "900", 40: "2", 44: "420.00"},  # notional above the maximum (tight)
    {55: "IBM", 38: "500", 40: "2", 44: "180.00"},  # ACC1's position or ACC2's gross
    {55: "AAPL", 38: "400", 40: "2", 44: "190.00"},  # ... notional limit (tight)
)

KINDS = ("order", "order", "order", "cancel", "replace", "mass", "logout", "udp_order",
         "udp_order", "udp_cancel", "udp_mass", "udp_retry", "ws_order", "halt",
         "end_of_day", "kill", "configure", "reject", "reject")  # fmt: skip
steps = st.tuples(st.sampled_from(KINDS), st.integers(0, 99), st.integers(0, 99),
                  st.integers(0, 199))  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    live: list[Recorded]
    replayed: list[Recorded]
    rejects: set[RejectReason]


def live_and_replayed(flow: Sequence[Step]) -> Outcome:
    with tempfile.TemporaryDirectory() as tmp:
        db = create_db_engine(f"sqlite:///{Path(tmp) / 'journal.db'}")
        upgrade(db)
        try:
            live = Venue(JournalWriter(db, Durability.SYNC))
            rejects: set[RejectReason] = set()
            live.sequencer.subscribe(lambda _cmd, events: rejects.update(
                e.reason for e in events if isinstance(e, Rejected)))  # fmt: skip
            driver = Driver(live, {}, {})
            for step in flow:
                driver.run(step)
            again = Venue(None)
            again.sequencer.recover(read_journal(db))
        finally:
            db.dispose()
    return Outcome(live.sent, again.sent, rejects)


def comparable(sent: list[Recorded]) -> Iterator[tuple[str, str, object]]:
    for gateway, key, message in sent:
        if isinstance(message, OutMessage):
            yield gateway, key, (message.msg_type, message.fields, message.groups)
        else:
            yield gateway, key, message


def assert_same(outcome: Outcome) -> None:
    live, replayed = list(comparable(outcome.live)), list(comparable(outcome.replayed))
    for index, (one, two) in enumerate(zip(live, replayed, strict=False)):
        assert one == two, f"message {index} differs:\nlive     {one}\nreplayed {two}"
    assert len(live) == len(replayed), (len(live), len(replayed))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(steps, min_size=1, max_size=40))
def test_replaying_the_journal_reproduces_every_message(flow: list[Step]) -> None:
    assert_same(live_and_replayed(flow))


def every_reason_flow() -> list[Step]:
    """Resting liquidity, then each reject recipe under the tight config, a halted symbol,
    a kill switch, and the flows' cancels, replaces, mass cancels and logouts."""
    flow: list[Step] = [("order", 0, 0, 0), ("order", 1, 0, 1), ("configure", 1, 0, 0)]
    # Even recipes on ACC1's session, odd ones on ACC2's: each has a resting order from
    # the first steps for the duplicate ClOrdID to reuse.
    flow += [("reject", i, 3 * i + i % 2, 0) for i in range(len(REJECT_RECIPES))]
    flow += [("order", 0, 8, 0), ("order", 1, 9, 1), ("order", 2, 10, 0)]
    flow += [("halt", 1, 0, 0), ("order", 0, 0, 0), ("halt", 0, 0, 0)]
    flow += [("kill", 1, 0, 0), ("order", 0, 0, 0), ("kill", 0, 0, 0)]
    flow += [("cancel", 0, 0, 0), ("replace", 1, 0, 2), ("mass", 0, 1, 0), ("mass", 1, 0, 0)]
    flow += [("udp_order", 0, 1, 3), ("udp_order", 1, 1, 0), ("udp_cancel", 0, 0, 0),
             ("udp_mass", 1, 1, 0), ("udp_retry", 0, 0, 0), ("ws_order", 0, 0, 0),
             ("ws_order", 1, 0, 1), ("order", 2, 0, 0), ("logout", 2, 0, 0),
             ("end_of_day", 0, 0, 0)]  # fmt: skip
    return flow


def test_every_engine_reject_reason_is_reproduced_on_replay() -> None:
    outcome = live_and_replayed(every_reason_flow())
    expected = {
        RejectReason.UNKNOWN_SYMBOL, RejectReason.INVALID_QTY, RejectReason.QTY_BELOW_MIN,
        RejectReason.QTY_ABOVE_MAX, RejectReason.QTY_NOT_LOT_MULTIPLE,
        RejectReason.INVALID_DISPLAY_QTY, RejectReason.PRICE_REQUIRED,
        RejectReason.GROSS_NOTIONAL_LIMIT, RejectReason.DUPLICATE_CL_ORD_ID,
        RejectReason.NO_LIQUIDITY, RejectReason.NO_PEG_REFERENCE,
        RejectReason.PRICE_OUTSIDE_BAND, RejectReason.NOTIONAL_ABOVE_MAX,
        RejectReason.POSITION_LIMIT, RejectReason.SYMBOL_HALTED, RejectReason.KILL_SWITCH,
    }  # fmt: skip
    assert expected <= outcome.rejects, expected - outcome.rejects
    kinds = {(gateway, getattr(m, "msg_type", None)) for gateway, _key, m in outcome.live}
    assert {("fix", "8"), ("fix", "9"), ("fix", "r"), ("udp", None), ("ws", None)} <= kinds
    assert_same(outcome)
