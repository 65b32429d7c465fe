"""The faults' sans-IO part, message by message, and the relay passing bytes through."""

import socket
import threading
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from nyquestro.codec.fix_wire import Splitter, encode
from nyquestro.config.faults import Fault
from nyquestro.config.peers import allow_list_from
from nyquestro.gateways.fix.faults import Effect, Link, SessionRecord
from nyquestro.gateways.fix.relay import FaultRelay

NOW = "20261207-12:00:00.000"


def message(msg_type: str, seq: int, *body: tuple[int, str]) -> bytes:
    head = [(35, msg_type), (49, "NYQUESTRO"), (56, "CLIENT1"), (34, str(seq)),
            (52, f"20261207-11:00:{seq:02d}.000")]  # fmt: skip
    return encode("FIX.4.4", [*head, *body])


def parsed(data: bytes) -> list[dict[int, str]]:
    return [dict(m.pairs) for m in Splitter().feed(data)]


def sent(link: Link, *raws: bytes) -> None:
    for raw in raws:
        (msg,) = Splitter().feed(raw)
        assert link.outbound(msg, NOW).forward


def test_duplicates_are_the_originals_with_poss_dup_and_orig_sending_time() -> None:
    link = Link(SessionRecord("FIX.4.4"))
    sent(link, message("A", 1, (98, "0"), (108, "30")), message("8", 2, (11, "X"), (150, "0")))
    (copy,) = link.arm(Fault.DUPLICATE, 1, NOW).to_client
    (fields,) = parsed(copy)
    assert (fields[34], fields[43], fields[122], fields[52], fields[11]) == (
        "2", "Y", "20261207-11:00:02.000", NOW, "X",
    )  # fmt: skip


def test_a_gap_fill_resend_drops_quickfixs_own_answer_until_a_new_message() -> None:
    link = Link(SessionRecord("FIX.4.4"))
    sent(link, message("A", 1), message("8", 2), message("8", 3))
    assert link.arm(Fault.GAP_FILL_RESEND, 0, NOW).to_client == []
    (request,) = Splitter().feed(encode("FIX.4.4", [(35, "2"), (34, "2"), (7, "2"), (16, "0")]))
    (gap,) = parsed(link.inbound(request, NOW).to_client[0])
    assert (gap[35], gap[34], gap[123], gap[36]) == ("4", "2", "Y", "4")
    (resent,) = Splitter().feed(message("8", 2, (43, "Y")))
    assert not link.outbound(resent, NOW).forward
    (fresh,) = Splitter().feed(message("8", 4))
    assert link.outbound(fresh, NOW).forward


def test_the_clients_answer_to_a_reset_logon_is_kept_from_quickfix() -> None:
    link = Link(SessionRecord("FIX.4.4"))
    sent(link, message("A", 1, (108, "30")), message("0", 2))
    (logon,) = parsed(link.arm(Fault.RESET_SEQUENCE, 0, NOW).to_client[0])
    assert (logon[35], logon[34], logon[141], logon[108]) == ("A", "1", "Y", "30")
    (answer,) = Splitter().feed(encode("FIX.4.4", [(35, "A"), (34, "1"), (141, "Y")]))
    action = link.inbound(answer, NOW)
    assert not action.forward and action.effects == [(Effect.RESET, 2)]


def test_an_armed_corruption_touches_only_the_next_message() -> None:
    link = Link(SessionRecord("FIX.4.4"))
    link.arm(Fault.CORRUPT_CHECKSUM, 0, NOW)
    first, second = message("0", 1), message("0", 2)
    (msg,) = Splitter().feed(first)
    wrong = link.outbound(msg, NOW).message
    assert wrong is not None and wrong[:-4] == first[:-4] and wrong[-4:] != first[-4:]
    (msg,) = Splitter().feed(second)
    assert link.outbound(msg, NOW).message is None


class _Quickfix:
    """Stands in for quickfix behind the relay: keeps what it receives, sends what it is
    given."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.received = b""
        self.peer: socket.socket | None = None
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.peer, _ = self.server.accept()
        while data := self.peer.recv(65536):
            self.received += data


class _NoNumbering:
    def skip(self, key: str, count: int) -> None:
        raise AssertionError("no fault moves numbers here")

    def reset(self, key: str, next_seq: int) -> None:
        raise AssertionError("no fault moves numbers here")


# Real sockets and threads per example: no per-example deadline (a loaded machine is slow),
# and fewer examples than the pure properties.
@settings(deadline=None, max_examples=40)
@given(st.lists(st.integers(1, 60), max_size=12), st.binary(max_size=40))
def test_the_relay_passes_every_byte_through_unchanged(cuts: list[int], garbage: bytes) -> None:
    venue = _Quickfix()
    relay_port = socket.create_server(("127.0.0.1", 0))
    port = relay_port.getsockname()[1]
    relay_port.close()
    relay = FaultRelay(port, venue.port, allow_list_from(["127.0.0.1"], "t"), "NYQUESTRO",
                       _NoNumbering())  # fmt: skip
    relay.start()
    try:
        logon = encode("FIX.4.4", [(35, "A"), (49, "CLIENT1"), (56, "NYQUESTRO"), (34, "1"),
                                   (98, "0"), (108, "30")])  # fmt: skip
        stream = logon + message("D", 2, (11, "A")) + b"8=FIX.4.4" + garbage + logon
        client = socket.create_connection(("127.0.0.1", port), timeout=5)
        at = 0
        for cut in [*cuts, len(stream)]:
            client.sendall(stream[at : at + cut])
            at += cut
        deadline = time.monotonic() + 5
        while venue.received != stream and time.monotonic() < deadline:
            time.sleep(0.01)
        assert venue.received == stream
        assert venue.peer is not None
        back = message("A", 1) + message("8", 2)
        venue.peer.sendall(back)
        got = b""
        while len(got) < len(back):
            got += client.recv(65536)
        assert got == back
        client.close()
    finally:
        relay.stop()
        venue.server.close()
