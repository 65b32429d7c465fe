"""A `nyquestro serve` with the control plane on, per test module.

The venue is the FIX tests' (tests/fix/conftest.py) plus a [control] table with two
tokens: one that may act, one that may only watch.
"""

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from nyquestro.control.client import ControlClient
from tests.fix.conftest import Server, Venue, free_port, managed

OPERATOR, VIEWER = "tok-ops", "tok-view"
T = TypeVar("T")


def control_toml(port: int) -> str:
    return f"""
[control]
port = {port}

[control.tokens]
{OPERATOR} = {{ name = "ops", actions = true }}
{VIEWER} = {{ name = "watcher" }}
"""


class ControlServer(Server):
    """The FIX tests' server with the control plane on a port of its own."""

    def __init__(self, root: Path, audit: bool = True, fix_settings: str = "") -> None:
        self.control_port = free_port()
        super().__init__(root, audit=audit, extra_toml=control_toml(self.control_port),
                         fix_settings=fix_settings)  # fmt: skip

    @property
    def store_db(self) -> Path:
        """The current run's SQLite store."""
        return self.root / f"store{self._runs}" / "nyquestro.db"

    @property
    def control_address(self) -> str:
        return f"127.0.0.1:{self.control_port}"

    def client(self, token: str = OPERATOR) -> ControlClient:
        return ControlClient(self.control_address, token)


def eventually(probe: Callable[[], T | None], timeout: float = 10.0) -> T:
    """`probe()`'s first answer that is not None: the projections trail the stream."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing within {timeout}s")
        time.sleep(0.05)


def both_placements(label: str) -> Callable[..., Iterator[ControlServer]]:
    """A module's `server` fixture: a venue with the control plane, its FIX gateway first
    in the core and then in a process of its own (`[fix] own_process = true`)."""

    @pytest.fixture(scope="module", params=["core", "own_process"])
    def placed(
        request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[ControlServer]:
        own = "own_process = true\n" if request.param == "own_process" else ""
        srv = ControlServer(tmp_path_factory.mktemp(label), audit=False, fix_settings=own)
        srv.start()
        yield srv
        srv.stop()

    return placed


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlServer]:
    srv = ControlServer(tmp_path_factory.mktemp("control-venue"))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def venue(server: ControlServer) -> Iterator[Venue]:
    yield from managed(Venue(server), server)


@pytest.fixture
def ops(server: ControlServer) -> Iterator[ControlClient]:
    with server.client() as client:
        yield client
