"""`nyquestro serve`'s supervisor, through the real command: it passes signals on to the
core, restarts a core something killed, and takes the core along when it is killed.
(tests/fix/test_crash.py kills the core seven times mid-flow and checks nothing
acknowledged is lost.)"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.fix.client import FixClient
from tests.fix.conftest import Server, alive, gateway_pids

READY = "Nyquestro FIX acceptor on port"


def wait_for(server: Server, text: str, count: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while server.log.read_text(errors="replace").count(text) < count:
        assert time.monotonic() < deadline, server.tail()
        time.sleep(0.05)


def test_a_killed_core_is_restarted_and_serves_on_the_same_port(tmp_path: Path) -> None:
    server = Server(tmp_path)
    server.start()
    try:
        first = server.core_pid
        assert first is not None and first != server.pid
        # Its own process group: a terminal's Ctrl-C reaches it only through the supervisor.
        assert os.getpgid(first) == first != os.getpgid(server.pid or 0)
        # The port answers a moment before the line saying so is written: a kill in
        # between would leave one line where the test counts two.
        wait_for(server, READY, 1)
        os.kill(first, signal.SIGKILL)
        wait_for(server, READY, 2)
        second = server.core_pid
        assert second not in (None, first)
        said = f"the core process (pid {first}) was killed by SIGKILL; restarting it"
        assert said in server.log.read_text()
        client = FixClient(server.port, "CLIENT1", "FIX.4.4")
        client.logon()
        client.logout()
        client.close()
    finally:
        server.stop()
    assert server.returncode == 0, server.tail()
    assert not alive(second or 0)


def test_sigint_to_serve_stops_the_core_once_with_status_0(tmp_path: Path) -> None:
    server = Server(tmp_path)
    server.start()
    assert server.pid is not None
    os.kill(server.pid, signal.SIGINT)
    server.wait_stopped()
    assert server.returncode == 0, server.tail()
    log = server.log.read_text()
    assert log.count("SIGINT received: logging sessions out") == 1, log
    assert "received again" not in log


def test_sigterm_to_every_process_at_once_is_one_stop(tmp_path: Path) -> None:
    """As systemd stops a service: the core gets SIGTERM directly and again through
    the supervisor, which is one request, not the "second signal: stop at once"."""
    server = Server(tmp_path)
    server.start()
    core = server.core_pid
    assert core is not None and server.pid is not None
    os.kill(core, signal.SIGTERM)
    os.kill(server.pid, signal.SIGTERM)
    server.wait_stopped()
    assert server.returncode == 0, server.tail()
    assert "received again" not in server.log.read_text()


def test_sigterm_to_every_process_of_a_split_venue_is_one_orderly_stop(tmp_path: Path) -> None:
    """systemd's default: every process of the unit gets SIGTERM at once (serve, the core,
    the replica, the FIX gateway's process). The stop is the core's, as if only serve had
    been signalled: sessions logged out, nothing restarted, the replica's final snapshot."""
    server = Server(tmp_path, fix_settings="own_process = true\n")
    server.start()
    client = FixClient(server.port, "CLIENT1", "FIX.4.4")
    client.logon()
    core = server.core_pid
    assert core is not None and server.pid is not None
    children = Path(f"/proc/{core}/task/{core}/children").read_text().split()
    every = [server.pid, core, *map(int, children)]
    assert gateway_pids(server, "fix")[-1] in every
    for pid in every:
        os.kill(pid, signal.SIGTERM)
    server.wait_stopped()
    assert server.returncode == 0, server.tail()
    assert client.hung_up(), "the session was not logged out"
    client.close()
    log = server.log.read_text()
    assert "received again" not in log and "restarting it" not in log, log
    assert "runtime.replica: snapshot after command" in log, log


def test_a_stop_asked_while_the_core_is_down_ends_serve_without_a_new_core(
    tmp_path: Path,
) -> None:
    server = Server(tmp_path)
    server.start()
    core = server.core_pid
    assert core is not None and server.pid is not None
    os.kill(core, signal.SIGKILL)
    wait_for(server, "restarting it in", 1)
    os.kill(server.pid, signal.SIGTERM)  # within the restart delay
    server.wait_stopped()
    assert server.returncode == 0, server.tail()
    assert gateway_pids(server, "core") == [core]


def test_killing_serve_takes_the_core_along(tmp_path: Path) -> None:
    server = Server(tmp_path)
    server.start()
    core = server.core_pid
    assert core is not None
    server.kill()
    deadline = time.monotonic() + 10
    while alive(core):
        assert time.monotonic() < deadline, f"core {core} outlived its supervisor"
        time.sleep(0.05)


def test_a_config_that_does_not_load_exits_2_before_any_core(tmp_path: Path) -> None:
    config = tmp_path / "venue.toml"
    config.write_text("[fix]\nport = 70000\n")
    done = subprocess.run(
        [sys.executable, "-m", "nyquestro", "serve", "--config", str(config)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "configuration error: fix.port" in done.stderr
    assert "core process started" not in done.stderr
