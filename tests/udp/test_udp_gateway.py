"""UDP order entry through `nyquestro serve`: every validation rule with a malformed frame,
idempotent retries, risk checks and the drop copy, over real UDP sockets on 127.0.0.1."""

import struct
from collections.abc import Callable

import pytest

from nyquestro.domain.enums import OrdType, Side, TimeInForce
from nyquestro.domain.reasons import RejectReason
from nyquestro.gateways.udp import frames
from nyquestro.gateways.udp.client import UdpClient
from nyquestro.gateways.udp.frames import FrameErrorCode, MsgType
from tests.fix.client import FixClient
from tests.fix.conftest import Server, check_against_dictionary
from tests.udp.conftest import Clients

AAPL_190 = 19000


def order_bytes(client: UdpClient, **changes: object) -> bytes:
    """A valid NewOrder frame of `client` (AAPL buy 10 @ 190.00), with fields changed."""
    fields: dict[str, object] = {
        "symbol": b"AAPL", "side": 1, "ord_type": 2, "tif": 0, "reserved": 0, "qty": 10,
        "px": AAPL_190, "display_qty": 0,
    }  # fmt: skip
    fields.update(changes)
    body = struct.pack("<8sBBBBIqI", *fields.values())
    return frames.HEADER.pack(44, 0x01, 1, client.session, client.next_seq()) + body


def header(client: UdpClient, length: int, msg_type: int, version: int = 1, seq: int = -1) -> bytes:
    return frames.HEADER.pack(
        length, msg_type, version, client.session, client.next_seq() if seq < 0 else seq
    )


def body_of(msg_type: int, *values: object) -> Callable[[UdpClient], bytes]:
    """A frame of `msg_type` with the given body values and a correct header."""
    formats = {0x02: "<Q", 0x03: "<QIIq", 0x04: "<8s"}
    body = struct.pack(formats[msg_type], *values)
    return lambda c: header(c, 16 + len(body), msg_type) + body


# (name, frame builder, error code, words the reject's text must contain)
MALFORMED: list[tuple[str, Callable[[UdpClient], bytes], FrameErrorCode, str]] = [
    ("length field above datagram", lambda c: order_bytes(c)[:-1], FrameErrorCode.LENGTH_MISMATCH,
     "length field 44"),
    ("datagram above length field", lambda c: order_bytes(c) + b"\0",
     FrameErrorCode.LENGTH_MISMATCH, "45 bytes"),
    ("version 2", lambda c: header(c, 24, 0x02, version=2) + bytes(8), FrameErrorCode.BAD_VERSION,
     "version 2"),
    ("unknown type", lambda c: header(c, 24, 0x09) + bytes(8), FrameErrorCode.UNKNOWN_TYPE, "0x09"),
    ("a reply type sent in", lambda c: header(c, 32, 0x81) + bytes(16), FrameErrorCode.UNKNOWN_TYPE,
     "0x81"),
    ("cancel of NewOrder size", lambda c: header(c, 44, 0x02) + bytes(28), FrameErrorCode.BAD_SIZE,
     "CANCEL is 24"),
    ("new order too short", lambda c: header(c, 40, 0x01) + bytes(24), FrameErrorCode.BAD_SIZE,
     "NEW_ORDER is 44"),
    ("seq 0", lambda c: header(c, 24, 0x02, seq=0) + struct.pack("<Q", 1),
     FrameErrorCode.BAD_SEQUENCE, "seq 0"),
    ("side 3", lambda c: order_bytes(c, side=3), FrameErrorCode.BAD_FIELD, "side 3"),
    ("ord_type 3", lambda c: order_bytes(c, ord_type=3), FrameErrorCode.BAD_FIELD, "ord_type 3"),
    ("tif 2", lambda c: order_bytes(c, tif=2), FrameErrorCode.BAD_FIELD, "tif 2"),
    ("reserved byte set", lambda c: order_bytes(c, reserved=7), FrameErrorCode.BAD_FIELD,
     "reserved"),
    ("qty 0", lambda c: order_bytes(c, qty=0), FrameErrorCode.BAD_FIELD, "qty 0"),
    ("limit price 0", lambda c: order_bytes(c, px=0), FrameErrorCode.BAD_FIELD, "price 0"),
    ("negative limit price", lambda c: order_bytes(c, px=-5), FrameErrorCode.BAD_FIELD,
     "price -5"),
    ("market order with a price", lambda c: order_bytes(c, ord_type=1, px=5),
     FrameErrorCode.BAD_FIELD, "market"),
    ("display above qty", lambda c: order_bytes(c, display_qty=11), FrameErrorCode.BAD_FIELD,
     "display_qty 11"),
    ("symbol with a space", lambda c: order_bytes(c, symbol=b"AA PL"), FrameErrorCode.BAD_FIELD,
     "symbol"),
    ("symbol not left-aligned", lambda c: order_bytes(c, symbol=b"\0AAPL"),
     FrameErrorCode.BAD_FIELD, "symbol"),
    ("cancel of order 0", body_of(0x02, 0), FrameErrorCode.BAD_FIELD, "order_id 0"),
    ("replace of order 0", body_of(0x03, 0, 10, 0, AAPL_190), FrameErrorCode.BAD_FIELD,
     "order_id 0"),
    ("replace to qty 0", body_of(0x03, 1, 0, 0, AAPL_190), FrameErrorCode.BAD_FIELD, "qty 0"),
    ("replace to a negative price", body_of(0x03, 1, 10, 0, -1), FrameErrorCode.BAD_FIELD,
     "price -1"),
    ("replace display above qty", body_of(0x03, 1, 10, 20, AAPL_190), FrameErrorCode.BAD_FIELD,
     "display_qty 20"),
    ("mass cancel of a bad symbol", body_of(0x04, b"A\x01"), FrameErrorCode.BAD_FIELD, "symbol"),
    ("unknown symbol", lambda c: order_bytes(c, symbol=b"ZZZZ"), FrameErrorCode.UNKNOWN_SYMBOL,
     "ZZZZ"),
    ("mass cancel of an unknown symbol", body_of(0x04, b"NOPE"), FrameErrorCode.UNKNOWN_SYMBOL,
     "NOPE"),
]  # fmt: skip


