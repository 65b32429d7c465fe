"""`nyquestro serve [--config FILE]`."""

import logging
import os
import sys
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.logging import RichHandler

from nyquestro.config.instruments import ConfigError
from nyquestro.config.venue import VenueConfig, load_config
from nyquestro.runtime.serve import Exchange, run_until_signalled


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

    try:
        exchange = Exchange(load())
    except ConfigError as exc:
        errors.print(f"configuration error: {exc}", markup=False)
        return 2
    run_until_signalled(exchange, load)
