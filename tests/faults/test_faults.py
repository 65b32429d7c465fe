"""Every session fault seen by a raw-socket client: the exact bytes the venue sent, and
that the session is normal again afterwards. A real `nyquestro serve` with [fix] faults
on; the faults are asked for through the control plane, as an operator or a pack would.

The client here frames what it reads by the CheckSum field alone (never by BodyLength,
which one fault gets wrong on purpose) and checks CheckSums itself.
"""

import re
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import grpc
import pytest

from nyquestro.control import control_pb2 as pb
from nyquestro.control.client import ControlClient
from tests.control.conftest import ControlServer

KEY = "FIX.4.4:NYQUESTRO->CLIENT1"
FRAME = re.compile(rb"8=FIX\.4\.4\x01.*?\x0110=\d{3}\x01", re.DOTALL)
SOH = b"\x01"


def now() -> str:
    stamp = datetime.now(UTC)
    return f"{stamp:%Y%m%d-%H:%M:%S}.{stamp.microsecond // 1000:03d}"


def checksum_ok(raw: bytes) -> bool:
    body, _, total = raw.rpartition(b"10=")
    return int(total[:3]) == sum(body) % 256


def body_length_ok(raw: bytes) -> bool:
    length = int(re.match(rb"8=[^\x01]*\x019=(\d+)\x01", raw).group(1))  # type: ignore[union-attr]
    start = raw.index(SOH, raw.index(b"\x019=") + 1) + 1
    return length == len(raw) - start - len(b"10=000\x01")


def fields(raw: bytes) -> dict[int, str]:
    """Tag to value (the first of a repeated tag, which these messages do not have)."""
    found: dict[int, str] = {}
    for part in raw.split(SOH)[:-1]:
        tag, _, value = part.partition(b"=")
        found.setdefault(int(tag), value.decode())
    return found


class Raw:
    """CLIENT1 on FIX 4.4, written and read byte by byte."""

    def __init__(self, port: int, sender: str = "CLIENT1") -> None:
        self.sender = sender
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.next_out = 1
        self.buffer = b""

    def send(self, msg_type: str, body: list[tuple[int, str]], seq: int | None = None) -> None:
        number = self.next_out if seq is None else seq
        self.next_out = max(self.next_out, number + 1)
        head = [(35, msg_type), (49, self.sender), (56, "NYQUESTRO"), (34, str(number)),
                (52, now())]  # fmt: skip
        payload = b"".join(f"{t}={v}".encode() + SOH for t, v in [*head, *body])
        data = b"8=FIX.4.4\x019=" + str(len(payload)).encode() + SOH + payload
        self.sock.sendall(data + f"10={sum(data) % 256:03d}".encode() + SOH)

    def read(self, timeout: float = 5.0) -> bytes:
        """The next whole message's bytes (Heartbeats included)."""
        deadline = time.monotonic() + timeout
        while not (found := FRAME.search(self.buffer)):
            left = deadline - time.monotonic()
            assert left > 0, f"nothing whole within {timeout}s; have {self.buffer!r}"
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            assert data, "the venue closed the connection"
            self.buffer += data
        self.buffer = self.buffer[found.end() :]
        return found.group(0)

    def nothing_for(self, seconds: float) -> bool:
        self.sock.settimeout(seconds)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return not self.buffer
        self.buffer += data
        return False

    def logon(self, reset: bool = True) -> bytes:
        self.send("A", [(98, "0"), (108, "30"), *([(141, "Y")] if reset else [])])
        answer = self.read()
        assert fields(answer)[35] == "A", answer
        return answer

    def heartbeat_for(self, request: str) -> bytes:
        """Sends a TestRequest and returns the Heartbeat that answers it."""
        self.send("1", [(112, request)])
        answer = self.read()
        assert fields(answer)[35] == "0" and fields(answer)[112] == request, answer
        return answer

    def normal(self) -> None:
        """The session answers as a venue should: a good Heartbeat at the next number."""
        answer = self.heartbeat_for(f"normal-{time.monotonic_ns()}")
        assert checksum_ok(answer) and body_length_ok(answer), answer

    def close(self) -> None:
        self.sock.close()


