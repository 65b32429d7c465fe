"""The bridge's state and fan-out, in two halves that meet only through the outbox.

`BookView` runs under the sequencer's lock (a subscriber, and `request_snapshot` through
`read`): it folds the visible depth and the latest trades from every command's events,
also while recovery replays the journal, and hands one `Published` value per command to
`send`. That is all the venue pays per command, however many clients are connected: the
outbox holds the value until the command is durable, then `Bridge.deliver` passes it to
the asyncio loop without waiting, and the loop encodes it once and fans it out.

A snapshot is asked for through `read` and sent through the same outbox, so it arrives on
the loop in its place among the updates: a client is switched on for a symbol when its
snapshot arrives and gets exactly the updates after it, with no sequence arithmetic.

A message is encoded once, however many clients get it, and written at once to every
client whose connection takes it (its buffer below the transport's high-water mark): no
task wakes per client per message. A client whose connection is behind gets a bounded
backlog, which its writer task sends as the connection drains; one whose backlog is full
when a message is due is closed with a reason (a slow client is dropped, never waited
for).
"""

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Protocol, TypeVar

from nyquestro.codec.prices import DecimalPrices
from nyquestro.config.websocket import SESSION_PREFIX, TokenConfig, WebSocketConfig
from nyquestro.domain.commands import Cancel, Command, NewOrder, Stamped
from nyquestro.domain.enums import Side
from nyquestro.domain.errors import InputError
from nyquestro.domain.events import (
    Accepted,
    Cancelled,
    CancelRejected,
    EventBase,
    Execution,
    ExecutionAmended,
    ExecutionBusted,
    Expired,
    LevelEvent,
    Rejected,
    Replaced,
    Restated,
    Trade,
    TradeAmended,
    TradeBusted,
)
from nyquestro.domain.ids import Account, ClOrdId, Px, Qty, Seq, SessionKey, Symbol, Ts
from nyquestro.domain.instrument import Instrument
from nyquestro.gateways.websocket import protocol
from nyquestro.gateways.websocket.protocol import (
    CancelRequest,
    Login,
    NewOrderRequest,
    ProtocolError,
    Request,
    Subscribe,
    Unsubscribe,
)

log = logging.getLogger(__name__)

TAPE = 50
"""Trades per symbol a snapshot carries."""
FEED = "feed"
"""The bridge's one outbox key: every message goes to the loop, which routes it."""
OWN_ORDER_EVENTS = (Accepted, Rejected, CancelRejected, Execution, Cancelled, Expired,
                    Replaced, Restated, ExecutionAmended)  # fmt: skip
_T = TypeVar("_T")

Send = Callable[[str, Any], None]
Deliver = Callable[[str, Any], None]
SubmitFn = Callable[[Callable[[Seq, Ts], Command]], Sequence[EventBase]]
DepthFn = Callable[[Symbol, Side], Sequence[tuple[int, int, int]]]


class ReadFn(Protocol):
    def __call__(self, query: Callable[[], _T]) -> _T:
        """Run `query` under the sequencer's lock and return what it returned."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Published:
    """What one command changed that clients may see."""

    seq: int
    ts: int
    levels: tuple[LevelEvent, ...]
    trades: tuple[Trade | TradeAmended, ...]
    """Trades, and trades busted or corrected."""
    orders: tuple[EventBase, ...]
    """Order events of WebSocket sessions."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotReady:
    client: int
    symbol: str
    seq: int
    bids: tuple[tuple[int, int, int], ...]
    """(px in ticks, visible quantity, orders), best first; asks likewise."""
    asks: tuple[tuple[int, int, int], ...]
    trades: tuple[Trade, ...]


