"""The `[metrics]` table: the Prometheus endpoint (off when absent).

    [metrics]
    port   listen port of the endpoint, http://HOST:PORT/metrics (required)
    host   address to listen on (default "127.0.0.1": this machine only)

Errors name the field path, the value and what was expected.
"""

from dataclasses import dataclass
from typing import Any

from nyquestro.config.instruments import ConfigError, listen_address, only_fields


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricsConfig:
    port: int
    host: str = "127.0.0.1"


def metrics_from(table: Any) -> MetricsConfig | None:
    """The endpoint's config from the `[metrics]` table, or None when there is none."""
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError("metrics", table, "a table")
    only_fields(table, "metrics", {"port", "host"})
    port, host = listen_address(table, "metrics")
    return MetricsConfig(port=port, host=host)