@pytest.mark.parametrize(("build", "code", "words"), [m[1:] for m in MALFORMED],
                         ids=[m[0] for m in MALFORMED])  # fmt: skip
def test_a_malformed_frame_is_rejected_naming_the_error_and_never_processed(
    clients: Clients, build: Callable[[UdpClient], bytes], code: FrameErrorCode, words: str
) -> None:
    client = clients()
    data = build(client)
    sent_seq = frames.HEADER.unpack_from(data)[4]
    client.send_raw(data)
    reject = client.expect(sent_seq, MsgType.REJECTED)
    assert reject.fields["reason"] == code, reject
    assert reject.fields["request_type"] == data[2]
    assert words in str(reject.fields["text"]), reject
    # Nothing of it reached the engine: a mass cancel of the session finds no order.
    done = client.request(client.mass_cancel())
    assert done.msg_type is MsgType.MASS_CANCELLED and done.fields["count"] == 0


def test_an_unknown_session_is_rejected(clients: Clients) -> None:
    client = clients()
    stranger = UdpClient("127.0.0.1", clients.port, 4_000_000_000)
    try:
        order = stranger.new_order("AAPL", Side.BUY, 1, AAPL_190)
        reject = stranger.request(order)
        assert reject.msg_type is MsgType.REJECTED
        assert reject.fields["reason"] == FrameErrorCode.UNKNOWN_SESSION
        assert "4000000000" in str(reject.fields["text"])
    finally:
        stranger.close()
    assert client.request(client.mass_cancel()).fields["count"] == 0


def test_a_truncated_header_gets_no_reply_and_the_next_frame_is_answered(clients: Clients) -> None:
    client = clients()
    client.send_raw(b"\x2c\x00\x01")
    order = client.new_order("AAPL", Side.BUY, 5, AAPL_190)
    client.send(order)
    # The worker handles one client's datagrams in order: a reply to the truncated one
    # would have come first.
    first = client.receive(5.0)
    assert first is not None and first.seq == order.seq and first.msg_type is MsgType.ACCEPTED


def test_a_retry_gets_the_identical_replies_and_creates_no_second_order(clients: Clients) -> None:
    seller, buyer = clients(), clients()
    rests = seller.new_order("MSFT", Side.SELL, 4, 42000)
    accepted = seller.request(rests)
    assert accepted.msg_type is MsgType.ACCEPTED
    crosses = buyer.new_order("MSFT", Side.BUY, 10, 42000)
    buyer.send(crosses)
    first = [buyer.expect(crosses.seq, MsgType.ACCEPTED), buyer.expect(crosses.seq, MsgType.FILLED)]
    assert first[1].fields["qty"] == 4 and first[1].fields["leaves_qty"] == 6
    for _ in range(3):  # as if each reply had been lost
        buyer.send(crosses)
        again = [buyer.expect(crosses.seq), buyer.expect(crosses.seq)]
        assert again == first  # the same bytes: same order id, trade id, timestamps
        seller.send(rests)
        assert seller.expect(rests.seq, MsgType.ACCEPTED) == accepted
    # One order each: the seller's filled, the buyer's resting remainder.
    assert buyer.request(buyer.mass_cancel()).fields["count"] == 1
    assert seller.request(seller.mass_cancel()).fields["count"] == 0
    # The seller saw its fill once (unsolicited replies are not repeated by retries).
    fills = [r for r in seller.drain() if r.msg_type is MsgType.FILLED]
    assert len(fills) == 1 and fills[0].seq == rests.seq