class BookView:
    """Visible depth and the latest trades per symbol; touched only under the lock."""

    def __init__(self, symbols: Iterable[str], send: Send) -> None:
        self._send = send
        self._levels: dict[tuple[str, Side], dict[int, tuple[int, int]]] = {}
        self._tape: dict[str, deque[Trade]] = {s: deque(maxlen=TAPE) for s in symbols}

    def seed(self, depth: DepthFn) -> None:
        """Start from the engine's books (a venue restored from a snapshot, before the
        journal after it replays); the tape starts empty."""
        for symbol in self._tape:
            for side in Side:
                levels = depth(Symbol(symbol), side)
                self._levels[(symbol, side)] = {px: (qty, n) for px, qty, n in levels}

    def on_events(self, command: Stamped, events: Sequence[EventBase]) -> None:
        levels: list[LevelEvent] = []
        trades: list[Trade | TradeAmended] = []
        orders: list[EventBase] = []
        for event in events:
            if isinstance(event, LevelEvent):
                book = self._levels.setdefault((event.symbol, event.side), {})
                if event.qty:
                    book[event.px] = (event.qty, event.orders)
                else:
                    book.pop(event.px, None)
                levels.append(event)
            elif isinstance(event, Trade):
                self._tape[event.symbol].append(event)
                trades.append(event)
            elif isinstance(event, TradeAmended):
                _amend_tape(self._tape[event.symbol], event)
                trades.append(event)
            elif isinstance(event, OWN_ORDER_EVENTS) and getattr(event, "session", "").startswith(
                SESSION_PREFIX
            ):
                orders.append(event)
        if levels or trades or orders:
            published = Published(
                seq=command.seq, ts=command.ts, levels=tuple(levels), trades=tuple(trades),
                orders=tuple(orders),
            )  # fmt: skip
            self._send(FEED, published)

    def request_snapshot(self, client: int, symbols: Iterable[str], seq: int) -> None:
        """Queue a snapshot per symbol behind every update already sent (call under the
        lock, through `read`; `seq` is the last command's)."""
        for symbol in symbols:
            bids = self._levels.get((symbol, Side.BUY), {})
            asks = self._levels.get((symbol, Side.SELL), {})
            snapshot = SnapshotReady(
                client=client, symbol=symbol, seq=seq,
                bids=tuple((px, *bids[px]) for px in sorted(bids, reverse=True)),
                asks=tuple((px, *asks[px]) for px in sorted(asks)),
                trades=tuple(self._tape[symbol]),
            )  # fmt: skip
            self._send(FEED, snapshot)


@dataclass(eq=False, slots=True)
class Client:
    """One connection, as the loop sees it."""

    id: int
    close: Callable[[str], None]
    """Close the connection with a reason (the server's part)."""
    write: Callable[[bytes], bool]
    """Write one encoded text message now if the connection takes it without buffering
    beyond its limit; False leaves it to the backlog (the server's part)."""
    backlog: deque[bytes] = field(default_factory=deque)
    """Messages waiting for the connection to drain, oldest first (the writer task sends
    and then removes the first)."""
    waiting: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the backlog gets a message: the writer task's cue."""
    wanted: set[str] = field(default_factory=set)
    """Symbols subscribed to, whose snapshot may still be on its way."""
    login: TokenConfig | None = None
    dropped: bool = False


