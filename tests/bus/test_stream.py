"""The committed stream over real Unix sockets: a gateway resumes from the ring after the
command it names, is told `gone` when the ring no longer reaches back, a slow one is cut
off without the core ever waiting, a broken one does not disturb the others, and a clean
stop ends every stream with END after the last entry."""

import os
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from nyquestro.bus.framing import frame
from nyquestro.bus.stream import (
    Gone,
    StreamClient,
    StreamServer,
    VenueTime,
    command_message,
    encode_entry,
    finished_message,
    mark_message,
    set_clock_message,
)

_counter = iter(range(1_000_000))


@pytest.fixture
def address() -> str:
    return f"@nyquestro-test-{os.getpid()}-{next(_counter)}"


@pytest.fixture
def server(address: str) -> Iterator[StreamServer]:
    bus = StreamServer(address, last_seq=0, retain=100, max_backlog=1 << 20)
    bus.start()
    yield bus
    bus.close(0.5)


def publish(server: StreamServer, first: int, last: int) -> None:
    for seq in range(first, last + 1):
        server.append(seq, encode_entry(seq, [f"body {seq}".encode()]))
    server.flush()


def read_until(client: StreamClient, last: int) -> list[int]:
    seqs: list[int] = []
    while not seqs or seqs[-1] < last:
        entries = client.read()
        assert entries is not None, f"the stream ended after {seqs[-1:]}"
        for seq, body in entries:
            assert body == f"body {seq}".encode()
            seqs.append(int(seq))  # type: ignore[call-overload]
    return seqs


def recording_server(
    address: str, calls: list[tuple[str, object]], *, last_seq: int, recovering: bool = False
) -> StreamServer:
    """A started server that takes commands and marks, noting each in `calls`."""
    bus = StreamServer(
        address, last_seq=last_seq, recovering=recovering,
        on_command=lambda name, frame: calls.append((name, frame)),
        on_mark=lambda name, token: calls.append((name, token)),
    )  # fmt: skip
    bus.start()
    return bus


def close_later(client: StreamClient) -> None:
    """Bound a read that might never be answered: closing the socket ends it (None)."""
    timer = threading.Timer(5, client.close)
    timer.daemon = True
    timer.start()


def test_a_gateway_gets_the_ring_after_its_command_then_live_entries_then_end(
    server: StreamServer, address: str
) -> None:
    publish(server, 1, 30)
    client = StreamClient(address, "itch", after=12, timeout=5)
    assert read_until(client, 30) == list(range(13, 31))
    assert client.joined_at == 30
    assert server.wait_for("itch", 5) and server.subscribers() == ["itch"]
    publish(server, 31, 40)
    assert read_until(client, 40) == list(range(31, 41))
    server.close(1.0)
    assert client.read() is None and client.ended


def test_open_reaches_every_joined_gateway_and_each_that_joins_later_after_its_history(
    server: StreamServer, address: str
) -> None:
    publish(server, 1, 3)
    early = StreamClient(address, "fix", after=0, timeout=5)
    assert read_until(early, 3) == [1, 2, 3] and not early.opened
    server.open()
    # A read that OPEN does not answer ends when the timer closes the socket (None).
    close_later(early)
    assert early.read() == [] and early.opened  # OPEN alone still answers the read
    publish(server, 4, 4)
    late = StreamClient(address, "itch", after=1, timeout=5)
    close_later(late)
    # Its history, then OPEN: a gateway restarted while the venue runs opens at once.
    assert read_until(late, 4) == [2, 3, 4]
    if not late.opened:
        assert late.read() == []
    assert late.opened


def test_a_gateway_that_asks_for_more_than_the_ring_holds_is_told_where_it_starts(
    server: StreamServer, address: str
) -> None:
    publish(server, 1, 250)  # the ring keeps the last 100
    client = StreamClient(address, "itch", after=10, timeout=5)
    with pytest.raises(Gone) as gone:
        client.read()
    assert gone.value.seq == 150
    client.close()
    again = StreamClient(address, "itch", after=150, timeout=5)
    assert read_until(again, 250) == list(range(151, 251))