def test_reordered_requests_are_each_handled_once(clients: Clients) -> None:
    client = clients()
    early, late = (client.new_order("IBM", Side.BUY, n, 17000 + n) for n in (1, 2))
    client.send(late)  # seq 2 arrives before seq 1
    client.send(early)
    ids = {client.expect(o.seq, MsgType.ACCEPTED).fields["order_id"] for o in (early, late)}
    assert len(ids) == 2
    assert client.request(early).fields["order_id"] in ids  # a retry, not a new order
    assert client.request(client.mass_cancel()).fields["count"] == 2


def test_a_seq_older_than_the_window_is_refused(clients: Clients) -> None:
    client = clients(first_seq=70_000)
    assert client.request(client.mass_cancel()).msg_type is MsgType.MASS_CANCELLED
    client.seq = 0
    reject = client.request(client.new_order("AAPL", Side.BUY, 1, AAPL_190))
    assert reject.fields["reason"] == FrameErrorCode.STALE_SEQUENCE, reject


def test_cancel_replace_and_their_rejects(clients: Clients) -> None:
    client = clients()
    order = client.new_order("ESZ6", Side.SELL, 10, 24_040, display_qty=2)
    order_id = client.request(order).fields["order_id"]
    replaced = client.request(client.replace(int(order_id), 8, 24_044))
    assert replaced.msg_type is MsgType.REPLACED
    assert (replaced.fields["qty"], replaced.fields["px"]) == (8, 24_044)
    cancelled = client.request(client.cancel(int(order_id)))
    assert cancelled.msg_type is MsgType.CANCELLED and cancelled.fields["cancelled_qty"] == 8
    too_late = client.request(client.cancel(int(order_id)))
    assert too_late.msg_type is MsgType.REJECTED
    assert too_late.fields["request_type"] == MsgType.CANCEL
    assert too_late.fields["reason"] >= 200  # an engine reason, not a frame error


def test_ioc_remainder_is_reported_cancelled(clients: Clients) -> None:
    client = clients()
    ioc = client.new_order("IBM", Side.SELL, 3, 1, tif=TimeInForce.IOC)
    client.send(ioc)
    assert client.expect(ioc.seq, MsgType.ACCEPTED)
    expired = client.expect(ioc.seq, MsgType.CANCELLED)
    assert expired.fields["cancelled_qty"] == 3
    assert expired.fields["reason"] == frames.CANCEL_REASONS[frames.ExpireReason.IOC_REMAINDER]


def test_the_same_risk_checks_apply_as_for_fix(clients: Clients) -> None:
    client = clients()
    # RSKY: 5% band around 100.00, so 110.00 is a fat finger.
    reject = client.request(client.new_order("RSKY", Side.BUY, 1, 11_000))
    assert reject.msg_type is MsgType.REJECTED
    assert reject.fields["reason"] == RejectReason.PRICE_OUTSIDE_BAND
    assert "band" in str(reject.fields["text"])
    market = client.new_order("RSKY", Side.BUY, 1, 0, ord_type=OrdType.MARKET)
    assert client.request(market).msg_type in (MsgType.ACCEPTED, MsgType.REJECTED)


def test_udp_orders_are_on_the_drop_copy(server: Server, clients: Clients) -> None:
    drop = FixClient(server.port, "DROPCOPY", "FIX.4.4", barrier="test_request")
    drop.validate = check_against_dictionary
    drop.logon()
    try:
        client = clients()
        order = client.new_order("AAPL", Side.BUY, 7, AAPL_190)
        order_id = client.request(order).fields["order_id"]
        on_behalf = f"UDP:{client.session}"
        copy = drop.expect("8", {115: on_behalf, 11: str(order.seq), 150: "0"})
        assert copy[37] == str(order_id) and copy[797] == "Y" and copy[38] == "7"
        risky = client.new_order("RSKY", Side.SELL, 1, 200)
        client.request(risky)
        rejected = drop.expect("8", {115: on_behalf, 11: str(risky.seq), 150: "8"})
        assert rejected[103] == "3"  # OrdRejReason: order exceeds limit
        client.request(client.cancel(int(order_id)))
        drop.expect("8", {115: on_behalf, 37: str(order_id), 150: "4"})
    finally:
        drop.logout()
        drop.close()
