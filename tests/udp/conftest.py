"""A real `nyquestro serve` with UDP order entry (tests/fix/conftest.py's venue plus [udp])."""

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from nyquestro.gateways.udp.client import UdpClient
from tests.fix.conftest import Server

SESSIONS = 40
"""Client session ids 1..SESSIONS, session N trading for account UACC<N>."""


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def udp_server(root: Path, workers: int = 1, durability: str = "sync") -> Server:
    """A Server (not started) whose venue also takes UDP orders on a free port."""
    sessions = ", ".join(f'{n} = "UACC{n}"' for n in range(1, SESSIONS + 1))
    server = Server(root, durability=durability)
    server.extra_toml = (
        f"\n[udp]\nport = {free_udp_port()}\nworkers = {workers}\nsessions = {{ {sessions} }}\n"
    )
    return server


def udp_port(server: Server) -> int:
    line = next(s for s in server.extra_toml.splitlines() if s.startswith("port = "))
    return int(line.removeprefix("port = "))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = udp_server(tmp_path_factory.mktemp("udp-venue"))
    srv.start()
    yield srv
    srv.stop()


class Clients:
    """UDP clients of the module's venue, each on a session no other test uses."""

    _next_session = 1

    def __init__(self, server: Server) -> None:
        self.port = udp_port(server)
        self.opened: list[UdpClient] = []

    def __call__(self, first_seq: int = 1) -> UdpClient:
        session = Clients._next_session
        assert session <= SESSIONS, "more UDP clients than configured sessions"
        Clients._next_session += 1
        client = UdpClient("127.0.0.1", self.port, session, first_seq)
        self.opened.append(client)
        return client

    def close(self) -> None:
        for client in self.opened:
            client.request(client.mass_cancel())  # the next test starts from an empty book
            client.close()


@pytest.fixture
def clients(server: Server) -> Iterator[Clients]:
    made = Clients(server)
    yield made
    made.close()
