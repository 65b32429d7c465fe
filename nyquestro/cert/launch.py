"""A venue started for a certification run: `nyquestro serve` in a directory of its own,
on free ports, with a control-plane token made for the run; restarted when a pack asks,
stopped at the end. A replay starts one on a virtual clock, which it sets."""

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from types import TracebackType

import grpc

from nyquestro.cert.venue import ArgValue, ControlPlane, VenueActionError
from nyquestro.control import control_pb2 as pb
from nyquestro.control.client import ControlClient

START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def default_config() -> Path:
    return Path(str(resources.files("nyquestro.cert") / "venue.toml"))


class StartedVenue:
    """`with StartedVenue(config) as venue:` a running venue until the block ends."""

    def __init__(
        self, config: Path | None = None, directory: Path | None = None,
        virtual_clock: bool = False,
    ) -> None:  # fmt: skip
        """`virtual_clock`: run on `[clock] mode = "virtual"` whatever `config` says, the
        time set by `set_clock`."""
        self._config = (config or default_config()).resolve()
        self._virtual_clock = virtual_clock
        self._temporary = None if directory else tempfile.TemporaryDirectory(prefix="cert-")
        self.directory = directory or Path(self._temporary.name)  # type: ignore[union-attr]
        self.directory.mkdir(parents=True, exist_ok=True)
        self.log = self.directory / "serve.log"
        self._token = secrets.token_hex(16)
        self._proc: subprocess.Popen[bytes] | None = None
        self._plane: ControlPlane | None = None
        self._control: ControlClient | None = None
        self._fix_port = 0

    def __enter__(self) -> "StartedVenue":
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:  # fmt: skip
        self.stop()
        if self._temporary is not None:
            self._temporary.cleanup()

    def fix_address(self) -> tuple[str, int]:
        return (LOOPBACK, self._fix_port)

    def act(self, action: str, args: Mapping[str, ArgValue]) -> str:
        if action == "restart":
            hard = args.get("hard", True)
            self.restart(hard=bool(hard))
            how = "killed (SIGKILL)" if hard else "stopped"
            return f"venue {how} and started again on the same store"
        if self._plane is None:
            raise VenueActionError("the venue is not running")
        return self._plane.act(action, args)

    def set_clock(self, ts: int) -> None:
        """Set the venue's virtual clock to `ts` (ns since the epoch); VenueActionError if
        the venue refuses (a time before its clock's, or no virtual clock)."""
        if self._control is None:
            raise VenueActionError("the venue is not running")
        try:
            self._control.stub.SetClock(pb.SetClockRequest(ts=ts), **self._control.call())
        except grpc.RpcError as exc:
            raise VenueActionError(f"the control plane refused SetClock: {exc.details()}") from exc

    def start(self) -> None:
        """Start on fresh ports (a restart's old ports may linger in TIME_WAIT) and wait
        until FIX accepts connections and the control plane answers."""
        self._fix_port = free_port()
        control_port = free_port()
        store = self.directory / "store"
        environment = {
            **os.environ,
            "NYQUESTRO_FIX__PORT": str(self._fix_port),
            "NYQUESTRO_CONTROL__PORT": str(control_port),
            "NYQUESTRO_CONTROL__HOST": LOOPBACK,
            f"NYQUESTRO_CONTROL__TOKENS__{self._token}": '{ name = "cert", actions = true }',
            "NYQUESTRO_STORE__DIR": str(store),
            "NYQUESTRO_STORE__DB": str(store / "nyquestro.db"),
        }
        if self._virtual_clock:
            environment["NYQUESTRO_CLOCK__MODE"] = "virtual"
        with self.log.open("ab") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "nyquestro", "serve", "--config", str(self._config)],
                cwd=self.directory, env=environment, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        control = ControlClient(f"{LOOPBACK}:{control_port}", self._token, timeout=15.0)
        self._plane = ControlPlane(self.fix_address(), control)
        self._control = control
        deadline = time.monotonic() + START_TIMEOUT
        while not self._answers(control):
            if self._proc.poll() is not None:
                raise RuntimeError(f"nyquestro serve exited early:\n{self.tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"nyquestro serve not ready within {START_TIMEOUT:g} s:\n"
                                   f"{self.tail()}")  # fmt: skip
            time.sleep(0.1)

    def _answers(self, control: ControlClient) -> bool:
        try:
            socket.create_connection(self.fix_address(), timeout=0.5).close()
            control.stub.ListInstruments(pb.ListInstrumentsRequest(), **control.call(1.0))
        except (OSError, grpc.RpcError):
            return False
        return True

    def restart(self, hard: bool) -> None:
        self.stop(signal.SIGKILL if hard else signal.SIGTERM)
        self.start()

    def stop(self, how: signal.Signals = signal.SIGTERM) -> None:
        if self._plane is not None:
            self._plane.close()  # and with it `_control`
            self._plane = self._control = None
        if self._proc is None or self._proc.poll() is not None:
            return
        # The core and gateway processes die with serve; a new venue on the same store
        # must not start while one of them still writes to it.
        children = _descendants(self._proc.pid)
        self._proc.send_signal(how)
        try:
            self._proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        deadline = time.monotonic() + STOP_TIMEOUT
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.05)

    def tail(self, lines: int = 30) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _parents() -> dict[int, int]:
    found: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            found[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return found


def _descendants(pid: int) -> list[int]:
    parents = _parents()
    found: list[int] = []
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, of in parents.items() if of == parent]
        found.extend(children)
        frontier.extend(children)
    return found


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
