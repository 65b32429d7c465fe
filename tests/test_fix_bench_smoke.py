"""The FIX benchmark runs end to end: its load generator gets answers from both targets.

One session, both targets in one run (as the benchmark runs them), about a second per
phase. No timing is asserted; every wait in the harness
and the client has a timeout, and the server is stopped (SIGTERM, then SIGKILL) when
`run_targets` leaves, however it leaves.
"""

import simplefix

from benchmarks.fix_bench import RunOptions, Target, run_targets
from benchmarks.fix_load import FixCodec, OrderFlow, field_value

TARGETS = [Target("bare", "file"), Target("nyquestro-process", "file", own_process=True)]


def test_load_generator_gets_a_report_for_every_request_from_both_targets() -> None:
    options = RunOptions(seconds=1.0, warmup=0.2, timeout=5.0, configured_sessions=1)
    runs = run_targets(TARGETS, 1, options)

    assert [run.target for run in runs] == TARGETS
    for run in runs:
        name = run.target.name
        assert run.errors == [], f"{name}: {run.profile}"  # profile: the server's log tail
        [ping] = run.phase("pingpong")
        assert ping.answers > 0, name
        assert len(ping.rtt_ns) == ping.answers
        assert all(ns > 0 for ns in ping.rtt_ns)
        [sustained] = run.phase("sustained")
        assert sustained.answers > 0, name
        assert sustained.max_in_flight > 1, "the sustained phase pipelines its requests"
        replies = run.replies()
        # Non-marketable orders: New reports, Canceled reports for the cancels, nothing else.
        assert replies["8/0"] > 0, name
        assert replies["8/4"] > 0, name
        assert set(replies) <= {"8/0", "8/4", "0"}, name  # "0": a Heartbeat, if one came due
        assert run.server_cpu_s["sustained"] >= 0


def test_codec_frames_messages_a_fix_parser_accepts() -> None:
    codec = FixCodec("CLIENT1", "NYQUESTRO")
    flow = OrderFlow(codec, "CLIENT1", seed=7, cancel_every=2)
    wire = b"".join(flow.next_request() for _ in range(6))
    parser = simplefix.FixParser()
    parser.append_buffer(wire)
    messages = []
    while (msg := parser.get_message()) is not None:
        messages.append(msg)
    assert [m.get(35) for m in messages] == [b"D", b"F", b"D", b"F", b"D", b"F"]
    assert [int(m.get(34)) for m in messages] == [1, 2, 3, 4, 5, 6]
    for raw, msg in zip(codec.feed(wire), messages, strict=True):
        # BodyLength counts from after its own field to the CheckSum field.
        body = raw[raw.index(b"\x0135=") + 1 : raw.rindex(b"10=")]
        assert int(msg.get(9)) == len(body)
        assert int(msg.get(10)) == sum(raw[: raw.rindex(b"10=")]) % 256
        assert field_value(raw, b"\x0111=") == msg.get(11)
    # A cancel names an order sent before it, and each order is cancelled at most once.
    new_ids = [m.get(11) for m in messages if m.get(35) == b"D"]
    cancelled = [m.get(41) for m in messages if m.get(35) == b"F"]
    assert set(cancelled) <= set(new_ids)
    assert len(set(cancelled)) == len(cancelled)
    assert len({m.get(11) for m in messages}) == len(messages)
