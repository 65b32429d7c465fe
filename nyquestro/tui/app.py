"""`nyquestro-tui`: a blotter and console of a running venue, over its control plane.

Tabs: orders (live; filter, sort, enter for an order's history), fills, a depth ladder,
sessions, risk (positions, PnL, limits, kill switches) and engine rates. Actions ask for
confirmation, run off the display's thread and report what the venue did. The data comes
from `feed.Feed` and is folded by `model.Blotter`; this module only lays it out.
"""

import queue
import time
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any, ClassVar

import grpc
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import (
    Button,
    DataTable,
    Footer,
    Header,
    Input,
    Label,
    Sparkline,
    Static,
    TabbedContent,
    TabPane,
)

from nyquestro.codec.prices import DecimalPrices
from nyquestro.control import control_pb2 as pb
from nyquestro.control.client import ControlClient
from nyquestro.control.control_pb2_grpc import ControlStub
from nyquestro.domain.ids import Symbol
from nyquestro.domain.instrument import Instrument
from nyquestro.tui.feed import Feed, Loaded, Lost, Polled, Resumed, Source, Update
from nyquestro.tui.model import BLOTTER_COLUMNS, FILL_COLUMNS, Blotter, Filter, Series, clock

_DRAIN_SECONDS = 0.1
_MAX_ROWS = 2000
"""Orders the blotter lays out at once (the filter finds the others)."""
Call = Callable[[ControlStub, dict[str, Any]], pb.ActionResponse]
"""An action: the stub and the call's keyword arguments in, the venue's answer out."""
_SORTABLE = ("order_id", "symbol", "status", "updated_ts", "session")


