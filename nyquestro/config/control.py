"""The `[control]` table: the gRPC control plane (off when absent).

    [control]
    port     listen port of the control plane (required)
    host     address to listen on (default "127.0.0.1": the control plane has no TLS and
             can halt the venue, so it is reachable from this machine only unless told
             otherwise)
    history  committed commands whose events the control plane keeps for `StreamEvents`
             and order histories (default 50000): a client that reconnects within them
             misses nothing

    [control.tokens]
    TOKEN = { name = "...", actions = true }
             a token a client sends as `authorization: Bearer TOKEN`; `name` is who the
             audit trail says acted. `actions = false` (the default) may only query and
             watch; `true` may also cancel, halt, resume and set kill switches
             (default: no tokens, nobody is let in)

Errors name the field path, the value and what was expected.
"""

from dataclasses import dataclass
from typing import Any

from nyquestro.config.instruments import ConfigError, listen_address, only_fields, positive_int

DEFAULT_HISTORY = 50_000


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlToken:
    token: str
    name: str
    actions: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlConfig:
    port: int
    host: str = "127.0.0.1"
    history: int = DEFAULT_HISTORY
    tokens: tuple[ControlToken, ...] = ()

    def token(self, presented: str) -> ControlToken | None:
        for known in self.tokens:
            if known.token == presented:
                return known
        return None


def control_from(table: Any) -> ControlConfig | None:
    """The control plane's config from the `[control]` table, or None when there is none."""
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError("control", table, "a table")
    only_fields(table, "control", {"port", "host", "history", "tokens"})
    port, host = listen_address(table, "control")
    return ControlConfig(
        port=port,
        host=host,
        history=positive_int(table, "history", DEFAULT_HISTORY, "control"),
        tokens=_tokens(table.get("tokens", {})),
    )


def _tokens(table: Any) -> tuple[ControlToken, ...]:
    if not isinstance(table, dict):
        raise ConfigError("control.tokens", table, 'a table of TOKEN = { name = "..." }')
    tokens = []
    for token, spec in table.items():
        where = f"control.tokens.{token}"
        if not isinstance(spec, dict):
            raise ConfigError(where, spec, '{ name = "...", actions = true|false }')
        only_fields(spec, where, {"name", "actions"})
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{where}.name", name, "a non-empty string")
        actions = spec.get("actions", False)
        if not isinstance(actions, bool):
            raise ConfigError(f"{where}.actions", actions, "true or false")
        tokens.append(ControlToken(token=token, name=name, actions=actions))
    return tuple(tokens)
