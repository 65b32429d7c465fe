"""The book a client rebuilds from the feed is the engine's displayed book.

Random flows (tests/runtime/flows.py: every order type, icebergs, pegs, SMP, replaces,
halts, mass cancels, kill switches, end of day) run through a real Engine; its events go
to the ItchFeed in-process. Truth is the engine's own `book_orders` (displayed orders in
priority order with their visible quantity) and `depth` (level totals).
"""

import socket

from hypothesis import given, settings
from hypothesis import strategies as st

from nyquestro.domain.enums import Side, TradingPhase
from nyquestro.engine import Engine
from nyquestro.gateways.itch import requests as r
from nyquestro.gateways.itch.depth import BBO, TOP_N
from nyquestro.gateways.itch.feed import FEED, Batch, ItchFeed
from nyquestro.gateways.itch.framing import FrameReader, frame, session_field
from nyquestro.gateways.itch.messages import decode
from nyquestro.marketdata.builder import BookBuilder
from tests.itch.rig import (
    INSTRUMENTS,
    SIDES,
    Lossy,
    Rig,
    assert_books_match,
    engine_levels,
)
from tests.runtime.flows import random_flow

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


class Direct:
    """A feed whose packets are decoded straight into a builder: no sockets, per-command
    checks."""

    def __init__(self) -> None:
        self.builder = BookBuilder()
        self.next = 1
        self.feed = ItchFeed(INSTRUMENTS, self.deliver, session=session_field("T"))

    def deliver(self, key: str, message: object) -> None:
        assert key == FEED and isinstance(message, Batch)
        assert message.first == self.next, "batches leave in sequence, without holes"
        for data in message.messages:
            self.builder.apply(decode(data))
            self.next += 1


@settings(max_examples=60, deadline=None)
@given(SEEDS, st.integers(min_value=1, max_value=300))
def test_after_every_command_the_rebuilt_book_is_the_engines(seed: int, length: int) -> None:
    engine, direct = Engine(INSTRUMENTS), Direct()
    for command in random_flow(seed, length):
        direct.feed.on_events(command, engine.process(command))
        assert_books_match(engine, direct.builder)
        assert direct.builder.halted == shown_halted(engine)


def shown_halted(engine: Engine) -> set[str]:
    """Stocks the feed shows in state 'H': halted, or closed (ITCH has no closed state)."""
    closed = (TradingPhase.POST_CLOSE, TradingPhase.CLOSED)
    return {
        i.symbol
        for i in INSTRUMENTS
        if engine.is_halted(i.symbol) or engine.phase(i.symbol) in closed
    }


@settings(max_examples=20, deadline=None)
@given(SEEDS)
def test_the_same_events_give_the_same_bytes(seed: int) -> None:
    sent: list[list[bytes]] = [[], []]
    for run in sent:
        engine = Engine(INSTRUMENTS)
        feed = ItchFeed(INSTRUMENTS, lambda _k, batch, run=run: run.extend(batch.messages),
                        session=session_field("T"))  # fmt: skip
        for command in random_flow(seed, 150):
            feed.on_events(command, engine.process(command))
    assert sent[0] == sent[1]


@settings(max_examples=8, deadline=None)
@given(SEEDS)
def test_over_loopback_udp_the_client_book_is_the_engines(seed: int) -> None:
    rig = Rig()
    try:
        rig.run(random_flow(seed, 400))
        assert rig.caught_up()
        rig.client.read(lambda: assert_books_match(rig.engine, rig.client.builder))
        assert rig.client.recoveries == {"retransmit": 0, "snapshot": 0}
    finally:
        rig.close()


@settings(max_examples=8, deadline=None)
@given(SEEDS)
def test_lost_and_reordered_packets_are_recovered_by_retransmission(seed: int) -> None:
    lossy = Lossy(seed, drop=0.1, reorder=0.1)
    rig = Rig(lossy=lossy)
    rig.connect_requests()
    try:
        rig.run(random_flow(seed, 600))
        assert rig.caught_up()
        rig.client.read(lambda: assert_books_match(rig.engine, rig.client.builder))
        if lossy.dropped:
            assert rig.client.recoveries["retransmit"] > 0
    finally:
        rig.close()


