"""The ITCH feed's process (`gateway_process.py` starts it; not a command for people).

It rebuilds the feed (book, numbering, retained messages) from the snapshot the core
started from and the journal, then publishes what the committed stream brings. At a
clean stop the core ends the stream and the feed ends its session ('C', then the
MoldUDP64 end of session); when the core dies, the feed dies with it.
"""

import logging
import pickle
import signal
import sys

from nyquestro.config.venue import VenueConfig
from nyquestro.runtime import collector, lifeline
from nyquestro.runtime.follower import Follower
from nyquestro.runtime.itch import itch_gateway
from nyquestro.store.database import create_db_engine

log = logging.getLogger("nyquestro.runtime.itch_process")


def main(argv: list[str]) -> int:
    parent_pid, bus, start_snapshot = int(argv[1]), argv[2], int(argv[3])
    if not lifeline.die_with_parent(parent_pid):
        return 1
    # The core stops this process by ending the stream (see the module doc).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config: VenueConfig = pickle.load(sys.stdin.buffer)
    if config.itch is None:
        log.error("the venue's config has no [itch] table")
        return 2
    follower = Follower(create_db_engine(config.db), config.instruments, start_snapshot)
    gateway = itch_gateway(config.itch, follower.engine, follower.snapshot_seq,
                           follower.side_sender)  # fmt: skip
    follower.subscribe(gateway.on_events)
    follower.catch_up()
    collector.settle()
    gateway.start()  # the request server listens before the core lets FIX clients in
    ended = follower.follow(bus, "itch")
    if not ended:
        log.error("the core went away without ending the stream; the feed stops")
        return 1
    gateway.stop(follower.read)
    log.info("ITCH session ended after message %d", gateway.feed.next_seq - 1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
