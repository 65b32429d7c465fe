"""The `[metrics]` table: the Prometheus endpoint (off when absent).

    [metrics]
    port   listen port of the endpoint, http://HOST:PORT/metrics (required)
    host   address to listen on (default "127.0.0.1": this machine only)
    trace  share of FIX requests traced, one JSON line each with the time of every stage
           of the order path, in the store's trace.jsonl: 0 (the default: off) to 1

Errors name the field path, the value and what was expected.
"""

from dataclasses import dataclass
from typing import Any

from nyquestro.config.instruments import ConfigError, listen_address, only_fields


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricsConfig:
    port: int
    host: str = "127.0.0.1"
    trace: float = 0.0


def metrics_from(table: Any) -> MetricsConfig | None:
    """The endpoint's config from the `[metrics]` table, or None when there is none."""
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError("metrics", table, "a table")
    only_fields(table, "metrics", {"port", "host", "trace"})
    port, host = listen_address(table, "metrics")
    trace = table.get("trace", 0.0)
    if isinstance(trace, bool) or not isinstance(trace, int | float) or not 0 <= trace <= 1:
        raise ConfigError("metrics.trace", trace, "a share of requests from 0 to 1")
    return MetricsConfig(port=port, host=host, trace=float(trace))
