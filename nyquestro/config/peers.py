"""`[fix] allow`: the peer addresses that may log on to the FIX acceptor.

quickfix 1.16 listens on every IPv4 interface and has no bind-address setting, so who
may log on is decided per connection, at Logon (nyquestro/gateways/fix/peers.py). The
default admits loopback only: a simulator started on a laptop on a shared network is
not open to that network unless its config says so.

Entries are IP addresses or CIDR networks (`10.0.0.0/8`, `::1`); an address is a network
of one. `["0.0.0.0/0", "::/0"]` admits anyone.
"""

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Any

from nyquestro.config.instruments import ConfigError

DEFAULT_ALLOW = ("127.0.0.0/8", "::1")
_EVERYONE = (ip_network("0.0.0.0/0"), ip_network("::/0"))


@dataclass(frozen=True, slots=True)
class AllowList:
    networks: tuple[IPv4Network | IPv6Network, ...]

    def allows(self, address: str) -> bool:
        """Whether a peer at `address` (as getpeername gives it) may log on.

        An IPv4 peer seen through an IPv6 socket arrives as ::ffff:a.b.c.d; it is
        matched as the IPv4 address it is, so `127.0.0.0/8` admits ::ffff:127.0.0.1.
        """
        peer: IPv4Address | IPv6Address = ip_address(address)
        if isinstance(peer, IPv6Address) and peer.ipv4_mapped is not None:
            peer = peer.ipv4_mapped
        return any(peer in network for network in self.networks)

    @property
    def everyone(self) -> bool:
        """True when every IPv4 and IPv6 address is admitted (no check is needed)."""
        return all(network in self.networks for network in _EVERYONE)

    @property
    def loopback_only(self) -> bool:
        return all(network.is_loopback for network in self.networks)

    def __str__(self) -> str:
        # A network of one is written as the address it is, as the config may write it.
        return ", ".join(
            str(n.network_address if n.prefixlen == n.max_prefixlen else n) for n in self.networks
        )


def allow_list_from(value: Any, where: str) -> AllowList:
    """Parse `[fix] allow`; `where` names the field in errors."""
    if value is None:
        value = list(DEFAULT_ALLOW)
    if not isinstance(value, list) or not value:
        raise ConfigError(
            where, value, 'a non-empty list of IP addresses or CIDR networks, e.g. ["10.0.0.0/8"]'
        )
    networks = []
    for index, entry in enumerate(value):
        if not isinstance(entry, str):
            raise ConfigError(f"{where}[{index}]", entry, "an IP address or CIDR network string")
        try:
            networks.append(ip_network(entry, strict=True))
        except ValueError as exc:
            # ipaddress says which: not an address, a bad prefix, or host bits set.
            expected = f"an IP address or CIDR network such as 10.0.0.0/8 or ::1 ({exc})"
            raise ConfigError(f"{where}[{index}]", entry, expected) from None
    return AllowList(tuple(networks))