class Confirm(ModalScreen[bool]):
    """Ask before an action: y or the Yes button goes ahead, n, escape or No does not."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self._question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self._question, id="question")
            with Horizontal(id="buttons"):
                yield Button("Yes (y)", variant="error", id="yes")
                yield Button("No (n)", variant="primary", id="no")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class History(ModalScreen[None]):
    """One order's events, oldest first; escape closes."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "app.pop_screen", "Close")]

    def __init__(self, history: pb.GetOrderHistoryResponse) -> None:
        super().__init__()
        self._history = history

    def compose(self) -> ComposeResult:
        order = self._history.order
        title = f"order {order.order_id} {order.cl_ord_id} {order.side} {order.symbol}"
        note = "" if self._history.complete else " (older events are not held)"
        with Vertical(id="dialog"):
            yield Label(f"{title}: {order.status}{note}", id="history-title")
            yield DataTable(id="history", cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one("#history", DataTable)
        table.add_columns("seq", "time", "event", "fields")
        for event in self._history.events:
            table.add_row(str(event.seq), clock(event.ts), event.type, event.fields_json)


class NyquestroApp(App[None]):
    TITLE = "Nyquestro"
    CSS = """
    #banner { background: $error; color: $text; padding: 0 1; display: none; }
    #banner.shown { display: block; }
    #banner.back { background: $success; }
    #dialog { width: 90%; height: auto; max-height: 80%; border: thick $accent;
              background: $surface; padding: 1 2; }
    Confirm, History { align: center middle; }
    #buttons { height: auto; margin-top: 1; }
    #buttons Button { margin-right: 2; }
    #rate, #p99 { height: 4; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "cancel_order", "Cancel"),
        Binding("m", "mass_cancel", "Mass cancel"),
        Binding("h", "halt", "Halt/resume"),
        Binding("k", "kill_switch", "Kill switch"),
        Binding("l", "force_logout", "Log out"),
        Binding("slash", "filter", "Filter"),
        Binding("s", "sort", "Sort"),
        Binding("left_square_bracket", "symbol(-1)", "Prev symbol", show=False),
        Binding("right_square_bracket", "symbol(1)", "Next symbol", show=False),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, address: str, token: str, feed: Source | None = None) -> None:
        """`feed`: where the app's data comes from (None: a `Feed` from the control plane
        at `address`)."""
        super().__init__()
        self.address = address
        self._client = ControlClient(address, token)
        self.blotter: Blotter | None = None
        self.filter = Filter()
        self._sort, self._descending = "order_id", True
        self._symbols: list[str] = []
        self._symbol = 0
        self._halted: dict[str, bool] = {}
        self._phases: dict[str, str] = {}
        """Each symbol's trading phase, as last polled ("" from a venue that says none)."""
        self._engaged: set[tuple[str, str]] = set()
        self._rates = Series()
        self._p99 = Series()
        self._dirty = False
        self.feed: Source = feed if feed is not None else Feed(self._client, self.book_symbol)

    # --- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="banner")
        with TabbedContent(initial="orders"):
            with TabPane("Orders", id="orders"):
                yield Input(
                    placeholder="filter: words, or symbol=… session=… status=open|done|…",
                    id="filter",
                )
                yield DataTable(id="blotter", cursor_type="row", zebra_stripes=True)
            with TabPane("Fills", id="fills"):
                yield DataTable(id="tape", cursor_type="row")
            with TabPane("Depth", id="depth"):
                yield Label("", id="depth-title")
                yield DataTable(id="ladder", cursor_type="none")
            with TabPane("Sessions", id="sessions"):
                yield DataTable(id="session-table", cursor_type="row")
            with TabPane("Risk", id="risk"):
                yield DataTable(id="positions", cursor_type="row")
                yield Label("Kill switches", id="kill-title")
                yield DataTable(id="kills", cursor_type="row")
            with TabPane("Engine", id="engine"):
                yield Static("", id="stats")
                yield Label("commands/s, last minute")
                yield Sparkline([], id="rate")
                yield Label("FIX requests, arrived to answered: p99 µs, last minute")
                yield Sparkline([], id="p99")
                yield DataTable(id="latency", cursor_type="none")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"connecting to {self.address}"
        self.query_one("#blotter", DataTable).add_columns(*BLOTTER_COLUMNS)
        self.query_one("#tape", DataTable).add_columns(*FILL_COLUMNS)
        self.query_one("#ladder", DataTable).add_columns(
            "bid orders", "bid qty", "price", "ask qty", "ask orders"
        )
        self.query_one("#session-table", DataTable).add_columns(
            "session",
            "state",
            "next out",
            "next in",
            "heartbeat",
            "last in",
            "last out",
            "throttled",
            "queued",
        )
        self.query_one("#positions", DataTable).add_columns(
            "account",
            "symbol",
            "position",
            "open buy",
            "open sell",
            "realised",
            "unrealised",
            "limits",
        )
        self.query_one("#kills", DataTable).add_columns("scope", "name", "reason")
        self.query_one("#latency", DataTable).add_columns(
            "stage (µs)", "requests", "p50", "p99", "p99.9", "max"
        )
        self.feed.start()
        self.set_interval(_DRAIN_SECONDS, self._drain)

    def on_unmount(self) -> None:
        self.feed.stop()
        self._client.close()

    # --- what the feed brings ------------------------------------------------------------

    def _drain(self) -> None:
        while True:
            try:
                update = self.feed.updates.get_nowait()
            except queue.Empty:
                break
            self._take(update)
        if self._dirty:
            self._dirty = False
            self._lay_out_orders()

    def _take(self, update: Update) -> None:
        if isinstance(update, pb.CommittedEvents):
            if self.blotter is not None:
                fills = len(self.blotter.fills)
                if self.blotter.apply(update):
                    self._dirty = True
                if len(self.blotter.fills) != fills:
                    self._lay_out_fills()
        elif isinstance(update, Loaded):
            self._loaded(update)
        elif isinstance(update, Lost):
            self._banner(
                f"⚠ the venue at {self.address} is not answering since "
                f"{time.strftime('%H:%M:%S', time.localtime(update.since))} ({update.details}); "
                "reconnecting…",
                back=False,
            )
        elif isinstance(update, Resumed):
            self._banner(
                f"reconnected to {self.address}: resumed after command {update.after_seq}",
                back=True,
            )
            self.set_timer(5.0, self._hide_banner)
        else:
            self._polled(update)

    def _loaded(self, loaded: Loaded) -> None:
        prices = DecimalPrices(
            {
                Symbol(i.symbol): Instrument(
                    symbol=Symbol(i.symbol), tick_size=Decimal(i.tick_size)
                )
                for i in loaded.instruments
            }
        )
        self.blotter = Blotter(prices)
        self.blotter.load(loaded.orders, loaded.as_of_seq)
        self._symbols = [i.symbol for i in loaded.instruments]
        self.sub_title = f"{self.address}"
        self._dirty = True

    def _banner(self, text: str, *, back: bool) -> None:
        banner = self.query_one("#banner", Static)
        banner.update(text)
        banner.set_class(True, "shown")
        banner.set_class(back, "back")

    def _hide_banner(self) -> None:
        banner = self.query_one("#banner", Static)
        if banner.has_class("back"):
            banner.set_class(False, "shown")

    # --- laying out ----------------------------------------------------------------------

    def _lay_out_orders(self) -> None:
        if self.blotter is None:
            return
        table = self.query_one("#blotter", DataTable)
        selected = self.selected_order()
        table.clear()
        rows = self.blotter.rows(self.filter, self._sort, self._descending)[:_MAX_ROWS]
        for row in rows:
            shown = self.blotter.shown(row)
            table.add_row(*(shown[name] for name in BLOTTER_COLUMNS), key=str(row["order_id"]))
        if selected is not None and str(selected) in table.rows:
            table.move_cursor(row=table.get_row_index(str(selected)))

    def _lay_out_fills(self) -> None:
        assert self.blotter is not None
        table = self.query_one("#tape", DataTable)
        table.clear()
        for fill in list(self.blotter.fills)[:_MAX_ROWS]:
            table.add_row(*(self.blotter.text(fill, name) for name in FILL_COLUMNS))

    def _polled(self, polled: Polled) -> None:
        self._halted = {i.symbol: i.state == pb.Instrument.HALTED for i in polled.instruments}
        self._phases = {i.symbol: i.phase for i in polled.instruments}
        stats = polled.stats
        self._rates.add(stats.commands_per_second)
        self.query_one("#stats", Static).update(
            f"last command {stats.last_seq}   commands/s {stats.commands_per_second:,.1f}   "
            f"events/s {stats.events_per_second:,.1f}   orders table behind by "
            f"{stats.journal_lag}   stream history from {stats.history_from_seq}"
        )
        self.query_one("#rate", Sparkline).data = self._rates.values()
        latency = self.query_one("#latency", DataTable)
        latency.clear()
        for stage in stats.latency:
            latency.add_row(stage.stage, *(f"{n:,}" for n in (stage.requests, stage.p50_us,
                                                             stage.p99_us, stage.p999_us,
                                                             stage.max_us)))  # fmt: skip
            if stage.stage == "arrived to answered":
                self._p99.add(stage.p99_us)
        self.query_one("#p99", Sparkline).data = self._p99.values()
        sessions = self.query_one("#session-table", DataTable)
        selected = sessions.cursor_row
        sessions.clear()
        for s in polled.sessions:
            sessions.add_row(
                s.session_key,
                s.state,
                str(s.next_sender_seq),
                str(s.next_target_seq),
                f"{s.heartbeat_interval} s" if s.HasField("heartbeat_interval") else "",
                clock(s.last_inbound_ts) if s.HasField("last_inbound_ts") else "",
                clock(s.last_outbound_ts) if s.HasField("last_outbound_ts") else "",
                str(s.throttle_refusals) if s.HasField("throttle_refusals") else "",
                str(s.queued_messages) if s.HasField("queued_messages") else "",
                key=s.session_key,
            )
        if sessions.row_count:  # the same rows each second, in the same order
            sessions.move_cursor(row=min(selected, sessions.row_count - 1))

        positions = self.query_one("#positions", DataTable)
        positions.clear()
        for account in polled.risk.accounts:
            limits = ", ".join(f"{k}={v}" for k, v in sorted(account.limits.items()))
            if not account.positions:
                positions.add_row(account.account, "", "", "", "", "", "", limits)
            for p in account.positions:
                positions.add_row(
                    account.account,
                    p.symbol,
                    str(p.position),
                    str(p.open_buy),
                    str(p.open_sell),
                    p.realised_pnl,
                    p.unrealised_pnl,
                    limits,
                )
        kills = self.query_one("#kills", DataTable)
        kills.clear()
        self._engaged = {(k.scope, k.name) for k in polled.kill_switches}
        for k in polled.kill_switches:
            kills.add_row(k.scope, k.name or "(the venue)", k.reason)
        if polled.book is not None:
            self._lay_out_book(polled.book)

    def _lay_out_book(self, book: pb.GetBookResponse) -> None:
        if self.blotter is None:
            return
        halted = " HALTED" if self._halted.get(book.symbol) else ""
        phase = self._phases.get(book.symbol, "")
        # Continuous trading is the usual state: only another phase is worth a word.
        if phase and phase != "continuous":
            halted += f" {phase.replace('_', ' ').upper()}"
        self.query_one("#depth-title", Label).update(
            Text(f"{book.symbol}{halted}  ([ and ] change symbol)  as of command {book.as_of_seq}")
        )
        table = self.query_one("#ladder", DataTable)
        table.clear()
        price = partial(self.blotter.prices.to_wire, book.symbol)
        for level in book.asks[::-1]:
            table.add_row(
                "", "", Text(price(level.px), style="red"), str(level.qty), str(level.orders)
            )
        for level in book.bids:
            table.add_row(
                str(level.orders), str(level.qty), Text(price(level.px), style="green"), "", ""
            )

    # --- reading the screen --------------------------------------------------------------

    def book_symbol(self) -> str:
        """The depth tab's symbol (called from the poller's thread: reads only)."""
        symbols = self._symbols
        return symbols[self._symbol % len(symbols)] if symbols else ""

    def selected_order(self) -> int | None:
        table = self.query_one("#blotter", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return None if key is None else int(key)

    def _selected_row(self) -> dict[str, object] | None:
        order_id = self.selected_order()
        if order_id is None or self.blotter is None:
            return None
        return self.blotter.orders.get(order_id)

    def _action_symbol(self) -> str:
        """The symbol an action is for: the depth tab's there, else the selected order's."""
        if self.query_one(TabbedContent).active == "depth":
            return self.book_symbol()
        row = self._selected_row()
        return "" if row is None else str(row["symbol"])

    # --- filtering and sorting ----------------------------------------------------------

    def action_filter(self) -> None:
        self.query_one(TabbedContent).active = "orders"
        self.query_one("#filter", Input).focus()

    @on(Input.Changed, "#filter")
    def _filtered(self, event: Input.Changed) -> None:
        self.filter = parse_filter(event.value)
        self._dirty = True

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one("#blotter", DataTable).focus()

    def action_sort(self) -> None:
        self._sort = _SORTABLE[(_SORTABLE.index(self._sort) + 1) % len(_SORTABLE)]
        self.notify(f"sorted by {self._sort}")
        self._dirty = True

    @on(DataTable.HeaderSelected, "#blotter")
    def _header(self, event: DataTable.HeaderSelected) -> None:
        column = BLOTTER_COLUMNS[event.column_index]
        self._descending = not self._descending if column == self._sort else False
        self._sort = column
        self._dirty = True

    def action_symbol(self, step: int) -> None:
        self._symbol += step
        self.query_one("#depth-title", Label).update(f"{self.book_symbol()} (loading)")

    # --- an order's history ----------------------------------------------------------------

    @on(DataTable.RowSelected, "#blotter")
    def _open_history(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self._history(int(event.row_key.value))

    @work(thread=True, group="calls")
    def _history(self, order_id: int) -> None:
        try:
            history = self._client.stub.GetOrderHistory(
                pb.GetOrderHistoryRequest(order_id=order_id), **self._client.call()
            )
        except grpc.RpcError as error:
            self.call_from_thread(self.notify, str(error.details()), severity="error")
            return
        self.call_from_thread(self.push_screen, History(history))

    # --- actions ---------------------------------------------------------------------------

    def action_cancel_order(self) -> None:
        row = self._selected_row()
        if row is None:
            self.notify("no order selected", severity="warning")
            return
        order_id = int(str(row["order_id"]))
        self._confirm(
            f"Cancel order {order_id} ({row['cl_ord_id']}: {row['side']} {row['leaves_qty']} "
            f"{row['symbol']} of session {row['session']})?",
            lambda stub, call: stub.CancelOrder(pb.CancelOrderRequest(order_id=order_id), **call),
        )

    def action_mass_cancel(self) -> None:
        f = self.filter
        scope = (
            " and ".join(
                part
                for part in (
                    f.symbol and f"symbol {f.symbol}",
                    f.session and f"session {f.session}",
                )
                if part
            )
            or "the whole venue"
        )
        request = pb.MassCancelRequest(
            symbol=f.symbol, session=f.session, all=not (f.symbol or f.session)
        )
        self._confirm(
            f"Cancel every open order of {scope}?",
            lambda stub, call: stub.MassCancel(request, **call),
        )

    def action_halt(self) -> None:
        symbol = self._action_symbol()
        if not symbol:
            self.notify("select an order, or a symbol on the depth tab", severity="warning")
            return
        if self._halted.get(symbol):
            self._confirm(
                f"Resume trading in {symbol}?",
                lambda stub, call: stub.Resume(pb.ResumeRequest(symbol=symbol), **call),
            )
        else:
            self._confirm(
                f"Halt {symbol}? Only cancels are accepted until it is resumed.",
                lambda stub, call: stub.Halt(
                    pb.HaltRequest(symbol=symbol, reason="halted from nyquestro-tui"), **call
                ),
            )

    def action_kill_switch(self) -> None:
        row = self._selected_row()
        if row is None:
            self.notify("select an order of the account", severity="warning")
            return
        account = str(row["account"])
        engage = ("account", account) not in self._engaged
        verb = "Engage" if engage else "Release"
        what = " (cancels its open orders, refuses new ones)" if engage else ""
        self._confirm(
            f"{verb} the kill switch of account {account}{what}?",
            lambda stub, call: stub.SetKillSwitch(
                pb.SetKillSwitchRequest(
                    engage=engage, account=account, reason="from nyquestro-tui"
                ),
                **call,
            ),
        )

    def action_force_logout(self) -> None:
        session = self._selected_session()
        if not session:
            self.notify("select a session (sessions tab) or an order", severity="warning")
            return
        self._confirm(
            f"Log session {session} out?",
            lambda stub, call: stub.ForceLogout(
                pb.ForceLogoutRequest(session=session, reason="logged out from nyquestro-tui"),
                **call,
            ),
        )

    def _selected_session(self) -> str:
        """The sessions tab's selected session there, else the selected order's."""
        if self.query_one(TabbedContent).active == "sessions":
            table = self.query_one("#session-table", DataTable)
            if not table.row_count:
                return ""
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            return key or ""
        row = self._selected_row()
        return "" if row is None else str(row["session"])

    def _confirm(self, question: str, call: Call) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self._act(call)

        self.push_screen(Confirm(question), answered)

    @work(thread=True, group="calls")
    def _act(self, call: Call) -> None:
        try:
            done = call(self._client.stub, self._client.call())
        except grpc.RpcError as error:
            self.call_from_thread(self.notify, f"refused: {error.details()}", severity="error")
            return
        self.call_from_thread(self.notify, f"done (command {done.seq}): {done.summary}")


def parse_filter(text: str) -> Filter:
    """`symbol=AAPL status=open rest of words` → a Filter (unknown keys count as words)."""
    fields: dict[str, str] = {}
    words = []
    for part in text.split():
        key, sep, value = part.partition("=")
        if sep and key in ("symbol", "session", "status"):
            fields[key] = value
        else:
            words.append(part)
    return Filter(text=" ".join(words), **fields)