class Fanout:
    """Clients, their subscriptions and queues; used on the loop only."""

    def __init__(self, prices: DecimalPrices, client_queue: int) -> None:
        self._prices = prices
        self._client_queue = client_queue
        self._next_id = 0
        self.clients: dict[int, Client] = {}
        self._watching: dict[str, set[Client]] = {}
        """Per symbol, the clients whose snapshot has arrived."""
        self._sessions: dict[str, set[Client]] = {}
        """Per token name, the clients logged in with it."""

    def connect(self, close: Callable[[str], None], write: Callable[[bytes], bool]) -> Client:
        self._next_id += 1
        client = Client(self._next_id, close, write)
        self.clients[client.id] = client
        return client

    def disconnect(self, client: Client) -> None:
        self.clients.pop(client.id, None)
        for watchers in self._watching.values():
            watchers.discard(client)
        if client.login is not None:
            self._sessions.get(client.login.name, set()).discard(client)

    def log_in(self, client: Client, token: TokenConfig) -> None:
        client.login = token
        self._sessions.setdefault(token.name, set()).add(client)

    def unwatch(self, client: Client, symbols: Iterable[str]) -> None:
        for symbol in symbols:
            client.wanted.discard(symbol)
            self._watching.get(symbol, set()).discard(client)

    def offer(self, client: Client, text: str) -> None:
        self.offer_encoded(client, text.encode())

    def offer_encoded(self, client: Client, data: bytes) -> None:
        """Write `data` (UTF-8 text) to `client` now, or behind its backlog; drop the
        client when its backlog is full."""
        if client.dropped:
            return
        backlog = client.backlog
        if not backlog and client.write(data):
            return
        if len(backlog) >= self._client_queue:
            client.dropped = True
            self.disconnect(client)
            reason = f"slow client: {self._client_queue} messages waiting"
            log.warning("WebSocket client %d dropped (%s)", client.id, reason)
            client.close(reason)
            return
        backlog.append(data)
        client.waiting.set()

    def dispatch(self, message: Published | SnapshotReady) -> None:
        if isinstance(message, SnapshotReady):
            self._snapshot(message)
            return
        to_wire = self._prices.to_wire
        by_symbol: dict[str, list[tuple[str, str, int, int]]] = {}
        for e in message.levels:
            change = (protocol.SIDE_NAMES[e.side], to_wire(e.symbol, e.px), e.qty, e.orders)
            by_symbol.setdefault(e.symbol, []).append(change)
        for symbol, changes in by_symbol.items():
            self._broadcast(symbol, protocol.update_message(symbol, message.seq, message.ts,
                                                            changes))  # fmt: skip
        for trade in message.trades:
            if isinstance(trade, TradeAmended):
                busted = isinstance(trade, TradeBusted)
                fields = {"trade_id": trade.trade_id, "px": to_wire(trade.symbol, trade.px),
                          "qty": trade.qty}  # fmt: skip
                text = protocol.trade_amended_message(trade.symbol, trade.seq, busted, fields)
            else:
                text = protocol.trade_message(trade.symbol, trade.seq, self._trade_fields(trade))
            self._broadcast(trade.symbol, text)
        for event in message.orders:
            name = getattr(event, "session", "").removeprefix(SESSION_PREFIX)
            kind, fields = order_fields(event, self._prices)
            data = protocol.order_message(kind, event.seq, fields).encode()
            for client in list(self._sessions.get(name, ())):
                self.offer_encoded(client, data)

    def _broadcast(self, symbol: str, text: str) -> None:
        data = text.encode()
        # A copy: offer_encoded() may drop a client, which changes the set.
        for client in list(self._watching.get(symbol, ())):
            self.offer_encoded(client, data)

    def _snapshot(self, ready: SnapshotReady) -> None:
        client = self.clients.get(ready.client)
        if client is None or ready.symbol not in client.wanted:
            return  # gone, or unsubscribed while the snapshot was on its way
        self._watching.setdefault(ready.symbol, set()).add(client)
        to_wire = self._prices.to_wire
        symbol = ready.symbol
        text = protocol.snapshot_message(
            symbol, ready.seq,
            [(to_wire(symbol, px), qty, n) for px, qty, n in ready.bids],
            [(to_wire(symbol, px), qty, n) for px, qty, n in ready.asks],
            [self._trade_fields(trade) for trade in ready.trades],
        )  # fmt: skip
        self.offer(client, text)

    def _trade_fields(self, trade: Trade) -> dict[str, object]:
        px = self._prices.to_wire(trade.symbol, trade.px)
        return protocol.trade_fields(trade.trade_id, px, trade.qty, trade.aggressor_side, trade.ts)


def _amend_tape(tape: deque[Trade], amended: TradeAmended) -> None:
    """The snapshot's tape without a busted trade, or with a corrected one's new figures."""
    for i, trade in enumerate(tape):
        if trade.trade_id == amended.trade_id:
            if isinstance(amended, TradeBusted):
                del tape[i]
            else:
                tape[i] = replace(trade, px=amended.px, qty=amended.qty)
            return


def conflate(earlier: Published, later: Published) -> Published:
    """Two consecutive commands' publications as one: each level (symbol, side, price) at
    its later size, in the order of the levels' latest changes; every trade and order
    event, in order."""
    levels = {(e.symbol, e.side, e.px): e for e in earlier.levels}
    for e in later.levels:
        levels.pop((e.symbol, e.side, e.px), None)
        levels[(e.symbol, e.side, e.px)] = e
    return Published(
        seq=later.seq, ts=later.ts, levels=tuple(levels.values()),
        trades=earlier.trades + later.trades, orders=earlier.orders + later.orders,
    )  # fmt: skip


