"""Throttles: each session's own token buckets. A flooding session is refused, with a
reason, beyond its rate (reject mode) or has its messages held and handled at its rate
(queue mode); another session at a normal pace is never refused nor delayed."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nyquestro.config.instruments import default_instruments
from nyquestro.engine import Engine
from nyquestro.gateways.fix.acceptor import session_key_of
from nyquestro.gateways.fix.message import OutMessage
from nyquestro.gateways.fix.throttle import HeldFields, TokenBucket
from nyquestro.gateways.fix.venue import FixVenue
from nyquestro.runtime.sequencer import Sequencer
from tests.fix.client import FixClient, Msg
from tests.fix.conftest import Server

BUY = "1"
SECOND = 1_000_000_000
QUEUED_TEXT = "throttled: more than {} messages queued on this session"


def test_a_bucket_allows_a_burst_of_its_rate_then_refills_at_it() -> None:
    bucket = TokenBucket(4)
    assert [bucket.take(0) for _ in range(5)] == [True] * 4 + [False]
    assert not bucket.take(SECOND // 4 - 1)  # not quite a token yet
    assert bucket.take(SECOND // 4)
    assert not bucket.take(SECOND // 4)
    # Idle time refills up to one second's worth, no more.
    assert [bucket.take(100 * SECOND) for _ in range(5)] == [True] * 4 + [False]


def test_a_flooding_session_is_refused_and_another_is_not(tmp_path: Path) -> None:
    server = Server(tmp_path, fix_settings="orders_per_second = 20\n")
    flooder = FixClient(0, "CLIENT1", "FIX.4.4")
    calm = FixClient(0, "CLIENT2", "FIX.4.2")
    server.start()
    try:
        flooder.port = calm.port = server.port
        flooder.logon()
        calm.logon()
        started = time.monotonic()
        ids = [flooder.new_order("IBM", BUY, 1, "150.00") for _ in range(200)]
        calm_ids = []
        for _ in range(5):
            calm_ids.append(calm.new_order("IBM", BUY, 1, "150.00"))
            time.sleep(0.1)
        answers = [flooder.expect("8", {11: cl_ord_id}) for cl_ord_id in ids]
        elapsed = time.monotonic() - started
        accepted = [a for a in answers if a[150] == "0"]
        refused = [a for a in answers if a[150] == "8"]
        assert 20 <= len(accepted) <= 20 + 20 * elapsed + 1, (len(accepted), elapsed)
        assert len(accepted) + len(refused) == 200
        assert refused[0][103] == "99"
        assert refused[0][58] == "throttled: more than 20 orders a second on this session"
        for cl_ord_id in calm_ids:
            assert calm.expect("8", {11: cl_ord_id})[150] == "0"
    finally:
        flooder.close()
        calm.close()
        server.stop()


def test_other_messages_beyond_the_message_rate_get_a_business_reject(tmp_path: Path) -> None:
    server = Server(tmp_path, fix_settings="messages_per_second = 3\n")
    client = FixClient(0, "CLIENT1", "FIX.4.4")
    server.start()
    try:
        client.port = server.port
        client.logon()
        for n in range(5):
            client.status(f"none{n}", "IBM", BUY)
        reject = client.expect("j")
        assert (reject[372], reject[380]) == ("H", "0")
        assert reject[58] == "throttled: more than 3 messages a second on this session"
    finally:
        client.close()
        server.stop()


def test_ready_takes_no_token_and_a_late_clock_reading_refills_nothing_twice() -> None:
    bucket = TokenBucket(2)
    assert bucket.ready(0) and bucket.ready(0)
    assert bucket.take(0) and bucket.take(0) and not bucket.ready(0)
    assert bucket.ready(SECOND // 2)
    # Another thread read the clock earlier and gets here later: that half second is
    # already counted, so it must not refill a second token.
    assert bucket.take(SECOND // 2 - 1000)
    assert not bucket.ready(SECOND // 2)


def test_held_fields_give_the_asked_tags_of_each_group_entry() -> None:
    held = HeldFields({146: "2", 262: "M1"}, {146: ({55: "IBM", 48: "x"}, {55: "AAPL"})})
    assert held.get(262) == "M1" and held.get(55) is None
    assert held.groups(146, 55, [55]) == [{55: "IBM"}, {55: "AAPL"}]
    assert held.groups(267, 269, [269]) == []
    assert held.detach() is held


# --- queue mode in the gateway core, on a clock the test sets -------------------------------


class QueueRig:
    """FixVenue on a real engine and sequencer, with sessions A and B in queue mode."""

    def __init__(self, orders_per_second: int, queue_limit: int) -> None:
        instruments = tuple(default_instruments())
        self.now = 0
        self.sent: list[tuple[str, OutMessage]] = []
        sequencer = Sequencer(Engine(instruments), lambda: self.now)
        self.venue = FixVenue(
            instruments,
            submit=sequencer.submit,
            read=sequencer.read,
            send=lambda key, message: self.sent.append((key, message)),
            clock=lambda: self.now,
        )
        sequencer.subscribe(self.venue.on_events)
        self.keys = {name: session_key_of("FIX.4.4", "NYQUESTRO", name) for name in "AB"}
        for key in self.keys.values():
            self.venue.add_session(
                key, "FIX.4.4", "ACC", cancel_on_disconnect=True,
                orders_per_second=orders_per_second, queue_limit=queue_limit,
            )  # fmt: skip
        self._seq = 0

    def order(self, session: str, cl_ord_id: str) -> None:
        self._seq += 1
        fields = {34: str(self._seq), 11: cl_ord_id, 55: "IBM", 54: BUY, 38: "1", 40: "2",
                  44: "150.00"}  # fmt: skip
        self.venue.on_message(self.keys[session], "D", HeldFields(fields, {}))

    def answers(self) -> list[tuple[str, str | None, str | None]]:
        """(message type, ClOrdID, ExecType) of everything sent, emptying the list."""
        taken, self.sent = self.sent, []
        return [(m.msg_type, m.get(11), m.get(150)) for _, m in taken]


def test_held_messages_go_in_order_as_tokens_come_round_robin_across_sessions() -> None:
    rig = QueueRig(orders_per_second=2, queue_limit=10)
    for n in range(1, 7):
        rig.order("A", f"A{n}")
    for n in range(1, 6):
        rig.order("B", f"B{n}")
    assert rig.answers() == [("8", c, "0") for c in ("A1", "A2", "B1", "B2")]
    assert rig.venue.release_queued() == 0  # no token yet
    rig.now = 10 * SECOND  # both buckets full again: two tokens each
    assert rig.venue.release_queued() == 4
    assert rig.answers() == [("8", c, "0") for c in ("A3", "B3", "A4", "B4")]
    rig.now += SECOND // 2
    assert rig.venue.release_queued() == 2
    assert rig.answers() == [("8", "A5", "0"), ("8", "B5", "0")]
    rig.now += SECOND // 2
    rig.order("B", "B6")  # B's queue is empty and it has a token: taken at once
    assert rig.answers() == [("8", "B6", "0")]
    assert rig.venue.release_queued() == 1
    assert rig.answers() == [("8", "A6", "0")]


def test_a_message_behind_held_ones_waits_even_with_a_token() -> None:
    rig = QueueRig(orders_per_second=1, queue_limit=10)
    rig.order("A", "A1")
    rig.order("A", "A2")
    rig.now = SECOND  # a token for A2; A3 must still not overtake it
    rig.order("A", "A3")
    assert rig.answers() == [("8", "A1", "0")]
    assert rig.venue.release_queued() == 1
    rig.now = 2 * SECOND
    assert rig.venue.release_queued() == 1
    assert rig.answers() == [("8", "A2", "0"), ("8", "A3", "0")]


def test_beyond_the_queue_limit_a_message_is_refused_and_at_logout_every_held_one() -> None:
    rig = QueueRig(orders_per_second=1, queue_limit=2)
    for n in range(1, 5):
        rig.order("A", f"A{n}")
    sent = list(rig.sent)
    assert rig.answers() == [("8", "A1", "0"), ("8", "A4", "8")]
    assert sent[1][1].get(58) == QUEUED_TEXT.format(2)
    rig.venue.on_logout(rig.keys["A"])
    texts = [m.get(58) for _, m in rig.sent if m.get(150) == "8"]
    assert rig.answers()[:2] == [("8", "A2", "8"), ("8", "A3", "8")]
    assert texts == ["throttled: the session logged out while this message was queued"] * 2
    rig.now = 10 * SECOND
    assert rig.venue.release_queued() == 0


# --- queue mode over FIX -------------------------------------------------------------------


@pytest.fixture(scope="module")
def queueing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Every session in queue mode at 20 orders a second, room for 200 held messages."""
    settings = 'orders_per_second = 20\nthrottle_mode = "queue"\nthrottle_queue_limit = 200\n'
    server = Server(tmp_path_factory.mktemp("queueing"), fix_settings=settings)
    server.start()
    yield server
    server.stop()


