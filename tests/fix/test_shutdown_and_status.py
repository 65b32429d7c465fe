"""A stop that cannot hang, and `nyquestro status`, on a real venue.

The wedge is real: the venue keeps its journal in PostgreSQL, and the test holds an
ACCESS EXCLUSIVE lock on the journal table in an open transaction, so the venue's next
commit blocks in the database for as long as the test wants. Those tests skip, saying why,
where no PostgreSQL server answers on 127.0.0.1:5432.
"""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from nyquestro.runtime.watchdog import DUPLICATE_SECONDS
from tests.fix.client import FixClient
from tests.fix.conftest import Server, rest
from tests.fix.postgres import postgres_schema, schema_url

BOUND = 3.0
"""The wedged venues' shutdown_timeout, in seconds."""
# The watchdog's C backstop fires 2 s after the bound; the rest is slack for a busy machine.
MARGIN = 10.0


def status(server: Server) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("NYQUESTRO_")}
    return subprocess.run(
        [sys.executable, "-m", "nyquestro", "status", "--config", str(server.config_path)],
        capture_output=True, text=True, check=False, timeout=30, env=env, cwd=server.root,
    )  # fmt: skip


def status_becomes(server: Server, returncode: int, timeout: float = 15.0) -> str:
    """Ask until `nyquestro status` exits with `returncode`; returns its output."""
    deadline = time.monotonic() + timeout
    while True:
        result = status(server)
        if result.returncode == returncode:
            return result.stdout
        if time.monotonic() > deadline:
            raise AssertionError(f"status never exited {returncode}; last: {result}")
        time.sleep(0.2)


@pytest.fixture
def postgres() -> Iterator[tuple[sa.Engine, str]]:
    with postgres_schema("wedge") as reached:
        yield reached


@pytest.fixture
def wedged(tmp_path: Path, postgres: tuple[sa.Engine, str]) -> Iterator[tuple[Server, FixClient]]:
    """A running venue whose committer is blocked in its commit, with an order waiting."""
    engine, schema = postgres
    server = Server(
        tmp_path, durability="group", db=schema_url(schema),
        store_settings=f"shutdown_timeout = {BOUND}\n",
    )  # fmt: skip
    server.start()
    client = FixClient(server.port, "CLIENT1", "FIX.4.4")
    with engine.connect() as lock:
        try:
            client.logon()
            rest(client, "IBM", "1", 10, "179.00")  # acknowledged: durable before the wedge
            lock.execute(sa.text(f'LOCK TABLE "{schema}".journal IN ACCESS EXCLUSIVE MODE'))
            client.new_order("IBM", "1", 10, "180.00")
            yield server, client
        finally:
            client.close()
            server.kill()  # if the test failed before the venue ended
            lock.rollback()


def test_a_wedged_stop_ends_within_its_bound_with_every_stack_in_the_log(
    wedged: tuple[Server, FixClient],
) -> None:
    server, _client = wedged
    stalled = status_becomes(server, 1)
    assert stalled.startswith(f"stalled: work is waiting and nothing moves: pid {server.core_pid},")
    server.signal_stop()
    # Without the watchdog the venue joins its blocked committer forever.
    server.wait_stopped(BOUND + MARGIN)
    assert server.returncode == 3, server.tail()
    log = server.log.read_text(errors="replace")
    assert f"the stop did not finish within {BOUND:g} s: every thread's stack follows" in log
    stacks = log[log.index("every thread's stack follows") :]
    assert "Thread 0x" in stacks and 'File "' in stacks
    assert "in insert_binary_batch" in stacks  # the committer, caught in its commit
    assert status(server).returncode == 3


def test_a_second_sigterm_ends_a_wedged_stop_at_once(wedged: tuple[Server, FixClient]) -> None:
    server, _client = wedged
    status_becomes(server, 1)
    server.signal_stop()
    deadline = time.monotonic() + MARGIN
    while "SIGTERM received: logging sessions out" not in server.log.read_text(errors="replace"):
        assert time.monotonic() < deadline, server.tail()
        time.sleep(0.05)
    time.sleep(DUPLICATE_SECONDS)  # sooner, it is taken for the first one delivered twice
    server.signal_stop()
    server.wait_stopped(MARGIN)
    assert server.returncode == 3, server.tail()
    log = server.log.read_text(errors="replace")
    assert "SIGTERM received again while stopping: every thread's stack follows" in log
    assert "did not finish within" not in log


def test_status_says_ok_with_figures_and_not_running_after_an_orderly_stop(
    tmp_path: Path,
) -> None:
    server = Server(tmp_path)
    server.start()
    try:
        client = FixClient(server.port, "CLIENT1", "FIX.4.4")
        client.logon()
        rest(client, "IBM", "1", 10, "179.00")
        ok = status_becomes(server, 0)
        assert ok.startswith(f"ok: pid {server.core_pid}, last seq "), ok
        assert "commands in the last second" in ok and "durable seq" in ok
        client.logout()
    finally:
        server.stop()
    assert server.returncode == 0, server.tail()
    result = status(server)
    assert (result.returncode, result.stdout.split(":")[0]) == (3, "not running")
