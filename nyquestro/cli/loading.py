"""Loading the venue config for a subcommand, with the one way of saying it failed."""

from collections.abc import Mapping
from pathlib import Path

from rich.console import Console

from nyquestro.config.instruments import ConfigError
from nyquestro.config.venue import VenueConfig, load_config

CONFIG_ERROR_STATUS = 2
"""Every subcommand's exit status for a config that does not load."""


def load_or_report(
    path: Path | None, environ: Mapping[str, str], errors: Console
) -> VenueConfig | None:
    """The config `serve` would run with, or None once the error (naming the field, the
    variable, the value and what was expected) is printed."""
    try:
        return load_config(path, environ)
    except ConfigError as exc:
        errors.print(f"configuration error: {exc}", markup=False)
        return None
