"""UDP worker processes: two sharing the port, counters, and retries across a crash."""

import re
from pathlib import Path

import pytest

from nyquestro.domain.enums import Side
from nyquestro.gateways.udp.client import UdpClient
from nyquestro.gateways.udp.frames import MsgType
from tests.udp.conftest import SESSIONS, udp_port, udp_server

ORDERS_EACH = 5


def worker_counts(log: str) -> dict[int, dict[str, int]]:
    """Each worker's counters from the lines it logs at shutdown."""
    counts = {}
    for index, text in re.findall(r"UDP worker (\d+): (.*)", log):
        counts[int(index)] = {
            name: int(n) for name, n in re.findall(r"([a-zA-Z_ ]+?) (\d+)(?:, |$)", text)
        }
    return counts


def test_two_workers_share_the_port_and_every_order_is_acknowledged_once(tmp_path: Path) -> None:
    server = udp_server(tmp_path, workers=2)
    server.start()
    clients = [UdpClient("127.0.0.1", udp_port(server), n) for n in range(1, SESSIONS + 1)]
    try:
        sent = []
        for round_ in range(ORDERS_EACH):
            for client in clients:  # every client sends before any waits: both workers busy
                order = client.new_order("AAPL", Side.BUY, 1, 18_000 + round_)
                client.send(order)
                sent.append((client, order))
        order_ids = []
        for client, order in sent:
            reply = client.expect(order.seq)
            if reply.msg_type is not MsgType.ACCEPTED:  # lost on the way: retry, same seq
                reply = client.request(order)
            assert reply.msg_type is MsgType.ACCEPTED, reply
            order_ids.append(reply.fields["order_id"])
        assert len(set(order_ids)) == len(sent)
        # Retries of any of them return the same order, never a new one.
        for client, order in sent[:: len(clients) + 1]:
            assert client.request(order).fields["order_id"] in order_ids
        for client in clients:
            assert client.request(client.mass_cancel()).fields["count"] == ORDERS_EACH
        client = clients[0]
        client.send_raw(b"\x01")  # a refusal, counted by whichever worker gets it
        client.request(client.mass_cancel())
    finally:
        for client in clients:
            client.close()
        server.stop()
    log = server.log.read_text()
    counts = worker_counts(log)
    assert set(counts) == {0, 1}, log
    assert all(c.get("forwarded", 0) > 0 for c in counts.values()), counts
    forwarded = sum(c["forwarded"] for c in counts.values())
    assert forwarded >= len(sent) + len(clients)  # the orders and the mass cancels
    assert sum(c.get("refused TOO_SHORT", 0) for c in counts.values()) == 1


@pytest.mark.parametrize("stop", ["crash", "clean"])
def test_a_retry_after_a_restart_gets_the_original_reply(tmp_path: Path, stop: str) -> None:
    """After a crash recovery replays the journal; after a clean stop it starts from the
    snapshot taken at the stop, which holds the retry windows."""
    server = udp_server(tmp_path)
    server.start()
    client = UdpClient("127.0.0.1", udp_port(server), 3)
    try:
        order = client.new_order("IBM", Side.SELL, 9, 18_500)
        accepted = client.request(order)
        if stop == "crash":
            server.kill()  # no shutdown, no snapshot
            server.start(fresh=False)
        else:
            server.restart(fresh=False)
            assert "recovered from the snapshot" in server.tail(80)
        assert client.request(order) == accepted
        assert client.request(client.mass_cancel()).fields["count"] == 1
    finally:
        client.close()
        server.stop()
