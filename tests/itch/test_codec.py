"""ITCH messages, depth messages, MoldUDP64 packets and request frames: each encodes to
its spec'd size and decodes back to itself; bad bytes come out as ItchError only."""

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nyquestro.gateways.itch import requests as r
from nyquestro.gateways.itch.depth import BBO, TOP_N, DepthSnapshot, decode_depth
from nyquestro.gateways.itch.errors import ItchError
from nyquestro.gateways.itch.framing import (
    HEADER,
    FrameReader,
    end_of_session,
    frame,
    heartbeat,
    pack_packets,
    parse_packet,
    session_field,
)
from nyquestro.gateways.itch.messages import (
    AddOrder,
    BrokenTrade,
    Message,
    NetOrderImbalance,
    NonCrossTrade,
    OrderCancel,
    OrderDelete,
    OrderExecuted,
    OrderExecutedWithPrice,
    OrderReplace,
    StockDirectory,
    StockTradingAction,
    SystemEvent,
    Unknown,
    decode,
)

H = {"locate": 3, "tracking": 0xBEEF, "timestamp": 86_399_999_999_999}
EXAMPLES: list[tuple[Message, int]] = [
    (SystemEvent(**H, code="O"), 12),
    (StockDirectory(**H, stock="AAPL", round_lot=100), 39),
    (StockTradingAction(**H, stock="ESZ6", state="H", reason="LUDP"), 25),
    (AddOrder(**H, ref=2**62 + 5, side="B", shares=100, stock="MSFT", price=1_900_000,
              attribution=None), 36),
    (AddOrder(**H, ref=7, side="S", shares=4_294_967_295, stock="IBM", price=1,
              attribution="CLI1"), 40),
    (OrderExecuted(**H, ref=7, shares=10, match=99), 31),
    (OrderExecutedWithPrice(**H, ref=7, shares=10, match=99, printable="Y", price=5), 36),
    (OrderCancel(**H, ref=7, shares=3), 23),
    (OrderDelete(**H, ref=7), 19),
    (OrderReplace(**H, old_ref=7, new_ref=2**62, shares=8, price=1_000_100), 35),
    (NonCrossTrade(**H, ref=0, side="S", shares=5, stock="AAPL", price=100, match=4), 44),
    (BrokenTrade(**H, match=4), 19),
    (NetOrderImbalance(**H, paired=2**40, imbalance=7, direction="S", stock="AAPL", far=1,
                       near=2, reference=3, cross="C", variation="L"), 50),
    (NetOrderImbalance(**H, paired=0, imbalance=0, direction="O", stock="IBM", far=0, near=0,
                       reference=0, cross="O", variation=" "), 50),
]  # fmt: skip


@pytest.mark.parametrize(("message", "size"), EXAMPLES, ids=lambda v: type(v).__name__)
def test_every_message_round_trips_at_its_spec_size(message: Message, size: int) -> None:
    data = message.encode()
    assert len(data) == size
    assert decode(data) == message


@pytest.mark.parametrize(("message", "size"), EXAMPLES, ids=lambda v: type(v).__name__)
def test_a_truncated_or_padded_message_is_an_itch_error(message: Message, size: int) -> None:
    data = message.encode()
    for bad in (data[:-1], data + b"\0"):
        with pytest.raises(ItchError):
            decode(bad)


def test_fields_are_big_endian_at_their_spec_offsets() -> None:
    data = AddOrder(locate=1, tracking=2, timestamp=3, ref=4, side="B", shares=5, stock="AB",
                    price=6, attribution=None).encode()  # fmt: skip
    assert data[0:1] == b"A"
    assert data[1:3] == b"\x00\x01" and data[3:5] == b"\x00\x02"
    assert data[5:11] == (3).to_bytes(6, "big")
    assert data[11:19] == (4).to_bytes(8, "big")
    assert data[19:20] == b"B" and data[20:24] == (5).to_bytes(4, "big")
    assert data[24:32] == b"AB      " and data[32:36] == (6).to_bytes(4, "big")