def order_fields(event: EventBase, prices: DecimalPrices) -> tuple[str, dict[str, object]]:
    """(event name, fields) of an own-order message (see protocol.order_message)."""
    if isinstance(event, Rejected):
        return "reject", {"cl_ord_id": event.cl_ord_id, "symbol": event.symbol,
                          "reason": event.reason.name.lower(), "text": event.text}  # fmt: skip
    if isinstance(event, CancelRejected):
        return "cancel_reject", {
            "cl_ord_id": event.cl_ord_id, "orig_cl_ord_id": event.orig_cl_ord_id,
            "order_id": event.order_id, "reason": event.reason.name.lower(), "text": event.text,
        }  # fmt: skip
    assert isinstance(event, Accepted | Execution | Cancelled | Expired | Replaced | Restated
                      | ExecutionAmended)  # fmt: skip
    fields: dict[str, object] = {
        "order_id": event.order_id, "cl_ord_id": event.cl_ord_id, "symbol": event.symbol,
        "side": protocol.SIDE_NAMES[event.side],
    }  # fmt: skip

    def px(ticks: int | None) -> str | None:
        return None if ticks is None else prices.to_wire(event.symbol, ticks)

    if isinstance(event, Accepted):
        fields.update(qty=event.qty, ord_type=event.ord_type.value, px=px(event.px),
                      tif=event.tif.value)  # fmt: skip
        return "ack", fields
    if isinstance(event, Execution):
        fields.update(trade_id=event.trade_id, px=px(event.px), qty=event.qty,
                      cum_qty=event.cum_qty, leaves_qty=event.leaves_qty)  # fmt: skip
        return "fill", fields
    if isinstance(event, Cancelled):
        fields.update(orig_cl_ord_id=event.orig_cl_ord_id, reason=event.reason.value,
                      cancelled_qty=event.cancelled_qty, cum_qty=event.cum_qty)  # fmt: skip
        return "cancel", fields
    if isinstance(event, Expired):
        fields.update(reason=event.reason.value, expired_qty=event.expired_qty,
                      cum_qty=event.cum_qty)  # fmt: skip
        return "expire", fields
    if isinstance(event, Replaced):
        fields.update(orig_cl_ord_id=event.orig_cl_ord_id, px=px(event.px), qty=event.qty,
                      leaves_qty=event.leaves_qty, cum_qty=event.cum_qty)  # fmt: skip
        return "replace", fields
    if isinstance(event, ExecutionAmended):
        fields.update(trade_id=event.trade_id, px=px(event.px), qty=event.qty,
                      orig_px=px(event.orig_px), orig_qty=event.orig_qty,
                      cum_qty=event.cum_qty, leaves_qty=event.leaves_qty,
                      status=event.status, reason=event.reason)  # fmt: skip
        return ("bust" if isinstance(event, ExecutionBusted) else "correct"), fields
    fields.update(reason=event.reason.value, px=px(event.px), qty=event.qty,
                  leaves_qty=event.leaves_qty, cum_qty=event.cum_qty)  # fmt: skip
    return "restate", fields


