"""`nyquestro status [--config FILE]`: is the venue on this store running, and is its
writer making progress? Reads the status file the venue's liveness monitor keeps."""

import time
from collections.abc import Mapping
from pathlib import Path

from rich.console import Console

from nyquestro.cli.loading import CONFIG_ERROR_STATUS, load_or_report
from nyquestro.runtime.liveness import State, assess

EXIT_STATUS = {State.OK: 0, State.STALLED: 1, State.NOT_RUNNING: 3}
"""2 stays what it is for every command: a config that does not load."""


def status_command(
    path: Path | None, environ: Mapping[str, str], out: Console, errors: Console
) -> int:
    config = load_or_report(path, environ, errors)
    if config is None:
        return CONFIG_ERROR_STATUS
    state, text = assess(config.store_dir, time.time())
    out.print(f"{state}: {text}", markup=False)
    return EXIT_STATUS[state]