def test_noii_fields_sit_at_their_spec_offsets() -> None:
    data = NetOrderImbalance(locate=1, tracking=2, timestamp=3, paired=4, imbalance=5,
                             direction="B", stock="AB", far=6, near=7, reference=8, cross="C",
                             variation=" ").encode()  # fmt: skip
    assert data[0:1] == b"I" and data[11:19] == (4).to_bytes(8, "big")
    assert data[19:27] == (5).to_bytes(8, "big") and data[27:28] == b"B"
    assert data[28:36] == b"AB      " and data[36:40] == (6).to_bytes(4, "big")
    assert data[40:44] == (7).to_bytes(4, "big") and data[44:48] == (8).to_bytes(4, "big")
    assert data[48:50] == b"C "


def test_unknown_types_are_skipped_not_refused_and_bad_codes_are_refused() -> None:
    assert decode(b"Zxyz") == Unknown(type="Z", body=b"Zxyz")
    bad_side = bytearray(EXAMPLES[3][0].encode())
    bad_side[19:20] = b"Q"
    with pytest.raises(ItchError):
        decode(bytes(bad_side))
    bad_direction = bytearray(EXAMPLES[-1][0].encode())
    bad_direction[27:28] = b"X"
    with pytest.raises(ItchError):
        decode(bytes(bad_direction))
    with pytest.raises(ItchError):
        decode(b"")


def test_depth_snapshot_round_trips() -> None:
    snap = DepthSnapshot(locate=2, timestamp=5, kind=TOP_N, bids=((100, 5, 1), (99, 7, 2)),
                         asks=((101, 1, 1),))  # fmt: skip
    assert decode_depth(snap.encode()) == snap
    bbo = DepthSnapshot(locate=2, timestamp=5, kind=BBO, bids=(), asks=())
    assert decode_depth(bbo.encode()) == bbo
    with pytest.raises(ItchError):
        decode_depth(snap.encode()[:-1])


def test_packets_split_at_the_payload_limit_and_number_their_first_message() -> None:
    session = session_field("NYQ0000000")
    messages = [bytes([i]) * 30 for i in range(100)]
    packets = pack_packets(session, 41, messages, max_payload=200)
    assert all(len(p) <= 200 for p in packets)
    parsed = [parse_packet(p) for p in packets]
    seq = 41
    for packet in parsed:
        assert packet.session == session and packet.sequence == seq
        seq += packet.count
    assert [m for p in parsed for m in p.messages] == messages
    hb, end = parse_packet(heartbeat(session, 141)), parse_packet(end_of_session(session, 141))
    assert hb.is_heartbeat and hb.sequence == 141 and not end.is_heartbeat
    assert end.is_end_of_session and end.sequence == 141


@given(st.binary(max_size=120))
def test_any_bytes_parse_or_raise_itch_error(data: bytes) -> None:
    with contextlib.suppress(ItchError):
        parse_packet(data)
    with contextlib.suppress(ItchError):
        decode(data)


def test_truncated_packets_are_refused() -> None:
    packet = pack_packets(session_field("S"), 1, [b"abc", b"de"])[0]
    for cut in range(1, len(packet) - HEADER.size):
        with pytest.raises(ItchError):
            parse_packet(packet[:-cut])


def test_frames_come_out_whole_however_the_stream_is_cut() -> None:
    payloads = [b"R" + b"x" * 20, b"", b"B" * 300]
    stream = b"".join(frame(p) for p in payloads)
    for step in (1, 2, 7, len(stream)):
        reader = FrameReader()
        got = []
        for at in range(0, len(stream), step):
            got += reader.feed(stream[at : at + step])
        assert got == payloads


def test_requests_round_trip_and_bad_ones_are_itch_errors() -> None:
    session = session_field("NYQ")
    assert r.decode_request(r.encode_retransmit(session, 5, 9)) == r.Retransmit(session, 5, 9)
    assert r.decode_request(r.encode_book_request(session)) == r.BookRequest(session)
    for bad in (b"", b"R", b"Q" + b"x" * 20, r.encode_retransmit(session, 1, 1) + b"x"):
        with pytest.raises(ItchError):
            r.decode_request(bad)
