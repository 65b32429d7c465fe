"""What every gateway process does around its gateway (`gateway_process.py` starts them).

It starts from a `Start`: the core's pid, the bus address, the core's start snapshot
and the venue's config (a forked process is handed it; a fresh interpreter reads the
first three from its arguments and the config pickled on its stdin). Then: die with the
core; load the gateway's part of that snapshot (and replay what of the journal the
core's ring will not hold); start the gateway; join the bus, whose history rebuilds the
rest; follow the stream. A gateway whose port clients wait for (FIX) opens it when the
core says the venue is open (`[OPEN]`, once every gateway has joined). When the core
ends the stream cleanly the gateway stops cleanly, exit status 0; when the core went
away, 1.
"""

import logging
import pickle
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from nyquestro.config.venue import VenueConfig
from nyquestro.runtime import collector, lifeline
from nyquestro.runtime.committed_stream import ring_entries
from nyquestro.runtime.follower import Follower
from nyquestro.store.database import create_db_engine

log = logging.getLogger(__name__)


class Gateway(Protocol):
    def start(self) -> None:
        """Open the gateway's port and start its threads."""
        ...

    def stop(self) -> None:
        """A clean stop, after the stream's last entry."""
        ...


Build = Callable[[VenueConfig, Follower], Gateway]
"""Makes the gateway and subscribes it to the follower (which has not replayed yet)."""


@dataclass(frozen=True, slots=True)
class Start:
    parent_pid: int
    """The core's: this process dies with it."""
    bus: str
    start_snapshot: int
    """The command the newest snapshot in the store followed when the core started, its
    start snapshot (0: none)."""
    config: VenueConfig

    def arguments(self) -> list[str]:
        """What a fresh interpreter gets on its command line (the config goes on stdin)."""
        return [str(self.parent_pid), self.bus, str(self.start_snapshot)]


def read_start(argv: list[str]) -> Start:
    """A fresh interpreter's `Start`: `arguments()` after the program, config on stdin."""
    config: VenueConfig = pickle.load(sys.stdin.buffer)
    return Start(int(argv[1]), argv[2], int(argv[3]), config)


def run_gateway(start: Start, name: str, build: Build) -> int:
    if not lifeline.die_with_parent(start.parent_pid):
        return 1
    # The core stops this process by ending the stream (see the module doc); a service
    # manager's SIGTERM to every process of the venue is the core's to act on (the FIX
    # gateway's process installs its own handler: SIGTERM is its cue to log sessions out).
    for signum in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = start.config
    follower = Follower(create_db_engine(config.db), config.instruments, start.start_snapshot)
    gateway = build(config, follower)
    follower.catch_up(ring_entries(config.snapshot_every))
    collector.settle()
    gateway.start()
    follower.join(start.bus, name)
    if not follower.run():
        log.error("the core went away without ending the stream; %s stops", name)
        return 1
    gateway.stop()
    return 0