def test_a_gateway_ahead_of_the_ring_gets_only_what_follows_its_command(
    server: StreamServer, address: str
) -> None:
    publish(server, 1, 5)
    client = StreamClient(address, "itch", after=7, timeout=5)  # read 6, 7 from the journal
    assert client.read() == [] and client.joined_at == 5
    publish(server, 6, 9)
    assert read_until(client, 9) == [8, 9]


def test_a_gateway_that_does_not_read_is_cut_off_and_the_core_never_waits(
    server: StreamServer, address: str
) -> None:
    stalled = StreamClient(address, "stalled", after=0, timeout=5)  # and never reads
    reader = StreamClient(address, "reader", after=0, timeout=5)
    assert server.wait_for("stalled", 5) and server.wait_for("reader", 5)
    got: list[int] = []
    big = b"x" * 4096
    last = 3000  # ~12 MB: past the 1 MiB backlog and every socket buffer

    def drain() -> None:
        while not got or got[-1] < last:
            entries = reader.read()
            assert entries is not None
            got.extend(int(seq) for seq, _body in entries)  # type: ignore[call-overload]

    thread = threading.Thread(target=drain)
    thread.start()
    for seq in range(1, last + 1):
        server.append(seq, encode_entry(seq, [big]))
        server.flush()
    thread.join(30)
    assert got == list(range(1, last + 1))
    deadline = time.monotonic() + 5
    while "stalled" in server.subscribers() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.subscribers() == ["reader"]
    stalled.close()


def test_history_larger_than_the_backlog_limit_is_not_a_backlog(address: str) -> None:
    """A core's ring holds a snapshot interval's tail, more than a laggard may fall behind:
    a gateway joining after it is handed all of it and is not cut off for that."""
    bus = StreamServer(address, last_seq=0, retain=1_000, max_backlog=64 << 10)
    try:
        big = b"x" * 1024
        for seq in range(1, 1_001):  # ~1 MiB of history: 16 times the limit
            bus.append(seq, encode_entry(seq, [big]))
        bus.start()
        client = StreamClient(address, "late", after=0, timeout=5)
        close_later(client)
        got: list[int] = []
        while not got or got[-1] < 1_000:
            entries = client.read()
            assert entries is not None, f"cut off after {got[-1:]}"
            got.extend(int(seq) for seq, _body in entries)  # type: ignore[call-overload]
        assert got == list(range(1, 1_001))
        assert bus.subscribers() == ["late"]
        client.close()
    finally:
        bus.close(0.5)


def test_a_gateway_that_breaks_the_protocol_is_cut_off_and_the_others_carry_on(
    server: StreamServer, address: str
) -> None:
    rogue = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    rogue.connect("\0" + address[1:])
    rogue.sendall(frame(b"\x93\x07\x07\x07"))  # [7, 7, 7]: no hello
    rogue.settimeout(5)
    assert rogue.recv(100) == b""  # closed by the server
    rogue.close()
    client = StreamClient(address, "itch", after=0, timeout=5)
    publish(server, 1, 3)
    assert read_until(client, 3) == [1, 2, 3]


def test_a_client_waits_for_a_core_that_is_not_listening_yet(address: str) -> None:
    late: list[StreamServer] = []

    def listen_later() -> None:
        time.sleep(0.3)
        bus = StreamServer(address, last_seq=4)
        bus.start()
        late.append(bus)

    thread = threading.Thread(target=listen_later)
    thread.start()
    client = StreamClient(address, "itch", after=4, timeout=10)
    thread.join()
    assert client.read() == [] and client.joined_at == 4
    late[0].close(0.5)
    assert client.read() is None and client.ended


def test_commands_and_marks_reach_the_core_in_order_and_marks_come_back_behind_entries(
    address: str,
) -> None:
    calls: list[tuple[str, object]] = []
    bus = recording_server(address, calls, last_seq=0)
    try:
        client = StreamClient(address, "fix", after=0, timeout=5)
        assert client.read() == []
        assert bus.joins("fix") == 1 and bus.joins("itch") == 0
        client.send(command_message(b"first"))
        client.send(mark_message(7))
        client.send(command_message(b"second"))
        deadline = time.monotonic() + 5
        while len(calls) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert calls == [("fix", b"first"), ("fix", 7), ("fix", b"second")]
        # The core answers the mark behind the entry it appended first; settings go to
        # every gateway in their place among the entries.
        publish(bus, 1, 1)
        bus.mark("fix", 7)
        bus.broadcast(b"new throttles")
        publish(bus, 2, 2)
        received: list[object] = []
        while len(received) < 4:
            items = client.read()
            assert items is not None
            received += items
        assert received == [[1, b"body 1"], 7, b"new throttles", [2, b"body 2"]]
        assert not bus.wait_finished("fix", 0.05)
        client.send(finished_message())
        assert bus.wait_finished("fix", 5)
        client.close()
    finally:
        bus.close(0.5)


