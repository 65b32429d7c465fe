"""Throttles: each session's own token buckets. A flooding session is refused, with a
reason, beyond its rate; another session at a normal pace is never refused."""

import time
from pathlib import Path

from nyquestro.gateways.fix.throttle import TokenBucket
from tests.fix.client import FixClient
from tests.fix.conftest import Server

BUY = "1"
SECOND = 1_000_000_000


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
