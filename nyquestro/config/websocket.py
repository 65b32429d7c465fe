"""The `[websocket]` table: the WebSocket bridge and its demo page (off when absent).

    [websocket]
    port               listen port of the bridge and the demo page (required)
    host               address to listen on (default "127.0.0.1": the bridge has no TLS,
                       so it is reachable from this machine only unless told otherwise)
    max_message_bytes  largest client message handled; a bigger one is answered with an
                       error message (default 4096)
    client_queue       messages waiting to be written to one client; a client that lets
                       more pile up is dropped rather than slowing the venue (default 1000)

    [websocket.tokens]
    TOKEN = { account = "...", name = "..." }
                       a session token a client logs in with to send orders and receive its
                       own orders' reports: they trade for `account`, as session
                       "WS:<name>" (default: no tokens, the bridge is read-only)

Errors name the field path, the value and what was expected.
"""

from dataclasses import dataclass
from typing import Any

from nyquestro.config.instruments import ConfigError, listen_address, only_fields, positive_int

DEFAULT_MAX_MESSAGE_BYTES = 4096
DEFAULT_CLIENT_QUEUE = 1000
SESSION_PREFIX = "WS:"


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenConfig:
    token: str
    name: str
    account: str

    @property
    def session(self) -> str:
        """The engine session key of this token's orders."""
        return f"{SESSION_PREFIX}{self.name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class WebSocketConfig:
    port: int
    host: str = "127.0.0.1"
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    client_queue: int = DEFAULT_CLIENT_QUEUE
    tokens: tuple[TokenConfig, ...] = ()


def websocket_from(table: Any) -> WebSocketConfig | None:
    """The bridge's config from the `[websocket]` table, or None when there is none."""
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError("websocket", table, "a table")
    only_fields(table, "websocket", {"port", "host", "max_message_bytes", "client_queue",
                                     "tokens"})  # fmt: skip
    port, host = listen_address(table, "websocket")
    return WebSocketConfig(
        port=port,
        host=host,
        max_message_bytes=positive_int(
            table, "max_message_bytes", DEFAULT_MAX_MESSAGE_BYTES, "websocket"
        ),
        client_queue=positive_int(table, "client_queue", DEFAULT_CLIENT_QUEUE, "websocket"),
        tokens=_tokens(table.get("tokens", {})),
    )


def _tokens(table: Any) -> tuple[TokenConfig, ...]:
    if not isinstance(table, dict):
        raise ConfigError("websocket.tokens", table, "a table of TOKEN = {account, name}")
    tokens = []
    names: set[str] = set()
    for token, spec in table.items():
        where = f"websocket.tokens.{token}"
        if not isinstance(spec, dict):
            raise ConfigError(where, spec, '{ account = "...", name = "..." }')
        only_fields(spec, where, {"account", "name"})
        for field in ("account", "name"):
            value = spec.get(field)
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{where}.{field}", value, "a non-empty string")
        if spec["name"] in names:
            raise ConfigError(f"{where}.name", spec["name"], "a name no other token uses")
        names.add(spec["name"])
        tokens.append(TokenConfig(token=token, name=spec["name"], account=spec["account"]))
    return tuple(tokens)
