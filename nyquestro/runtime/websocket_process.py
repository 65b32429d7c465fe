"""The WebSocket bridge's process (`gateway_process.py` starts it; not a command for people).

Its book view is rebuilt from the core's start snapshot and the committed stream; then
the committed stream keeps it current and the bridge fans each update out. Orders and
cancels its clients send go to the core over the bus; their reports come back on the
stream like everyone else's.
"""

import sys

from nyquestro.config.venue import VenueConfig
from nyquestro.gateways.websocket.server import WebSocketServer
from nyquestro.runtime.follower import Follower
from nyquestro.runtime.gateway_main import Start, read_start, run_gateway


class _Bridge:
    def __init__(self, config: VenueConfig, follower: Follower) -> None:
        if config.websocket is None:
            raise ValueError("the venue's config has no [websocket] table")
        self._server = WebSocketServer(
            config.websocket, config.instruments, follower.submit, follower.read,
            follower.side_sender, lambda: follower.last_seq,
        )  # fmt: skip
        if follower.snapshot_seq:
            self._server.seed(follower.engine.depth)
        follower.subscribe_stamps(self._server.view.on_events)

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()


def main(start: Start) -> int:
    return run_gateway(start, "websocket", _Bridge)


if __name__ == "__main__":
    sys.exit(main(read_start(sys.argv)))
