"""The bridge's network side: a websockets server on an asyncio loop of its own thread.

One port serves both: a request that asks to upgrade becomes a WebSocket connection
(any path; the demo page uses /ws), any other GET is answered from the static demo page
files shipped in the package (`static/`), so the page needs no build step and no CDN.

Per connection, a reader handles the client's messages one at a time. Messages are
written synchronously as the fan-out produces them (websockets' `broadcast`, which frames
already encoded text without a task switch) while the connection's buffer is below its
transport's high-water mark; beyond it they wait in the client's backlog, which a writer
task sends as the connection drains. The kernel's send buffer of each connection is kept
small, so a client that stops reading fills its backlog within a bounded amount of data
and is dropped, instead of the venue buffering megabytes for it.
"""

import asyncio
import logging
import socket
import threading
from collections.abc import Callable, Sequence
from importlib import resources

from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from nyquestro.config.websocket import WebSocketConfig
from nyquestro.domain.instrument import Instrument
from nyquestro.gateways.websocket.bridge import (
    BookView,
    Bridge,
    Client,
    Deliver,
    DepthFn,
    ReadFn,
    Send,
    SubmitFn,
)

log = logging.getLogger(__name__)

CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
}
SEND_BUFFER_BYTES = 64 * 1024
FRAME_LIMIT_FACTOR = 16
"""Frames up to this many times max_message_bytes are read and answered with an error;
bigger ones close the connection (reading megabytes only to refuse them helps nobody)."""
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
CLOSE_TIMEOUT = 2.0
"""How long a closing handshake may take; a dropped slow client may never answer it."""


def static_files() -> dict[str, tuple[str, bytes]]:
    """URL path → (content type, body) of the demo page's files."""
    folder = resources.files("nyquestro.gateways.websocket").joinpath("static")
    files = {}
    for entry in folder.iterdir():
        kind = CONTENT_TYPES.get(entry.name.rpartition(".")[2])
        if kind is not None:
            files[f"/{entry.name}"] = (kind, entry.read_bytes())
    files["/"] = files["/index.html"]
    return files


class WebSocketServer:
    """The bridge and its server thread; `start` opens the port, `stop` closes it."""

    def __init__(
        self,
        config: WebSocketConfig,
        instruments: Sequence[Instrument],
        submit: SubmitFn,
        read: ReadFn,
        side_sender: Callable[[str, Deliver], Send],
        last_seq: Callable[[], int],
    ) -> None:
        self.config = config
        self._loop = asyncio.new_event_loop()
        self.bridge = Bridge(config, instruments, submit, read, self._loop)
        self.view: BookView = self.bridge.attach(
            side_sender("websocket", self.bridge.deliver), last_seq
        )
        self._static = static_files()
        self._thread = threading.Thread(target=self._run, name="websocket", daemon=True)
        self._ready = threading.Event()
        self._failure: OSError | None = None
        self._stopping: asyncio.Event | None = None

    def seed(self, depth: DepthFn) -> None:
        self.view.seed(depth)

    def start(self) -> None:
        """Open the port (raises OSError when it cannot) and serve on the thread."""
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            raise OSError(f"the WebSocket server did not start within {START_TIMEOUT} s")
        if self._failure is not None:
            raise self._failure
        log.info(
            "WebSocket bridge on ws://%s:%d/ws; demo page at http://%s:%d/",
            self.config.host, self.config.port, self.config.host, self.config.port,
        )  # fmt: skip

    def stop(self) -> None:
        if self._thread.is_alive() and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
            self._thread.join(STOP_TIMEOUT)
        self.bridge.shut_down()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        try:
            server: Server = await serve(
                self._connection,
                self.config.host,
                self.config.port,
                process_request=self._http,
                max_size=self.config.max_message_bytes * FRAME_LIMIT_FACTOR,
                close_timeout=CLOSE_TIMEOUT,
                # No permessage-deflate: each connection compresses with a context of its
                # own, so one update cost a deflate per client; with 100 clients that was
                # 15% of the bridge's CPU, for messages of a few hundred bytes on a LAN.
                compression=None,
            )
        except OSError as exc:
            self._failure = exc
            self._ready.set()
            return
        self._ready.set()
        async with server:
            await self._stopping.wait()

    def _http(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return None
        found = self._static.get(request.path.partition("?")[0])
        if found is None:
            return connection.respond(404, "not found\n")
        kind, body = found
        headers = Headers([("Content-Type", kind), ("Content-Length", str(len(body))),
                           ("Cache-Control", "no-store")])  # fmt: skip
        return Response(200, "OK", headers, body)

    async def _connection(self, ws: ServerConnection) -> None:
        sock = ws.transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
        fanout = self.bridge.fanout
        client = fanout.connect(lambda reason: self._drop(ws, reason), _writer_now(ws))
        self.bridge.greet(client)
        writer = asyncio.create_task(_write(ws, client))
        try:
            async for data in ws:
                await self.bridge.handle(client, data)
        except ConnectionClosed:
            pass
        finally:
            fanout.disconnect(client)
            writer.cancel()

    def _drop(self, ws: ServerConnection, reason: str) -> None:
        # 1008 policy violation: the client broke the rule of reading what it asked for.
        self._loop.create_task(ws.close(1008, reason))


def _writer_now(ws: ServerConnection) -> Callable[[bytes], bool]:
    transport = ws.transport
    _low, high = transport.get_write_buffer_limits()
    connection = (ws,)

    def write_now(data: bytes) -> bool:
        if transport.get_write_buffer_size() > high:
            return False
        # Skips a connection that is closing: its reader ends and disconnects the client.
        broadcast(connection, data, text=True)
        return True

    return write_now


async def _write(ws: ServerConnection, client: Client) -> None:
    """Send the backlog as the connection drains (`send` waits while it is paused)."""
    backlog = client.backlog
    try:
        while True:
            await client.waiting.wait()
            client.waiting.clear()
            while backlog:
                await ws.send(backlog[0], text=True)
                backlog.popleft()
    except ConnectionClosed:
        pass