@settings(max_examples=6, deadline=None)
@given(SEEDS)
def test_a_gap_older_than_retention_is_recovered_from_a_book_snapshot(seed: int) -> None:
    lossy = Lossy(seed, drop=0.0, reorder=0.0)
    rig = Rig(lossy=lossy, retain=16)
    try:
        flow = random_flow(seed, 500)
        rig.run(flow[:20])
        assert rig.caught_up()
        lossy.drop = 1.0  # the client hears nothing of the next stretch...
        rig.run(flow[20:400])
        lossy.drop = 0.0
        rig.connect_requests()  # ...which the server no longer retains by the time it asks
        rig.run(flow[400:])
        assert rig.caught_up()
        rig.client.read(lambda: assert_books_match(rig.engine, rig.client.builder))
        if rig.gateway.feed.next_seq > 40:
            assert rig.client.recoveries["snapshot"] > 0
    finally:
        rig.close()


def test_depth_snapshots_match_the_engines_levels_at_their_sequence_number() -> None:
    rig = Rig(depth=True)
    try:
        rig.run(random_flow(7, 300))
        assert rig.caught_up()
        locates = {s.symbol: s.locate for s in rig.gateway.feed.stocks}
        last = rig.gateway.feed.next_seq - 1

        def fresh() -> bool:
            return all(
                rig.client.depth.get((loc, kind), (0,))[0] == last
                for loc in locates.values()
                for kind in (BBO, TOP_N)
            )

        assert rig.client.wait_for(fresh, 10.0)
        for inst in INSTRUMENTS:
            for side, _letter in SIDES:
                want = engine_levels(rig.engine, inst.symbol, side)
                _seq, top = rig.client.depth[(locates[inst.symbol], TOP_N)]
                _seq, bbo = rig.client.depth[(locates[inst.symbol], BBO)]
                got = top.bids if side is Side.BUY else top.asks
                best = bbo.bids if side is Side.BUY else bbo.asks
                assert list(got) == want[:5] and list(best) == want[:1]
    finally:
        rig.close()


def test_a_feed_seeded_from_a_snapshot_shows_the_books_it_was_given() -> None:
    engine = Engine(INSTRUMENTS)
    for command in random_flow(11, 400):
        engine.process(command)
    direct = Direct()
    symbols = sorted(i.symbol for i in INSTRUMENTS)
    direct.feed.seed(
        [o for s in symbols for side, _ in SIDES for o in engine.book_orders(s, side)],
        [s for s in symbols if engine.is_halted(s)],
        {s: engine.phase(s) for s in symbols},
    )
    assert_books_match(engine, direct.builder)
    assert direct.builder.halted == shown_halted(engine)
    for command in random_flow(12, 300):  # and carries on from there
        shifted = type(command)(**{**_fields(command), "seq": command.seq + 400})
        direct.feed.on_events(shifted, engine.process(shifted))
    assert_books_match(engine, direct.builder)
    assert direct.builder.halted == shown_halted(engine)


def _fields(command: object) -> dict[str, object]:
    return {name: getattr(command, name) for name in command.__dataclass_fields__}  # type: ignore[attr-defined]


def test_bad_requests_get_an_error_and_the_server_keeps_answering() -> None:
    rig = Rig()
    try:
        rig.run(random_flow(3, 50))
        assert rig.gateway.server is not None
        address = ("127.0.0.1", rig.gateway.server.port)
        session = rig.gateway.feed.session
        with socket.create_connection(address, timeout=5) as conn:
            for bad in (b"", b"Q", r.encode_retransmit(b"WRONG     ", 1, 1), b"\xff" * 300):
                conn.sendall(frame(bad))
                assert _reply(conn)[0][:1] == r.ERROR
            conn.sendall(frame(r.encode_retransmit(session, 1, 3)))
            replies = _reply(conn)
            assert replies[-1][:1] == r.DONE
            assert r.decode_done(replies[-1][1:]) == r.Done(1, 3)
        with socket.create_connection(address, timeout=5) as conn:
            conn.sendall(b"\x00\x05R")  # a frame cut short, then the client leaves
        with socket.create_connection(address, timeout=5) as conn:
            conn.sendall(frame(r.encode_book_request(session)))
            assert _reply(conn)[-1][:1] == r.DONE
    finally:
        rig.close()


def _reply(conn: socket.socket) -> list[bytes]:
    reader, frames = FrameReader(), []
    while not frames or frames[-1][:1] not in (r.DONE, r.ERROR):
        data = conn.recv(65536)
        assert data, "the server closed the connection"
        frames += reader.feed(data)
    return frames
