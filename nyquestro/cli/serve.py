"""`nyquestro serve [--config FILE]`."""

import logging
import sys
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.logging import RichHandler

from nyquestro.config.instruments import ConfigError
from nyquestro.config.venue import default_venue, load_venue
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
    try:
        config = default_venue() if config_path is None else load_venue(config_path)
        if db is not None:
            config = replace(config, db=db)
        exchange = Exchange(config)
    except ConfigError as exc:
        errors.print(f"configuration error: {exc}", markup=False)
        return 2
    run_until_signalled(exchange)
