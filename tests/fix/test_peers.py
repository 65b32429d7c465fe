"""LogonPeers against real loopback sockets in this process, as the acceptor thread sees
them: several connections open, one of them has had its first message read."""

import re
import socket
from collections.abc import Iterator

import pytest

from nyquestro.config.peers import allow_list_from
from nyquestro.domain.ids import SessionKey
from nyquestro.gateways.fix.peers import LogonGate, LogonPeers, PeerUnknown

TIMEOUT = 5.0


class Acceptor:
    """A listening socket and the accepted ends of connections from chosen addresses."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("0.0.0.0", 0))
        self.port: int = self.listener.getsockname()[1]
        self.clients: list[socket.socket] = []
        self.accepted: list[socket.socket] = []

    def connect(self, source: str) -> tuple[socket.socket, socket.socket]:
        client = socket.create_connection(
            ("127.0.0.1", self.port), timeout=TIMEOUT, source_address=(source, 0)
        )
        self.listener.settimeout(TIMEOUT)
        accepted, _ = self.listener.accept()
        accepted.settimeout(TIMEOUT)
        self.clients.append(client)
        self.accepted.append(accepted)
        return client, accepted

    def close(self) -> None:
        for sock in (*self.clients, *self.accepted, self.listener):
            sock.close()


@pytest.fixture
def acceptor() -> Iterator[Acceptor]:
    opened = Acceptor()
    yield opened
    opened.close()


def read_logon(client: socket.socket, accepted: socket.socket, logon: bytes = b"8=FIX.4.4") -> None:
    client.sendall(logon)
    got = b""
    while len(got) < len(logon):
        got += accepted.recv(len(logon) - len(got))


def test_the_connection_whose_first_message_was_read_is_the_one_found(acceptor: Acceptor) -> None:
    peers = LogonPeers(acceptor.port)
    quiet = acceptor.connect("127.0.0.2")
    waiting_client, _waiting = acceptor.connect("127.0.0.3")
    sender = acceptor.connect("127.0.0.4")
    # A Logon that has arrived but not been read yet does not count: only what was read.
    waiting_client.sendall(b"8=FIX.4.2")
    read_logon(*sender)
    assert peers.current() == "127.0.0.4"
    # The next Logon is read from another connection; the first one is not counted again.
    read_logon(*quiet)
    assert peers.current() == "127.0.0.2"


def test_a_connection_is_looked_at_once_and_forgotten_when_it_closes(acceptor: Acceptor) -> None:
    peers = LogonPeers(acceptor.port)
    client, accepted = acceptor.connect("127.0.0.5")
    read_logon(client, accepted)
    assert peers.current() == "127.0.0.5"
    with pytest.raises(PeerUnknown, match="no new connection"):
        peers.current()  # nothing new was read since
    accepted.close()
    again = acceptor.connect("127.0.0.5")
    read_logon(*again)
    assert peers.current() == "127.0.0.5"


def test_two_new_connections_from_different_peers_are_not_guessed_between(
    acceptor: Acceptor,
) -> None:
    peers = LogonPeers(acceptor.port)
    read_logon(*acceptor.connect("127.0.0.6"))
    read_logon(*acceptor.connect("127.0.0.7"))
    with pytest.raises(PeerUnknown, match=re.escape("127.0.0.6, 127.0.0.7")):
        peers.current()
    # Both were looked at: a later Logon is not made ambiguous by them.
    read_logon(*acceptor.connect("127.0.0.8"))
    assert peers.current() == "127.0.0.8"


def test_sockets_on_other_ports_are_ignored(acceptor: Acceptor) -> None:
    other = Acceptor()
    try:
        read_logon(*other.connect("127.0.0.9"))
        read_logon(*acceptor.connect("127.0.0.10"))
        assert LogonPeers(acceptor.port).current() == "127.0.0.10"
        assert LogonPeers(other.port).current() == "127.0.0.9"
    finally:
        other.close()


def test_the_gate_refuses_strangers_and_unknown_peers_and_counts_every_decision(
    acceptor: Acceptor, caplog: pytest.LogCaptureFixture
) -> None:
    gate = LogonGate(allow_list_from(["127.0.0.1"], "fix.allow"), acceptor.port)
    key = SessionKey("FIX.4.4:NYQUESTRO->C1")
    read_logon(*acceptor.connect("127.0.0.11"))
    assert gate.refusal(key) == "peer 127.0.0.11 is not in [fix] allow"
    read_logon(*acceptor.connect("127.0.0.1"))
    assert gate.refusal(key) is None
    refusal = gate.refusal(key)  # no connection has sent anything new
    assert refusal is not None and "could not tell this connection's peer address" in refusal
    with caplog.at_level("INFO", logger="nyquestro.gateways.fix.peers"):
        gate.log_counters()
    counted = "allowed 1, refused: peer address unknown 1, refused: peer not in [fix] allow 1"
    assert f"FIX logons: {counted}" in caplog.text


def test_a_gate_that_admits_everyone_never_looks_at_sockets(acceptor: Acceptor) -> None:
    gate = LogonGate(allow_list_from(["0.0.0.0/0", "::/0"], "fix.allow"), acceptor.port)
    # Nothing was read from any connection, which would be refused if it looked.
    acceptor.connect("127.0.0.12")
    assert gate.refusal(SessionKey("FIX.4.4:NYQUESTRO->C1")) is None
    assert gate.counters["allowed"] == 1