def transact_ns(report: Msg) -> int:
    """The venue's TransactTime (60) of a report, in ns since the epoch."""
    stamp = datetime.strptime(report[60], "%Y%m%d-%H:%M:%S.%f").replace(tzinfo=UTC)
    return int(stamp.timestamp() * 1000) * 1_000_000


def collect_reports(client: FixClient, ids: list[str], timeout: float) -> list[Msg]:
    """The ExecutionReports for `ids`, in the order they arrived, waiting up to `timeout`;
    anything else read meanwhile stays in the client's inbox."""
    wanted, got = set(ids), []
    deadline = time.monotonic() + timeout
    while len(got) < len(ids) and (left := deadline - time.monotonic()) > 0:
        msg = client.receive(left)
        if msg is not None and msg.type == "8" and msg.get(11) in wanted:
            got.append(msg)
        elif msg is not None:
            client.inbox.append(msg)
    assert len(got) == len(ids), f"{len(got)} of {len(ids)} answered within {timeout}s"
    return got


def test_queue_mode_acknowledges_a_burst_in_order_at_the_rate(
    queueing: Server, version: str
) -> None:
    client = FixClient(queueing.port, "CLIENT1", version)
    try:
        client.logon()
        ids = [client.new_order("IBM", BUY, 1, "150.00") for _ in range(50)]
        reports = collect_reports(client, ids, timeout=30.0)
        assert [r[11] for r in reports] == ids
        assert [r[150] for r in reports] == ["0"] * 50
        # 20 at once, the other 30 at 20 a second on the venue's clock (which stamps
        # TransactTime; ms resolution, hence the slack).
        times = [transact_ns(r) for r in reports]
        assert times[-1] - times[0] >= 1.5 * SECOND - 10_000_000
        first_half_second = [t for t in times if t - times[0] < SECOND // 2]
        assert len(first_half_second) <= 20 + 10 + 1
    finally:
        client.close()


def test_a_session_at_a_normal_pace_is_not_held_behind_a_flood(queueing: Server) -> None:
    flooder = FixClient(queueing.port, "CLIENT2", "FIX.4.4")
    calm = FixClient(queueing.port, "CLIENT3", "FIX.4.2")
    try:
        flooder.logon()
        calm.logon()
        flood = [flooder.new_order("IBM", BUY, 1, "150.00") for _ in range(60)]
        calm_reports = []
        for _ in range(5):
            cl_ord_id = calm.new_order("IBM", BUY, 1, "150.00")
            calm_reports.append(calm.expect("8", {11: cl_ord_id}, timeout=10.0))
        flood_reports = collect_reports(flooder, flood, timeout=30.0)
        assert [r[150] for r in calm_reports + flood_reports] == ["0"] * 65
        # The flood's last 40 wait for tokens for 2 s of the venue's clock; the calm
        # session's orders were handled while they waited.
        assert transact_ns(calm_reports[-1]) < transact_ns(flood_reports[-1])
        assert transact_ns(flood_reports[-1]) - transact_ns(flood_reports[0]) >= SECOND
    finally:
        flooder.close()
        calm.close()


@pytest.fixture(scope="module")
def tight_queue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Queue mode at 2 orders and 2 messages a second, at most 3 held per session."""
    settings = (
        'orders_per_second = 2\nmessages_per_second = 2\nthrottle_mode = "queue"\n'
        "throttle_queue_limit = 3\n"
    )
    server = Server(tmp_path_factory.mktemp("tight"), fix_settings=settings)
    server.start()
    yield server
    server.stop()


def test_beyond_the_queue_limit_messages_are_refused_with_the_reason(
    tight_queue: Server, version: str
) -> None:
    client = FixClient(tight_queue.port, "CLIENT1", version)
    try:
        client.logon()
        # Sent well within the half second the next token takes: 2 taken, 3 held, the
        # rest refused; the status request too, with a BusinessMessageReject.
        ids = [client.new_order("IBM", BUY, 1, "150.00") for _ in range(10)]
        client.status("none", "IBM", BUY)
        reports = {r[11]: r for r in collect_reports(client, ids, timeout=10.0)}
        accepted = [i for i in ids if reports[i][150] == "0"]
        refused = [reports[i] for i in ids if reports[i][150] == "8"]
        assert accepted == ids[:5]
        assert len(refused) == 5
        for report in refused:
            assert report[58] == QUEUED_TEXT.format(3)
            assert report[103] == ("99" if version == "FIX.4.4" else "0")
        reject = client.expect("j")
        assert (reject[372], reject[380], reject[58]) == ("H", "0", QUEUED_TEXT.format(3))
    finally:
        client.close()


def test_a_held_market_data_request_keeps_its_groups(tight_queue: Server, version: str) -> None:
    client = FixClient(tight_queue.port, "CLIENT2", version)
    try:
        client.logon()
        client.status("none1", "IBM", BUY)
        client.status("none2", "IBM", BUY)  # the second message token of this second
        md_req_id = client.subscribe(["IBM", "MSFT"], entry_types=("0", "1"), kind="0")
        for symbol in ("IBM", "MSFT"):
            client.expect("W", {262: md_req_id, 55: symbol}, timeout=10.0)
        assert not [m for m in client.drain() if m.type in ("Y", "j")]
    finally:
        client.close()
