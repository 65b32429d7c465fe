"""Trading phases and halts reach FIX clients as SecurityStatus (f) and
TradingSessionStatus (h), unsolicited and on request (e / g), in 4.2 and 4.4.

One venue per mode (the FIX gateway in the core, and in its own process), with the
control plane on (tests/control/conftest.py) to move phases and halt as an operator
does. Every test leaves every symbol continuous and not halted. The clients check each
message against the stock dictionary of their version (`check_against_dictionary`).
"""

from collections.abc import Iterator
from contextlib import suppress

import grpc
import pytest

from nyquestro.control import control_pb2 as pb
from nyquestro.control.client import ControlClient
from tests.control.conftest import ControlServer, both_placements
from tests.fix.client import FixClient, next_id
from tests.fix.conftest import VERSIONS, Venue, managed

SECURITY_STATUS_REQ_ID, SYMBOL, UNSOLICITED, TRADING_STATUS = 324, 55, 325, 326
TRAD_SES_REQ_ID, TRADING_SESSION_ID, TRAD_SES_STATUS = 335, 336, 340
TRANSACT_TIME, TEXT, REF_MSG_TYPE, REJECT_REF_ID, REJECT_REASON = 60, 58, 372, 379, 380
PRE_OPEN_CODE = {"FIX.4.2": "14", "FIX.4.4": "21"}


server = both_placements("phase-venue")


@pytest.fixture
def venue(server: ControlServer) -> Iterator[Venue]:
    yield from managed(Venue(server), server)


@pytest.fixture
def ops(server: ControlServer) -> Iterator[ControlClient]:
    with server.client() as client:
        yield client
        # Whatever a test did, the next one starts continuous and not halted.
        with suppress(grpc.RpcError):
            client.stub.Resume(pb.ResumeRequest(symbol="MSFT"), **client.call())
        client.stub.SetPhase(pb.SetPhaseRequest(phase="continuous"), **client.call())


def set_phase(ops: ControlClient, phase: str, symbol: str | None = None) -> None:
    ops.stub.SetPhase(pb.SetPhaseRequest(phase=phase, symbol=symbol), **ops.call())


def security_status(client: FixClient, symbol: str, code: str) -> dict[int, str]:
    msg = client.expect("f", {SYMBOL: symbol, UNSOLICITED: "Y", TRADING_STATUS: code})
    assert TRANSACT_TIME in msg
    return {tag: msg[tag] for tag in (SYMBOL, TRADING_STATUS, TEXT) if tag in msg}


@pytest.mark.parametrize("version", VERSIONS)
def test_phase_changes_send_security_status_and_the_derived_session_status(
    venue: Venue, ops: ControlClient, version: str
) -> None:
    client = venue.client("CLIENT1", version)
    # (phase for every symbol, SecurityTradingStatus, TradSesStatus if it changes)
    day = [
        ("pre_open", PRE_OPEN_CODE[version], "4"),
        ("opening_auction", "5", None),
        ("continuous", "17", "2"),
        ("closing_auction", "5", "5"),
        ("post_close", "18", "3"),
        ("closed", "18", None),
        ("continuous", "17", "2"),
    ]
    for phase, code, session_status in day:
        set_phase(ops, phase)
        for symbol in ("AAPL", "MSFT", "ESZ6"):
            status = security_status(client, symbol, code)
            # 4.2's SecurityStatus has no Text; 4.4's names the phase.
            assert status.get(TEXT) == (f"phase {phase}" if client.is44 else None)
        seen = [m for m in client.drain() if m.type == "h"]
        if session_status is None:
            assert not seen, f"{phase}: the venue's status did not change, yet {seen}"
        else:
            assert [(m[TRAD_SES_STATUS], m[UNSOLICITED], m[TRADING_SESSION_ID]) for m in seen] \
                == [(session_status, "Y", "DAY")], phase  # fmt: skip


