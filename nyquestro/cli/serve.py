"""`nyquestro serve [--config FILE]`."""

import logging
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.logging import RichHandler

from nyquestro.config.instruments import ConfigError
from nyquestro.config.venue import VenueConfig, load_config
from nyquestro.runtime.serve import Exchange, run_until_signalled
from nyquestro.runtime.supervisor import Supervisor

_STOP_MARGIN_SECONDS = 10.0
"""Beyond `[store] shutdown_timeout`, after which the core's own watchdog has ended it."""


def setup_logging() -> None:
    if sys.stderr.isatty():
        handler: logging.Handler = RichHandler(show_path=False)
        fmt = "%(message)s"
    else:
        handler = logging.StreamHandler()
        fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=logging.INFO, format=fmt, handlers=[handler])


def serve_command(config_path: Path | None, db: str | None, errors: Console) -> int:
    setup_logging()

    def load() -> VenueConfig:
        config = load_config(config_path, os.environ)
        return config if db is None else replace(config, db=db)

    def run_core(serving: Callable[[], None]) -> int:
        try:
            exchange = Exchange(load())
        except ConfigError as exc:
            errors.print(f"configuration error: {exc}", markup=False)
            return 2
        run_until_signalled(exchange, load, serving)

    try:
        config = load()  # a config that does not load never gets a core
    except ConfigError as exc:
        errors.print(f"configuration error: {exc}", markup=False)
        return 2
    return Supervisor(run_core, config.shutdown_timeout + _STOP_MARGIN_SECONDS).run()
