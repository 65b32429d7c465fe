"""The TUI's two background threads and what they hand the app: one follows the control
plane's event stream (reconnecting by itself), one polls the figures that are not events.

Neither touches the screen: each puts what it got on a queue that the app drains on its
own thread, a few times a second, so a busy venue never freezes the display and a slow
display never holds a gRPC call open. No Textual here either.
"""

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import grpc

from nyquestro.control import control_pb2 as pb
from nyquestro.control.client import ControlClient

_RETRY_SECONDS = 1.0
_POLL_SECONDS = 1.0
_PAGE = 1000


@dataclass(frozen=True, slots=True)
class Loaded:
    """The venue's instruments and open orders; the stream follows `as_of_seq`."""

    instruments: list[pb.Instrument]
    orders: list[pb.Order]
    as_of_seq: int


@dataclass(frozen=True, slots=True)
class Lost:
    """The stream broke: `details` says why; the feed is reconnecting."""

    details: str
    since: float


@dataclass(frozen=True, slots=True)
class Resumed:
    """The stream is back, after command `after_seq`."""

    after_seq: int


@dataclass(frozen=True, slots=True)
class Polled:
    stats: pb.GetEngineStatsResponse
    instruments: list[pb.Instrument]
    sessions: list[pb.Session]
    risk: pb.GetRiskResponse
    kill_switches: list[pb.KillSwitch]
    book: pb.GetBookResponse | None


Update = Loaded | Lost | Resumed | Polled | pb.CommittedEvents


class Source(Protocol):
    """What the app takes its data from: a `Feed`, or recorded updates."""

    @property
    def updates(self) -> "queue.Queue[Update]": ...
    def start(self) -> None: ...
    def stop(self) -> None: ...


class Feed:
    def __init__(self, client: ControlClient, book_symbol: Callable[[], str]) -> None:
        """`book_symbol`: the symbol whose book the poller fetches ("" for none)."""
        self._client = client
        self._book_symbol = book_symbol
        self.updates: queue.Queue[Update] = queue.Queue()
        self._stop = threading.Event()
        self._cancel_stream: Callable[[], object] | None = None
        self._threads = [
            threading.Thread(target=self._follow, name="tui-stream", daemon=True),
            threading.Thread(target=self._poll, name="tui-poll", daemon=True),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        cancel = self._cancel_stream
        if cancel is not None:
            cancel()

    def _follow(self) -> None:
        stub, call = self._client.stub, self._client.call
        after: int | None = None
        lost_since: float | None = None
        while not self._stop.is_set():
            try:
                if after is None:
                    after = self._load()
                stream = stub.StreamEvents(
                    pb.StreamEventsRequest(after_seq=after), **self._client.stream()
                )
                self._cancel_stream = stream.cancel
                stub.GetEngineStats(pb.GetEngineStatsRequest(), **call())  # is it there?
                if lost_since is not None:
                    self.updates.put(Resumed(after))
                    lost_since = None
                for committed in stream:
                    self.updates.put(committed)
                    after = committed.seq
                why = "the venue ended the stream"
            except grpc.RpcError as error:
                code = error.code()
                if code is grpc.StatusCode.OUT_OF_RANGE:
                    after = None  # a gap the venue cannot fill: load afresh
                why = f"{code.name}: {error.details()}"
            if self._stop.is_set():
                return
            if lost_since is None:
                lost_since = time.time()
                self.updates.put(Lost(why, lost_since))
            self._stop.wait(_RETRY_SECONDS)

    def _load(self) -> int:
        stub, call = self._client.stub, self._client.call
        as_of = stub.GetEngineStats(pb.GetEngineStatsRequest(), **call()).projected_seq
        instruments = list(stub.ListInstruments(pb.ListInstrumentsRequest(), **call()).instruments)
        orders: list[pb.Order] = []
        token = ""
        while True:
            page = stub.ListOrders(
                pb.ListOrdersRequest(status="open", page_size=_PAGE, page_token=token), **call()
            )
            orders += page.orders
            token = page.next_page_token
            if not token:
                break
        self.updates.put(Loaded(instruments, orders, as_of))
        return as_of

    def _poll(self) -> None:
        stub, call = self._client.stub, self._client.call
        while not self._stop.wait(_POLL_SECONDS):
            try:
                symbol = self._book_symbol()
                self.updates.put(
                    Polled(
                        stats=stub.GetEngineStats(pb.GetEngineStatsRequest(), **call()),
                        instruments=list(
                            stub.ListInstruments(pb.ListInstrumentsRequest(), **call()).instruments
                        ),
                        sessions=list(
                            stub.ListSessions(pb.ListSessionsRequest(), **call()).sessions
                        ),
                        risk=stub.GetRisk(pb.GetRiskRequest(), **call()),
                        kill_switches=list(
                            stub.ListKillSwitches(pb.ListKillSwitchesRequest(), **call()).engaged
                        ),
                        book=stub.GetBook(pb.GetBookRequest(symbol=symbol, levels=20), **call())
                        if symbol
                        else None,
                    )
                )
            except grpc.RpcError:
                continue  # the stream's thread says the venue is gone
