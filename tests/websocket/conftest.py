"""A `nyquestro serve` with the WebSocket bridge on, per test module.

The venue is the FIX tests' (tests/fix/conftest.py) plus a [websocket] table: two
tokens, so tests can trade from the bridge as two accounts.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fix.conftest import Server, Venue, free_port, managed
from tests.websocket.client import WsClient

TOKEN, OTHER_TOKEN = "tok-alice", "tok-bob"


def websocket_toml(port: int, client_queue: int = 1000) -> str:
    return f"""
[websocket]
port = {port}
max_message_bytes = 2048
client_queue = {client_queue}

[websocket.tokens]
{TOKEN} = {{ account = "WSALICE", name = "alice" }}
{OTHER_TOKEN} = {{ account = "WSBOB", name = "bob" }}
"""


class WsServer(Server):
    """The FIX tests' server with the bridge on a port of its own."""

    def __init__(self, root: Path, client_queue: int = 1000) -> None:
        self.ws_port = free_port()
        super().__init__(root, extra_toml=websocket_toml(self.ws_port, client_queue))


class WsVenue(Venue):
    def __init__(self, server: WsServer) -> None:
        super().__init__(server)
        self.ws_port = server.ws_port
        self.ws_clients: list[WsClient] = []

    def ws(self) -> WsClient:
        client = WsClient(self.ws_port)
        self.ws_clients.append(client)
        return client

    def cleanup(self) -> None:
        for client in self.ws_clients:
            client.cancel_open_orders()
            client.close()
        super().cleanup()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WsServer]:
    srv = WsServer(tmp_path_factory.mktemp("ws-venue"))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def venue(server: WsServer) -> Iterator[WsVenue]:
    yield from managed(WsVenue(server), server)