@pytest.mark.parametrize("version", VERSIONS)
def test_one_symbol_in_a_call_leaves_the_venue_open(
    venue: Venue, ops: ControlClient, version: str
) -> None:
    client = venue.client("CLIENT2", version)
    set_phase(ops, "opening_auction", "MSFT")
    security_status(client, "MSFT", "5")
    assert not [m for m in client.drain() if m.type in ("f", "h")], "only MSFT moved"
    client.send("g", [(TRAD_SES_REQ_ID, "TS1"), (263, "0")])
    answer = client.expect("h", {TRAD_SES_REQ_ID: "TS1"})
    assert (answer[TRAD_SES_STATUS], answer[UNSOLICITED], answer[TRADING_SESSION_ID]) == (
        "2", "N", "DAY"
    )  # fmt: skip
    client.send("e", [(SECURITY_STATUS_REQ_ID, "SS1"), (SYMBOL, "MSFT"), (263, "1")])
    msft = client.expect("f", {SECURITY_STATUS_REQ_ID: "SS1"})
    assert (msft[SYMBOL], msft[TRADING_STATUS], msft[UNSOLICITED]) == ("MSFT", "5", "N")
    assert TRANSACT_TIME in msft


@pytest.mark.parametrize("version", VERSIONS)
def test_a_halt_and_a_resume_send_security_status(
    venue: Venue, ops: ControlClient, version: str
) -> None:
    client = venue.client("CLIENT3", version)
    ops.stub.Halt(pb.HaltRequest(symbol="MSFT", reason="news pending"), **ops.call())
    halted = security_status(client, "MSFT", "2")
    if client.is44:
        assert "halted" in halted[TEXT] and "news pending" in halted[TEXT]
    request_id = next_id("SS")
    client.send("e", [(SECURITY_STATUS_REQ_ID, request_id), (SYMBOL, "MSFT"), (263, "0")])
    answer = client.expect("f", {SECURITY_STATUS_REQ_ID: request_id})
    assert (answer[TRADING_STATUS], answer[UNSOLICITED]) == ("2", "N")
    ops.stub.Resume(pb.ResumeRequest(symbol="MSFT"), **ops.call())
    security_status(client, "MSFT", "3")
    # A halt is no phase change: the venue's session status stays as it was.
    assert not [m for m in client.drain() if m.type == "h"]
    client.send("e", [(SECURITY_STATUS_REQ_ID, "SS2"), (SYMBOL, "MSFT"), (263, "0")])
    assert client.expect("f", {SECURITY_STATUS_REQ_ID: "SS2"})[TRADING_STATUS] == "17"


@pytest.mark.parametrize("version", VERSIONS)
def test_status_requests_are_answered_and_an_unknown_symbol_refused(
    venue: Venue, ops: ControlClient, version: str
) -> None:
    client = venue.client("CLIENT4", version)
    client.send("g", [(TRAD_SES_REQ_ID, "TS2"), (TRADING_SESSION_ID, "MORNING"), (263, "0")])
    answer = client.expect("h", {TRAD_SES_REQ_ID: "TS2"})
    assert (answer[TRADING_SESSION_ID], answer[TRAD_SES_STATUS]) == ("MORNING", "2")
    client.send("e", [(SECURITY_STATUS_REQ_ID, "SS3"), (SYMBOL, "AAPL"), (263, "0")])
    aapl = client.expect("f", {SECURITY_STATUS_REQ_ID: "SS3"})
    assert (aapl[SYMBOL], aapl[TRADING_STATUS]) == ("AAPL", "17")
    client.send("e", [(SECURITY_STATUS_REQ_ID, "SS4"), (SYMBOL, "NOPE"), (263, "0")])
    refused = client.expect("j", {REF_MSG_TYPE: "e"})
    assert (refused[REJECT_REASON], refused[REJECT_REF_ID]) == ("2", "SS4")
    assert "unknown Symbol (55) 'NOPE'" in refused[TEXT]
    client.send("g", [(TRAD_SES_REQ_ID, "TS3"), (263, "2")])
    unsubscribe = client.expect("j", {REF_MSG_TYPE: "g"})
    assert unsubscribe[REJECT_REF_ID] == "TS3"
    assert "SubscriptionRequestType (263)" in unsubscribe[TEXT]
