"""The `[itch]` table: the ITCH 5.0 market-data feed over MoldUDP64 (docs/itch.md).

    [itch]
    destinations           "host:port" UDP destinations of the feed, e.g.
                           ["127.0.0.1:31001"] (default: none; the request server still
                           answers)
    snapshot_destinations  "host:port" UDP destinations of the periodic depth snapshots
                           (default: none)
    request_port           TCP port of the retransmission and book-snapshot server
                           (default: none, no server)
    request_host           IPv4 address the request server binds (default "127.0.0.1")
    retain                 messages kept for retransmission (default 100000)
    heartbeat_seconds      a heartbeat packet goes out after this long without one
                           (default 1.0)
    snapshot_seconds       period of the depth snapshots (default 1.0)
    snapshot_levels        price levels per side in a top-N depth snapshot (default 5,
                           at most 255)
    session                1 to 4 letters or digits starting the MoldUDP64 session name
                           (default "NYQ"); the feed appends six more (docs/itch.md)
    max_payload            largest UDP payload in bytes (default 1400)
    attribution            true: Add Order with MPID attribution ('F') naming the client;
                           false (default): anonymous Add Order ('A')
    mpids                  client CompID -> MPID (1 to 4 characters) for attribution,
                           e.g. { CLIENT1 = "CLI1" }; other clients appear as the first
                           four characters of their CompID

No `[itch]` table: no feed.
"""

import ipaddress
from dataclasses import dataclass
from typing import Any

from nyquestro.config.instruments import ConfigError

_FIELDS = {
    "destinations",
    "snapshot_destinations",
    "request_port",
    "request_host",
    "retain",
    "heartbeat_seconds",
    "snapshot_seconds",
    "snapshot_levels",
    "session",
    "max_payload",
    "attribution",
    "mpids",
}
MAX_UDP_PAYLOAD = 65_507
MIN_PAYLOAD = 64
"""Room for the MoldUDP64 header and the largest message."""

Address = tuple[str, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class ItchConfig:
    destinations: tuple[Address, ...] = ()
    snapshot_destinations: tuple[Address, ...] = ()
    request_port: int | None = None
    request_host: str = "127.0.0.1"
    retain: int = 100_000
    heartbeat_seconds: float = 1.0
    snapshot_seconds: float = 1.0
    snapshot_levels: int = 5
    session: str = "NYQ"
    max_payload: int = 1400
    attribution: bool = False
    mpids: tuple[tuple[str, str], ...] = ()
    """(client CompID, MPID) pairs, in config order."""


def itch_from(table: Any) -> ItchConfig | None:
    """The feed of a parsed config's `[itch]` table (None when there is none)."""
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError("itch", table, "a table")
    unknown = sorted(set(table) - _FIELDS)
    if unknown:
        raise ConfigError(f"itch.{unknown[0]}", table[unknown[0]], "a known field")
    defaults = ItchConfig()
    request_port = table.get("request_port")
    if request_port is not None:
        request_port = _port(request_port, "itch.request_port")
    session = table.get("session", defaults.session)
    if not isinstance(session, str) or not 1 <= len(session) <= 4 or not _alnum(session):
        raise ConfigError("itch.session", session, "1 to 4 ASCII letters or digits")
    attribution = table.get("attribution", defaults.attribution)
    if not isinstance(attribution, bool):
        raise ConfigError("itch.attribution", attribution, "true or false")
    return ItchConfig(
        destinations=_addresses(table, "destinations"),
        snapshot_destinations=_addresses(table, "snapshot_destinations"),
        request_port=request_port,
        request_host=_ipv4(table.get("request_host", defaults.request_host), "itch.request_host"),
        retain=_whole(table, "retain", defaults.retain, 1, 10_000_000),
        heartbeat_seconds=_seconds(table, "heartbeat_seconds", defaults.heartbeat_seconds),
        snapshot_seconds=_seconds(table, "snapshot_seconds", defaults.snapshot_seconds),
        snapshot_levels=_whole(table, "snapshot_levels", defaults.snapshot_levels, 1, 255),
        session=session,
        max_payload=_whole(
            table, "max_payload", defaults.max_payload, MIN_PAYLOAD, MAX_UDP_PAYLOAD
        ),
        attribution=attribution,
        mpids=_mpids(table.get("mpids", {})),
    )


def _alnum(text: str) -> bool:
    return text.isascii() and text.isalnum()


def _addresses(table: dict[str, Any], name: str) -> tuple[Address, ...]:
    where = f"itch.{name}"
    value = table.get(name, [])
    if not isinstance(value, list):
        raise ConfigError(where, value, 'a list of "host:port" strings')
    parsed = []
    for i, item in enumerate(value):
        host, colon, port = item.rpartition(":") if isinstance(item, str) else ("", "", "")
        if not colon or not port.isdigit():
            raise ConfigError(
                f"{where}.{i}", item, 'a "host:port" string such as "127.0.0.1:31001"'
            )
        parsed.append((_ipv4(host, f"{where}.{i}"), _port(int(port), f"{where}.{i}")))
    return tuple(parsed)


def _ipv4(host: Any, where: str) -> str:
    try:
        return str(ipaddress.IPv4Address(host))
    except (ipaddress.AddressValueError, TypeError, ValueError):
        raise ConfigError(where, host, "an IPv4 address such as 127.0.0.1") from None


def _port(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise ConfigError(where, value, "a port number between 1 and 65535")
    return value


def _whole(table: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = table.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"itch.{name}", value, f"a whole number {low}..{high}")
    return value


def _seconds(table: dict[str, Any], name: str, default: float) -> float:
    value = table.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 3600:
        raise ConfigError(f"itch.{name}", value, "a number of seconds > 0 and <= 3600")
    return float(value)


def _mpids(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        raise ConfigError("itch.mpids", value, 'a table of CompID = "MPID"')
    for client, mpid in value.items():
        if not isinstance(mpid, str) or not 1 <= len(mpid) <= 4 or not _alnum(mpid):
            raise ConfigError(f"itch.mpids.{client}", mpid, "1 to 4 ASCII letters or digits")
    return tuple(value.items())
