"""`nyquestro status [--config FILE]`: is the venue on this store running, and is its
writer making progress? Reads the status file the venue's liveness monitor keeps."""

import time
from collections.abc import Mapping
from pathlib import Path

from rich.console import Console

from nyquestro.config.instruments import ConfigError
from nyquestro.config.venue import load_config
from nyquestro.runtime.liveness import State, assess

EXIT_STATUS = {State.OK: 0, State.STALLED: 1, State.NOT_RUNNING: 3}
"""2 stays what it is for every command: a config that does not load."""


def status_command(
    path: Path | None, environ: Mapping[str, str], out: Console, errors: Console
) -> int:
    try:
        config = load_config(path, environ)
    except ConfigError as exc:
        errors.print(f"configuration error: {exc}", markup=False)
        return 2
    state, text = assess(config.store_dir, time.time())
    out.print(f"{state}: {text}", markup=False)
    return EXIT_STATUS[state]
