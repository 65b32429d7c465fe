"""StreamEvents: every committed command after the seq a client names, then each as it
commits; a client that reconnects with the last seq it saw misses nothing, across a
restart of the venue too."""

import threading
from pathlib import Path
from typing import Any

import grpc
import pytest

from nyquestro.control import control_pb2 as pb
from nyquestro.control.client import ControlClient
from tests.control.conftest import ControlServer
from tests.fix.conftest import Venue, rest

BUY = "1"


def take(stream: Any, accepted: int) -> list[pb.CommittedEvents]:
    """Read until `accepted` orders were accepted (a stream call is an iterator with
    `cancel`); what was read."""
    got: list[pb.CommittedEvents] = []
    timer = threading.Timer(10.0, stream.cancel)
    timer.start()
    try:
        for committed in stream:
            got.append(committed)
            accepted -= sum(e.type == "accepted" for e in committed.events)
            if accepted <= 0:
                return got
    finally:
        timer.cancel()
    raise AssertionError(f"the stream ended with {accepted} acceptances to come: {got}")


def last_seq(client: ControlClient) -> int:
    return client.stub.GetEngineStats(pb.GetEngineStatsRequest(), **client.call()).last_seq


def test_a_client_that_reconnects_with_its_last_seq_misses_nothing(
    venue: Venue, ops: ControlClient
) -> None:
    start = last_seq(ops)
    fix = venue.client("CLIENT1", "FIX.4.4")
    first = ops.stub.StreamEvents(pb.StreamEventsRequest(after_seq=start), **ops.stream())
    sent = [rest(fix, "AAPL", BUY, 10 + i, "180.00") for i in range(3)]
    seen = take(first, 3)
    first.cancel()
    # Disconnected meanwhile: two more orders.
    sent += [rest(fix, "AAPL", BUY, 20 + i, "180.00") for i in range(2)]
    again = ops.stub.StreamEvents(pb.StreamEventsRequest(after_seq=seen[-1].seq), **ops.stream())
    seen += take(again, 2)
    again.cancel()
    assert [c.seq for c in seen] == list(range(start + 1, seen[-1].seq + 1))
    accepted = [e for c in seen for e in c.events if e.type == "accepted"]
    assert [e.session for e in accepted] == ["FIX.4.4:NYQUESTRO->CLIENT1"] * 5
    assert all(e.symbol == "AAPL" and e.order_id for e in accepted)
    assert '"cl_ord_id":"' + sent[4] + '"' in accepted[4].fields_json


def test_a_seq_ahead_of_the_venue_is_refused(ops: ControlClient) -> None:
    ahead = last_seq(ops) + 1000
    stream = ops.stub.StreamEvents(pb.StreamEventsRequest(after_seq=ahead), **ops.stream())
    with pytest.raises(grpc.RpcError) as raised:
        next(iter(stream))
    assert raised.value.code() is grpc.StatusCode.OUT_OF_RANGE
    assert f"after_seq {ahead} is ahead" in raised.value.details()


def test_the_stream_resumes_across_a_venue_restart(tmp_path: Path) -> None:
    server = ControlServer(tmp_path)
    server.start()
    try:
        venue = Venue(server)
        with server.client() as ops:
            stream = ops.stub.StreamEvents(pb.StreamEventsRequest(after_seq=0), **ops.stream())
            rest(venue.client("CLIENT2", "FIX.4.2"), "IBM", BUY, 7, "175.00")
            seen = take(stream, 1)
            stream.cancel()
        # After the client left: its order's cancel, which the restarted venue's
        # snapshot covers, so the new control plane holds no event of it in memory.
        venue.cleanup()
        server.restart(fresh=False)
        venue = Venue(server)
        with server.client() as ops:
            assert (
                ops.stub.GetEngineStats(pb.GetEngineStatsRequest(), **ops.call()).history_from_seq
                > seen[-1].seq
            )
            resumed = ops.stub.StreamEvents(
                pb.StreamEventsRequest(after_seq=seen[-1].seq), **ops.stream()
            )
            rest(venue.client("CLIENT2", "FIX.4.2"), "IBM", BUY, 8, "175.00")
            after = take(resumed, 1)
            resumed.cancel()
            assert [c.seq for c in after] == list(range(seen[-1].seq + 1, after[-1].seq + 1))
            assert after[0].events[0].type == "cancelled"
            # From the very start: the audit trail, then this process's history.
            whole = ops.stub.StreamEvents(pb.StreamEventsRequest(after_seq=0), **ops.stream())
            everything = take(whole, 2)
            whole.cancel()
            assert [c.seq for c in everything] == list(range(1, everything[-1].seq + 1))
        venue.cleanup()
    finally:
        server.stop()


def test_without_an_audit_trail_history_before_the_snapshot_is_refused(tmp_path: Path) -> None:
    server = ControlServer(tmp_path, audit=False)
    server.start()
    try:
        venue = Venue(server)
        rest(venue.client("CLIENT3", "FIX.4.4"), "IBM", BUY, 7, "175.00")
        venue.cleanup()
        server.restart(fresh=False)
        with server.client() as ops:
            start = ops.stub.GetEngineStats(pb.GetEngineStatsRequest(), **ops.call())
            assert start.history_from_seq > 0
            stream = ops.stub.StreamEvents(pb.StreamEventsRequest(after_seq=0), **ops.stream())
            with pytest.raises(grpc.RpcError) as raised:
                next(iter(stream))
            error = raised.value
            assert error.code() is grpc.StatusCode.OUT_OF_RANGE
            assert (
                f"command 1 is neither in the control plane's history (it resumes after "
                f"{start.history_from_seq} at the earliest) nor in the audit trail"
            ) in error.details()
    finally:
        server.stop()
