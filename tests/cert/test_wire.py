"""The cert client's wire layer: framing, checksums and numbering, without sockets."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nyquestro.cert.session import ClientSession, ClientSpec, Outgoing
from nyquestro.codec.fix_wire import Splitter, WireError, checksum, encode

SPEC = ClientSpec("c", "CLIENT1", "NYQUESTRO", "FIX.4.4")
NOW = "20261207-12:00:00.000"


def test_a_message_is_framed_with_its_body_length_and_checksum() -> None:
    data = encode("FIX.4.4", [(35, "0"), (34, "2")])
    assert (
        data == b"8=FIX.4.4\x019=10\x0135=0\x0134=2\x0110=" + checksum(data[:-7]).encode() + b"\x01"
    )
    (msg,) = Splitter().feed(data)
    assert (msg.type, msg.seq, msg.text()[-7:]) == (
        "0",
        2,
        data[-7:].replace(b"\x01", b"|").decode(),
    )


def test_body_length_and_checksum_can_be_set_wrong_on_purpose() -> None:
    data = encode("FIX.4.2", [(35, "0")], body_length=99, check="000")
    assert data.startswith(b"8=FIX.4.2\x019=99\x01") and data.endswith(b"10=000\x01")


values = st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="="),
                 min_size=1, max_size=12)  # fmt: skip
messages = st.lists(st.lists(st.tuples(st.integers(11, 9999), values), max_size=6), min_size=1,
                    max_size=5)  # fmt: skip


@given(messages, st.lists(st.integers(1, 40), max_size=20))
def test_any_cut_of_the_stream_gives_the_same_messages(
    bodies: list[list[tuple[int, str]]], cuts: list[int]
) -> None:
    stream = b"".join(encode("FIX.4.4", [(35, "8"), *body]) for body in bodies)
    splitter = Splitter()
    got = []
    at = 0
    for cut in [*cuts, len(stream)]:
        got.extend(splitter.feed(stream[at : at + cut]))
        at += cut
    got.extend(splitter.feed(stream[at:]))
    assert [list(m.pairs)[3:-1] for m in got] == bodies


def test_bytes_that_are_not_fix_are_named() -> None:
    with pytest.raises(WireError, match="BeginString"):
        list(Splitter().feed(b"HTTP/1.1 200 OK\r\n"))
    with pytest.raises(WireError, match="BodyLength"):
        list(Splitter().feed(b"8=FIX.4.4\x0135=0\x01"))


def test_numbering_follows_the_highest_sent_and_a_reset_logon_starts_again() -> None:
    session = ClientSession(SPEC)
    session.build(Outgoing("A", [(98, "0"), (108, "30")]), NOW)
    session.build(Outgoing("0", seq=7), NOW)
    assert session.next_out == 8
    session.build(Outgoing("0", seq=3), NOW)  # too low on purpose: numbering goes on at 8
    assert session.next_out == 8
    logon = session.build(Outgoing("A", [(98, "0"), (108, "30"), (141, "Y")]), NOW)
    assert b"\x0134=1\x01" in logon and session.next_out == 2


def test_header_fields_are_replaced_in_place_and_added_after_sending_time() -> None:
    data = ClientSession(SPEC).build(Outgoing("0", header=[(49, "OTHER"), (43, "Y")]), NOW)
    (msg,) = Splitter().feed(data)
    assert [tag for tag, _ in msg.pairs] == [8, 9, 35, 49, 56, 34, 52, 43, 10]
    assert msg.get(49) == "OTHER"


def test_a_test_request_is_answered_unless_the_client_is_silent() -> None:
    (request,) = Splitter().feed(encode("FIX.4.4", [(35, "1"), (34, "2"), (112, "T1")]))
    answer = ClientSession(SPEC).received(request, NOW)
    assert answer is not None and b"35=0\x01" in answer and b"112=T1\x01" in answer
    silent = ClientSpec("s", "CLIENT2", "NYQUESTRO", "FIX.4.4", answer_test_requests=False)
    assert ClientSession(silent).received(request, NOW) is None
