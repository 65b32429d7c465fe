"""The `[udp]` table: binary UDP order entry (protocol in nyquestro/gateways/udp/frames.py).

    [udp]
    port       required: the UDP port every worker binds (SO_REUSEPORT)
    host       the IPv4 address to bind (default "127.0.0.1")
    workers    gateway worker processes sharing the port, each decoding and validating
               frames for the one engine (default 1)
    sessions   required: client session id (1..4294967295) -> account, e.g.
               sessions = { 1 = "ACC1", 2 = "ACC2" }; frames from other ids are refused

No `[udp]` table: no UDP gateway.
"""

import ipaddress
from dataclasses import dataclass
from typing import Any

from nyquestro.config.instruments import ConfigError

MAX_SESSION = 2**32 - 1
MAX_WORKERS = 64


@dataclass(frozen=True, slots=True)
class UdpConfig:
    port: int
    host: str
    workers: int
    sessions: tuple[tuple[int, str], ...]
    """(client session id, account), in config order."""


def udp_from(table: Any) -> UdpConfig | None:
    """The UDP gateway of a parsed config's `[udp]` table (None when there is none)."""
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError("udp", table, "a table")
    unknown = sorted(set(table) - {"port", "host", "workers", "sessions"})
    if unknown:
        raise ConfigError(f"udp.{unknown[0]}", table[unknown[0]], "a known field")
    port = table.get("port")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigError("udp.port", port, "an integer port number between 1 and 65535")
    host = table.get("host", "127.0.0.1")
    try:
        ipaddress.IPv4Address(host)
    except (ipaddress.AddressValueError, TypeError):
        raise ConfigError("udp.host", host, "an IPv4 address such as 127.0.0.1") from None
    workers = table.get("workers", 1)
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise ConfigError("udp.workers", workers, f"a whole number of processes 1..{MAX_WORKERS}")
    sessions = table.get("sessions")
    if not isinstance(sessions, dict) or not sessions:
        raise ConfigError("udp.sessions", sessions, 'a table of session id = "account"')
    parsed = []
    for key, account in sessions.items():
        if not key.isdigit() or not 1 <= int(key) <= MAX_SESSION:
            raise ConfigError(f"udp.sessions.{key}", key, f"a session id 1..{MAX_SESSION}")
        if not isinstance(account, str) or not account:
            raise ConfigError(f"udp.sessions.{key}", account, "a non-empty account name")
        parsed.append((int(key), account))
    if len({session for session, _ in parsed}) != len(parsed):
        raise ConfigError("udp.sessions", sessions, "each session id once (001 is 1)")
    return UdpConfig(port=port, host=host, workers=workers, sessions=tuple(parsed))
