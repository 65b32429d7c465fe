"""The drop copy: session DROPCOPY (FIX.4.4) gets a copy of every ExecutionReport the
order-entry sessions get — once each, in the order they were sent, rendered in 4.4,
naming the originating client — also what it missed while disconnected or while the
venue was down, through normal FIX resend."""

from decimal import Decimal
from pathlib import Path

from tests.fix.client import FixClient, Msg
from tests.fix.conftest import Server, check_against_dictionary
from tests.fix.test_crash import CrashClient

BUY, SELL = "1", "2"


def unique(reports: list[Msg]) -> list[Msg]:
    """Each ExecID once, first arrival kept (a PossDup resend repeats an ExecID)."""
    seen: set[str] = set()
    out = []
    for msg in reports:
        if msg[17] not in seen:
            seen.add(msg[17])
            out.append(msg)
    return out


def copies_until(drop: CrashClient, count: int, timeout: float = 10.0) -> list[Msg]:
    drop.pump(0.2)
    for _ in range(int(timeout / 0.2)):
        if len(unique(drop.reports)) >= count:
            break
        drop.pump(0.2)
    return unique(drop.reports)


def test_every_report_on_every_session_is_copied_once_in_order(tmp_path: Path) -> None:
    server = Server(tmp_path)
    drop = CrashClient("DROPCOPY", "FIX.4.4")
    drop.barrier = "test_request"
    buyer = FixClient(0, "CLIENT1", "FIX.4.4")
    seller = FixClient(0, "CLIENT2", "FIX.4.2")
    server.start()
    try:
        drop.reconnect(server.port)
        buyer.port = seller.port = server.port
        buyer.logon()
        seller.logon()
        sent: list[Msg] = []
        b1 = buyer.new_order("IBM", BUY, 10, "170.00", cl_ord_id="b1")
        sent.append(buyer.expect("8", {11: b1, 150: "0"}))
        s1 = seller.new_order("IBM", SELL, 4, "170.00", cl_ord_id="s1")
        sent.append(seller.expect("8", {11: s1, 150: "0"}))
        sent.append(buyer.expect("8", {11: b1, 150: "F"}))
        sent.append(seller.expect("8", {11: s1, 150: "2"}))
        sent.append(seller.expect("8", {11: seller.new_order("NOPE", SELL, 1, "1.00")}))  # engine
        sent.append(seller.expect("8", {11: seller.new_order("IBM", SELL, 0, "1.00")}))  # gateway
        sent.append(buyer.expect("8", {11: buyer.cancel(b1, "IBM", BUY), 150: "4"}))

        copies = copies_until(drop, len(sent))
        assert [c[17] for c in copies] == [m[17] for m in sent]
        for copy, original in zip(copies, sent, strict=True):
            assert copy[115] == original[56], copy  # OnBehalfOfCompID: whose report
            assert copy[797] == "Y" and copy[56] == "DROPCOPY", copy
            assert (copy[11], copy[37], copy[39]) == (original[11], original[37], original[39])
            assert Decimal(copy[14]) == Decimal(original[14])
            check_against_dictionary(copy)
        assert copies[3][150] == "F" and sent[3][150] == "2"  # each in its own version
        assert not drop.anomalies
        # The drop copy sends no orders.
        drop.new_order("IBM", BUY, 1, "170.00")
        assert drop.expect("j")[380] == "3"  # unsupported message type
    finally:
        for client in (drop, buyer, seller):
            client.close()
        server.stop()


def test_the_drop_copy_gets_what_it_missed_while_away_and_across_a_restart(
    tmp_path: Path,
) -> None:
    server = Server(tmp_path, durability="group")
    drop = CrashClient("DROPCOPY", "FIX.4.4")
    drop.barrier = "test_request"
    buyer = FixClient(0, "CLIENT1", "FIX.4.4")
    server.start()
    try:
        drop.reconnect(server.port)
        buyer.port = server.port
        buyer.logon()
        sent = [buyer.expect("8", {11: buyer.new_order("IBM", BUY, 1, "160.00"), 150: "0"})]
        copies_until(drop, 1)
        drop.close()  # the drop-copy client goes away; trading goes on
        for _ in range(3):
            sent.append(buyer.expect("8", {11: buyer.new_order("IBM", BUY, 1, "160.00")}))
        server.kill()
        buyer.close()
        server.start(fresh=False)
        drop.reconnect(server.port)  # its own sequence numbers: the gap is resent
        buyer.port = server.port
        buyer.logon()
        sent.append(buyer.expect("8", {11: buyer.new_order("IBM", BUY, 1, "160.00")}))

        copies = copies_until(drop, len(sent))
        assert [c[17] for c in copies] == [m[17] for m in sent]
        assert all(c.get(43) == "Y" for c in copies[1:4]), "missed copies come as resends"
        assert not drop.anomalies
    finally:
        for client in (drop, buyer):
            client.close()
        server.stop()