class Bridge:
    """Client requests in, the venue's messages out: the part the server drives."""

    def __init__(
        self,
        config: WebSocketConfig,
        instruments: Sequence[Instrument],
        submit: SubmitFn,
        read: ReadFn,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.config = config
        self._submit = submit
        self._read = read
        self._loop = loop
        self._symbols = {inst.symbol for inst in instruments}
        self._prices = DecimalPrices({inst.symbol: inst for inst in instruments})
        self._tokens = {token.token: token for token in config.tokens}
        self.fanout = Fanout(self._prices, config.client_queue)
        # Entering the sequencer may wait for its lock: never on the loop's own thread.
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="websocket-submit")
        self._last_seq: Callable[[], int] = lambda: 0
        self.view: BookView | None = None
        self._pending: deque[Published | SnapshotReady] = deque()
        """Delivered, not yet dispatched on the loop (appended by the delivering thread,
        taken by the loop: deque ends are thread-safe)."""
        self._wake_pending = False

    def attach(self, send: Send, last_seq: Callable[[], int]) -> BookView:
        """Create the view that publishes through `send` (the venue's outbox)."""
        self._last_seq = last_seq
        self.view = BookView(sorted(self._symbols), send)
        return self.view

    def deliver(self, _key: str, message: Published | SnapshotReady) -> None:
        """The outbox's deliver function: runs on whichever thread delivers the outbox
        (under the outbox's delivery lock, so one at a time, in order), so it only hands
        the message to the loop: queued, with one wake-up for however many queue up
        while the loop is busy."""
        self._pending.append(message)
        if self._wake_pending:
            return
        self._wake_pending = True
        # RuntimeError: the loop is closed, the venue is shutting down and nobody listens.
        with suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        """On the loop: dispatch everything delivered since the last drain, conflated.

        When the loop falls behind (it sends one message per client per update, the
        venue may publish faster), the level changes of consecutive commands go out as
        one update per symbol: each level's latest size, stamped with the latest
        command. Trades and order messages are never merged, and a snapshot keeps its
        place: what was delivered before it goes out before it. So the backlog is
        bounded by the book's size, not by how far behind the loop is.
        """
        self._wake_pending = False  # before taking: a delivery from now on wakes us again
        pending = self._pending
        merged: Published | None = None
        while pending:
            message = pending.popleft()
            if isinstance(message, SnapshotReady):
                if merged is not None:
                    self.fanout.dispatch(merged)
                    merged = None
                self.fanout.dispatch(message)
            else:
                merged = message if merged is None else conflate(merged, message)
        if merged is not None:
            self.fanout.dispatch(merged)

    def shut_down(self) -> None:
        self._executor.shutdown(wait=True)

    def greet(self, client: Client) -> None:
        hello = protocol.hello_message(sorted(self._symbols), self.config.max_message_bytes)
        self.fanout.offer(client, hello)

    async def handle(self, client: Client, data: str | bytes) -> None:
        """One message from `client`; requests are handled one at a time per client, so
        a cancel never overtakes the order it cancels."""
        try:
            request = protocol.parse_request(data, self.config.max_message_bytes)
            await self._handle(client, request)
        except ProtocolError as exc:
            self.fanout.offer(client, protocol.error_message(exc.code, exc.text))

    async def _handle(self, client: Client, request: Request) -> None:
        if isinstance(request, Login):
            self._log_in(client, request)
        elif isinstance(request, Subscribe):
            unknown = [s for s in request.symbols if s not in self._symbols]
            if unknown:
                raise ProtocolError("unknown_symbol", f"symbols: {unknown[0]!r} is not traded")
            client.wanted.update(request.symbols)
            await self._in_executor(self._request_snapshot, client.id, request.symbols)
        elif isinstance(request, Unsubscribe):
            self.fanout.unwatch(client, request.symbols)
            self.fanout.offer(client, protocol.unsubscribed_message(request.symbols))
        elif isinstance(request, NewOrderRequest):
            token = self._logged_in(client)
            if request.symbol not in self._symbols:
                raise ProtocolError("unknown_symbol", f"symbol: {request.symbol!r} is not traded")
            try:
                px = (None if request.px is None
                      else self._prices.to_ticks(request.symbol, request.px, "px"))  # fmt: skip
            except InputError as exc:
                raise ProtocolError("bad_field", str(exc)) from None
            await self._in_executor(self._submit, partial(_new_order, token, request, px))
        else:
            token = self._logged_in(client)
            await self._in_executor(self._submit, partial(_cancel, token, request))

    def _log_in(self, client: Client, request: Login) -> None:
        token = self._tokens.get(request.token)
        if token is None:
            raise ProtocolError("bad_token", "token: not a session token of this venue")
        if client.login is not None and client.login != token:
            raise ProtocolError("bad_token", f"token: already logged in as {client.login.name}")
        self.fanout.log_in(client, token)
        self.fanout.offer(client, protocol.logged_in_message(token.name, token.account))

    def _logged_in(self, client: Client) -> TokenConfig:
        if client.login is None:
            raise ProtocolError("not_logged_in", "orders need a login with a session token first")
        return client.login

    def _request_snapshot(self, client: int, symbols: tuple[str, ...]) -> None:
        view = self.view
        assert view is not None, "attach() before serving"
        self._read(lambda: view.request_snapshot(client, symbols, self._last_seq()))

    async def _in_executor(self, fn: Callable[..., object], *args: object) -> None:
        await self._loop.run_in_executor(self._executor, partial(fn, *args))


def _new_order(token: TokenConfig, request: NewOrderRequest, px: Px | None, seq: Seq,
               ts: Ts) -> NewOrder:  # fmt: skip
    return NewOrder(
        seq=seq, ts=ts, session=SessionKey(token.session), account=Account(token.account),
        cl_ord_id=ClOrdId(request.cl_ord_id), symbol=Symbol(request.symbol), side=request.side,
        qty=Qty(request.qty), ord_type=request.ord_type, px=px, tif=request.tif,
    )  # fmt: skip


def _cancel(token: TokenConfig, request: CancelRequest, seq: Seq, ts: Ts) -> Cancel:
    return Cancel(
        seq=seq, ts=ts, session=SessionKey(token.session),
        cl_ord_id=ClOrdId(request.cl_ord_id), orig_cl_ord_id=ClOrdId(request.orig_cl_ord_id),
    )  # fmt: skip
