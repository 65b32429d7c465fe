"""`[fix] allow` at Logon: find who sent the Logon quickfix is handling, and refuse strangers.

quickfix 1.16 listens on every IPv4 interface (its `socket_createAcceptor` binds
INADDR_ANY and no setting changes that), so the port is reachable from any network the
machine is on; who may log on is decided here, when a Logon arrives.

The hard part is the peer address: the binding gives a session no way to its socket
(Session keeps its Responder private), and the acceptor log's "Accepted connection from
..." comes at accept time, naming no socket, so with several clients connecting at once
it cannot say which one sent a given Logon. (quickfix's own AllowedRemoteAddresses
setting is no better: it compares exact strings, and only after the Logon was accepted
and answered, dropping the connection without a Logout.) What does identify the
connection is the acceptor thread's order of work (SocketConnection::read): for a
connection without a session yet it reads the first message whole and hands it to the
session, which calls fromAdmin, before it looks at any other socket; a connection whose
first message fails is closed there and then. So while fromAdmin sees a Logon, the
connection that sent it is the only one on the FIX port that has consumed bytes (received,
from TCP_INFO, minus still unread, from FIONREAD) and whose Logon has not been looked at
before. Those looked at are remembered by socket inode until they close.

Cost, paid per Logon only (never per order, and not at all when `allow` admits
everyone): a listing of /proc/self/fd and, per socket of the process, a dup, two name
look-ups and two socket queries. Measured here: 0.2-0.5 ms with up to ten connections
open, ~1.3-3.8 ms with fifty (about 25 µs per socket of the process).
"""

import fcntl
import logging
import os
import socket
import struct
import termios
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from nyquestro.config.peers import AllowList
from nyquestro.domain.ids import SessionKey

log = logging.getLogger(__name__)

_FD_DIR = "/proc/self/fd"
_SOCKET_LINK = "socket:["
# struct tcp_info (linux/tcp.h): tcpi_bytes_received, a u64, follows 104 bytes of u8/u32
# fields and three u64s; present since Linux 4.1. The kernel copies at most what is asked.
_TCP_INFO_SIZE = 256
_BYTES_RECEIVED = struct.Struct("=Q")
_BYTES_RECEIVED_AT = 128
_INT = struct.Struct("=i")
_INET = (socket.AF_INET, socket.AF_INET6)


class PeerUnknown(Exception):
    """The connection that sent the Logon could not be told apart; the text says why."""


@dataclass(frozen=True, slots=True)
class _Connection:
    inode: int
    peer: str
    consumed: int
    """Bytes the application has read from it so far."""


class LogonPeers:
    """The peer address of the connection whose Logon is being handled, on quickfix's thread."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._looked_at: set[int] = set()
        """Inodes of open connections whose Logon was looked at already."""

    def current(self) -> str:
        connections = list(self._connections())
        self._looked_at &= {c.inode for c in connections}
        fresh = [c for c in connections if c.consumed and c.inode not in self._looked_at]
        # All of them, even when there are several: a connection left over by some path
        # this module does not foresee must not make every later Logon ambiguous.
        self._looked_at.update(c.inode for c in fresh)
        peers = sorted({c.peer for c in fresh})
        if not peers:
            raise PeerUnknown(f"no new connection on port {self._port} has sent anything")
        if len(peers) > 1:
            raise PeerUnknown(f"several new connections could have sent it: {', '.join(peers)}")
        return peers[0]

    def _connections(self) -> Iterator[_Connection]:
        """This process's established TCP connections on the FIX port."""
        try:
            names = os.listdir(_FD_DIR)
        except OSError as exc:
            raise PeerUnknown(f"{_FD_DIR} cannot be listed ({exc.strerror})") from None
        for name in names:
            try:
                target = os.readlink(f"{_FD_DIR}/{name}")
            except OSError:  # closed meanwhile (another thread's), or the listing's own fd
                continue
            if not target.startswith(_SOCKET_LINK):
                continue
            found = self._inspect(int(name), int(target[len(_SOCKET_LINK) : -1]))
            if found is not None:
                yield found

    def _inspect(self, fd: int, inode: int) -> _Connection | None:
        # A duplicate descriptor: closing it leaves quickfix's connection open.
        try:
            sock = socket.socket(fileno=os.dup(fd))
        except OSError:  # gone, or no longer a socket, since the listing
            return None
        with sock:
            if sock.type != socket.SOCK_STREAM or sock.family not in _INET:
                return None
            try:
                if sock.getsockname()[1] != self._port:
                    return None
                peer: str = sock.getpeername()[0]
            except OSError:  # the listening socket, or one that just lost its peer
                return None
            info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_SIZE)
            if len(info) < _BYTES_RECEIVED_AT + _BYTES_RECEIVED.size:
                raise PeerUnknown("this kernel's TCP_INFO has no byte counts (Linux >= 4.1 has)")
            (received,) = _BYTES_RECEIVED.unpack_from(info, _BYTES_RECEIVED_AT)
            (unread,) = _INT.unpack(fcntl.ioctl(sock.fileno(), termios.FIONREAD, bytes(_INT.size)))
            return _Connection(inode, peer, received - unread)


class LogonGate:
    """Decides each Logon by its peer's address against `[fix] allow`, and counts."""

    def __init__(self, allow: AllowList, port: int) -> None:
        self.allow = allow
        self._peers = None if allow.everyone else LogonPeers(port)
        self.counters: Counter[str] = Counter()

    def refusal(self, key: SessionKey) -> str | None:
        """Why `key`'s Logon, being handled now, is refused (the Logout's Text); None: allowed."""
        if self._peers is None:
            self.counters["allowed"] += 1
            return None
        try:
            peer = self._peers.current()
        except PeerUnknown as exc:
            self.counters["refused: peer address unknown"] += 1
            log.error("logon of %s refused: its peer address is unknown: %s", key, exc)
            return f"the venue could not tell this connection's peer address ({exc})"
        if self.allow.allows(peer):
            self.counters["allowed"] += 1
            log.info("logon of %s from %s", key, peer)
            return None
        self.counters["refused: peer not in [fix] allow"] += 1
        reason = f"peer {peer} is not in [fix] allow"
        log.warning("logon of %s refused: %s (allowed: %s)", key, reason, self.allow)
        return reason

    def log_counters(self) -> None:
        counted = ", ".join(f"{name} {n}" for name, n in sorted(self.counters.items()))
        log.info("FIX logons: %s", counted or "none")