def test_a_clock_set_reaches_the_core_and_its_time_every_gateway_late_joiners_too(
    address: str,
) -> None:
    sets: list[tuple[str, int]] = []
    bus = StreamServer(address, last_seq=0, on_set_clock=lambda name, ts: sets.append((name, ts)))
    bus.start()
    try:
        control = StreamClient(address, "control", after=0, timeout=5)
        assert control.read() == []
        control.send(set_clock_message(1_700_000_000_000_000_000))
        deadline = time.monotonic() + 5
        while not sets and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sets == [("control", 1_700_000_000_000_000_000)]
        publish(bus, 1, 1)
        bus.clock(1_700_000_000_000_000_000)
        received: list[object] = []
        while len(received) < 2:
            items = control.read()
            assert items is not None
            received += items
        assert received == [[1, b"body 1"], VenueTime(1_700_000_000_000_000_000)]
        # One that joins later hears the time right after its history.
        late = StreamClient(address, "fix", after=0, timeout=5)
        close_later(late)
        later: list[object] = []
        while len(later) < 2:
            items = late.read()
            assert items is not None
            later += items
        assert later == [[1, b"body 1"], VenueTime(1_700_000_000_000_000_000)]
    finally:
        bus.close(0.5)


def test_late_commands_are_refused_once_a_stop_is_under_way(address: str) -> None:
    calls: list[bytes] = []
    marks: list[int] = []
    bus = StreamServer(address, last_seq=0, on_command=lambda _n, frame: calls.append(frame),
                       on_mark=lambda _n, token: marks.append(token))  # fmt: skip
    bus.start()
    try:
        client = StreamClient(address, "websocket", after=0, timeout=5)
        assert client.read() == []
        bus.refuse_commands()
        client.send(command_message(b"too late"))
        client.send(mark_message(1))  # marks are still answered: a query is not a command
        deadline = time.monotonic() + 5
        while not marks and time.monotonic() < deadline:
            time.sleep(0.01)
        assert calls == [] and marks == [1]
        client.close()
    finally:
        bus.close(0.5)


def test_a_recovering_core_sends_history_as_it_replays_and_says_where_it_ends_after(
    address: str,
) -> None:
    """A gateway says hello while the core still replays its journal: it gets each
    replayed entry as it comes, JOINED only once the core has recovered (so all of them
    are history), and a command it sends before JOINED cuts it off."""
    calls: list[tuple[str, object]] = []
    bus = recording_server(address, calls, last_seq=10, recovering=True)
    try:
        client = StreamClient(address, "fix", after=10, timeout=5)
        assert bus.wait_for("fix", 5)
        close_later(client)
        publish(bus, 11, 15)  # replayed
        assert read_until(client, 15) == [11, 12, 13, 14, 15]
        assert client.joined_at is None
        publish(bus, 16, 20)
        bus.recovered()
        assert read_until(client, 20) == [16, 17, 18, 19, 20]
        while client.joined_at is None:
            assert client.read() is not None
        assert client.joined_at == 20
        publish(bus, 21, 21)  # live
        assert read_until(client, 21) == [21]
        late = StreamClient(address, "itch", after=18, timeout=5)  # after: at once
        close_later(late)
        assert read_until(late, 21) == [19, 20, 21]
        assert late.joined_at == 21

        early = StreamServer(f"{address}-early", last_seq=0, recovering=True,
                             on_command=lambda n, f: None, on_mark=lambda n, t: None)  # fmt: skip
        early.start()
        try:
            impatient = StreamClient(f"{address}-early", "fix", after=0, timeout=5)
            assert early.wait_for("fix", 5)
            impatient.send(command_message(b"too early"))
            close_later(impatient)
            assert impatient.read() is None and not impatient.ended
            assert early.subscribers() == []
        finally:
            early.close(0.5)
        assert calls == []
    finally:
        bus.close(0.5)
