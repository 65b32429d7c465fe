"""The ITCH feed's process (`gateway_process.py` starts it; not a command for people).

It rebuilds the feed (book, numbering, retained messages) from the snapshot the core
started from and the journal, then publishes what the committed stream brings. At a
clean stop the feed ends its session ('C', then the MoldUDP64 end of session); when the
core dies, the feed dies with it.
"""

import logging
import sys

from nyquestro.config.venue import VenueConfig
from nyquestro.gateways.itch.gateway import ItchGateway
from nyquestro.runtime.follower import Follower
from nyquestro.runtime.gateway_main import Start, read_start, run_gateway
from nyquestro.runtime.itch import itch_gateway

log = logging.getLogger("nyquestro.runtime.itch_process")


class _Feed:
    def __init__(self, config: VenueConfig, follower: Follower) -> None:
        if config.itch is None:
            raise ValueError("the venue's config has no [itch] table")
        self._follower = follower
        self._gateway: ItchGateway = itch_gateway(
            config.itch, follower.engine, follower.snapshot_seq, follower.side_sender
        )
        follower.subscribe_stamps(self._gateway.on_events)

    def start(self) -> None:
        self._gateway.start()
        config = self._gateway.config
        requests = (
            "no request server" if config.request_port is None
            else f"request server on {config.request_host}:{config.request_port}"
        )  # fmt: skip
        log.info(
            "ITCH feed, MoldUDP64 session %s, publishing to %s; %s",
            self._gateway.feed.session.decode(),
            ", ".join(f"{host}:{port}" for host, port in config.destinations) or "nobody",
            requests,
        )  # fmt: skip

    def stop(self) -> None:
        self._gateway.stop(self._follower.read)
        log.info("ITCH session ended after message %d", self._gateway.feed.next_seq - 1)


def main(start: Start) -> int:
    return run_gateway(start, "itch", _Feed)


if __name__ == "__main__":
    sys.exit(main(read_start(sys.argv)))