# CLIENT2's session gets a corrupt CheckSum on its own, at its second inbound message.
SETTINGS = """faults = true
fault_schedule = [
    { session = "FIX.4.4:NYQUESTRO->CLIENT2", fault = "corrupt_checksum", after = 2 },
]
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlServer]:
    srv = ControlServer(tmp_path_factory.mktemp("fault-venue"), fix_settings=SETTINGS)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def ops(server: ControlServer) -> Iterator[ControlClient]:
    with server.client() as client:
        yield client


@pytest.fixture
def raw(server: ControlServer) -> Iterator[Raw]:
    client = Raw(server.port)
    client.logon()
    yield client
    client.send("5", [])
    client.close()
    time.sleep(0.2)  # the venue notices the Logout before the next test logs on


def inject(ops: ControlClient, fault: str, amount: float | None = None) -> str:
    request = pb.InjectFaultRequest(session=KEY, fault=fault)
    if amount is not None:
        request.amount = amount
    return str(ops.stub.InjectFault(request, **ops.call()).summary)


def test_corrupt_checksum_and_body_length_touch_one_message(raw: Raw, ops: ControlClient) -> None:
    assert inject(ops, "corrupt_checksum").startswith(f"corrupt_checksum for {KEY}: ")
    bad = raw.heartbeat_for("cs")
    assert not checksum_ok(bad) and body_length_ok(bad)
    raw.normal()
    inject(ops, "corrupt_body_length")
    bad = raw.heartbeat_for("bl")
    assert checksum_ok(bad) and not body_length_ok(bad)
    declared = int(fields(bad)[9])
    fixed = bad.replace(f"\x019={declared}\x01".encode(), f"\x019={declared - 5}\x01".encode())
    assert body_length_ok(fixed)  # 5 too long, nothing else changed
    raw.normal()


def test_skip_sequence_jumps_and_a_resend_of_the_gap_is_a_gap_fill(
    raw: Raw, ops: ControlClient
) -> None:
    before = int(fields(raw.heartbeat_for("before"))[34])
    inject(ops, "skip_sequence", 3)
    after = int(fields(raw.heartbeat_for("after"))[34])
    assert after == before + 4
    raw.send("2", [(7, str(before + 1)), (16, "0")])
    gap = fields(raw.read())
    assert (gap[35], gap[34], gap[123], gap[43]) == ("4", str(before + 1), "Y", "Y")
    assert int(gap[36]) > after
    raw.normal()


def test_duplicate_sends_the_last_message_again_as_a_poss_dup(raw: Raw, ops: ControlClient) -> None:
    original = raw.heartbeat_for("dup")
    inject(ops, "duplicate")
    copy = raw.read()
    first, again = fields(original), fields(copy)
    assert (again[43], again[122], again[34]) == ("Y", first[52], first[34])
    assert {t: v for t, v in again.items() if t not in (9, 10, 43, 52, 122)} == {
        t: v for t, v in first.items() if t not in (9, 10, 52)
    }
    assert checksum_ok(copy) and body_length_ok(copy)
    raw.normal()


def test_gap_fill_resend_answers_a_resend_request_with_one_gap_fill(
    raw: Raw, ops: ControlClient
) -> None:
    first = int(fields(raw.heartbeat_for("g1"))[34])
    last = int(fields(raw.heartbeat_for("g2"))[34])
    inject(ops, "gap_fill_resend")
    raw.send("2", [(7, str(first)), (16, "0")])
    gap = fields(raw.read())
    assert (gap[35], gap[34], gap[43], gap[123], gap[36]) == ("4", str(first), "Y", "Y",
                                                              str(last + 1))  # fmt: skip
    assert raw.nothing_for(0.5), "quickfix's own answer to the resend got through"
    raw.normal()


def test_resend_everything_resends_admin_messages_instead_of_a_gap_fill(
    raw: Raw, ops: ControlClient
) -> None:
    first = fields(raw.heartbeat_for("r1"))
    second = fields(raw.heartbeat_for("r2"))
    inject(ops, "resend_everything")
    raw.send("2", [(7, first[34]), (16, "0")])
    resent = [fields(raw.read()) for _ in range(2)]
    assert [(m[35], m[34], m[43], m[112]) for m in resent] == [
        ("0", first[34], "Y", "r1"), ("0", second[34], "Y", "r2"),
    ]  # fmt: skip
    assert raw.nothing_for(0.5), "a gap fill or quickfix's resend got through"
    raw.normal()


def test_reset_sequence_mid_session_starts_both_sides_again(raw: Raw, ops: ControlClient) -> None:
    raw.heartbeat_for("before-reset")
    inject(ops, "reset_sequence")
    logon = fields(raw.read())
    assert (logon[35], logon[34], logon[141]) == ("A", "1", "Y")
    raw.next_out = 1
    raw.send("A", [(98, "0"), (108, "30"), (141, "Y")])
    answer = raw.heartbeat_for("after-reset")
    assert fields(answer)[34] == "2"
    raw.normal()


def test_silence_holds_everything_for_the_time_asked(raw: Raw, ops: ControlClient) -> None:
    inject(ops, "silence", 2.5)
    raw.send("1", [(112, "quiet")])
    # The silence began when the gateway took the fault, before InjectFault answered:
    # a second of it is sure to be left.
    assert raw.nothing_for(1.0)
    answer = fields(raw.read(timeout=5))
    assert answer[112] == "quiet"
    raw.normal()


def test_logout_too_low_then_the_session_goes_on(raw: Raw, ops: ControlClient) -> None:
    last = int(fields(raw.heartbeat_for("l1"))[34])
    inject(ops, "logout_too_low")
    logout = fields(raw.read())
    assert logout[35] == "5" and int(logout[34]) < last + 1 and "too low" in logout[58]
    raw.normal()


def test_disconnect_drops_the_connection_without_a_logout(
    server: ControlServer, ops: ControlClient
) -> None:
    client = Raw(server.port)
    client.logon()
    inject(ops, "disconnect")
    client.sock.settimeout(5)
    try:
        rest = client.sock.recv(65536)
    except ConnectionResetError:
        rest = b""
    assert b"35=5" not in rest and rest == b""
    client.close()
    time.sleep(0.5)
    again = Raw(server.port)
    again.logon()
    again.normal()
    again.send("5", [])
    again.close()
    time.sleep(0.2)


def test_delay_logon_is_armed_while_off_and_holds_the_next_logon_answer(
    server: ControlServer, ops: ControlClient
) -> None:
    inject(ops, "delay_logon", 1.5)
    client = Raw(server.port)
    asked = time.monotonic()
    client.logon()
    assert time.monotonic() - asked >= 1.4
    client.normal()
    client.send("5", [])
    client.close()
    time.sleep(0.2)


def test_faults_that_need_a_session_connected_are_refused_when_it_is_not(
    server: ControlServer, ops: ControlClient
) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        inject(ops, "duplicate")
    assert caught.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert caught.value.details() == f"duplicate needs session {KEY} connected, and it is not"
    with pytest.raises(grpc.RpcError) as unknown:
        ops.stub.InjectFault(pb.InjectFaultRequest(session=KEY, fault="explode"), **ops.call())
    assert unknown.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "one of skip_sequence, duplicate" in (unknown.value.details() or "")


def test_a_scheduled_fault_fires_on_every_connection_at_its_message(
    server: ControlServer,
) -> None:
    for _ in range(2):
        client = Raw(server.port, sender="CLIENT2")
        assert checksum_ok(client.logon())  # message 1 in: nothing yet
        bad = client.heartbeat_for("second")  # message 2 in: its answer is corrupted
        assert not checksum_ok(bad)
        client.normal()
        client.send("5", [])
        client.close()
        time.sleep(0.3)
