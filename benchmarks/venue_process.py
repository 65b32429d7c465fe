"""A `nyquestro serve` subprocess for the gateway benchmarks: a config file, a log, and a
wait until a TCP port of it accepts connections."""

import socket
import subprocess
import sys
import time
from pathlib import Path

START_TIMEOUT = 30.0


def free_port(kind: socket.SocketKind = socket.SOCK_STREAM) -> int:
    """A port nothing uses on any IPv4 address. The venue's FIX acceptor listens on all of
    them (quickfix binds no single one), so a port free on 127.0.0.1 alone is not enough:
    a client's connection from 127.0.0.2, lingering in TIME_WAIT, made a FIX port taken
    (the probe binds and closes; nothing listens or sends)."""
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("0.0.0.0", 0))
        port: int = probe.getsockname()[1]
        return port


def serve(root: Path, config_text: str, ready_port: int) -> subprocess.Popen[bytes]:
    """Start the venue in `root` and return once `ready_port` (TCP) accepts connections."""
    config = root / "venue.toml"
    config.write_text(config_text)
    log = root / "serve.log"
    with log.open("ab") as out:
        venue = subprocess.Popen(
            [sys.executable, "-m", "nyquestro", "serve", "--config", str(config)],
            cwd=root, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if venue.poll() is not None:
            raise RuntimeError(f"nyquestro serve exited:\n{log.read_text(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", ready_port), timeout=0.5).close()
            return venue
        except OSError:
            time.sleep(0.05)
    venue.kill()
    raise RuntimeError(f"nyquestro serve did not open port {ready_port} within {START_TIMEOUT}s")
