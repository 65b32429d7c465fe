"""Where the venue's processes keep their Prometheus metrics (see runtime/metrics.py).

Set in `nyquestro serve`'s environment before anything imports prometheus_client, whose
multiprocess mode reads it once, at import; every process of the venue inherits it. The
directory starts empty at each `serve`: a file per process stays there.
"""

import shutil
from collections.abc import MutableMapping
from pathlib import Path

from nyquestro.config.instruments import ConfigError
from nyquestro.config.venue import load_config

ENVIRONMENT = "PROMETHEUS_MULTIPROC_DIR"


def prepare(config_path: Path | None, environ: MutableMapping[str, str]) -> None:
    try:
        config = load_config(config_path, environ)
    except ConfigError:
        return  # `serve` reports it
    if config.metrics is None:
        environ.pop(ENVIRONMENT, None)
        return
    directory = (config.store_dir / "metrics").resolve()
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    environ[ENVIRONMENT] = str(directory)
