"""`nyquestro config check [--config FILE]`: load the venue config as `serve` would."""

from collections.abc import Mapping
from pathlib import Path

from rich.console import Console
from sqlalchemy.engine import make_url

from nyquestro.cli.loading import CONFIG_ERROR_STATUS, load_or_report
from nyquestro.config.environment import config_variables
from nyquestro.store.database import normalise_url


def config_check_command(
    path: Path | None, environ: Mapping[str, str], out: Console, errors: Console
) -> int:
    config = load_or_report(path, environ, errors)
    if config is None:
        return CONFIG_ERROR_STATUS
    overrides = ", ".join(config_variables(environ)) or "none"
    # The journal URL may carry a database password; the summary is for logs and terminals.
    db = make_url(normalise_url(config.db)).render_as_string(hide_password=True)
    fix = config.fix
    out.print(
        f"{path or 'default venue'}: OK: FIX {fix.comp_id} on port {fix.port}, "
        f"{len(fix.sessions)} sessions, drop copy {fix.drop_copy or 'off'}, "
        f"{len(config.instruments)} instruments, {len(config.risk.accounts)} accounts with "
        f"risk limits, journal {db} ({config.durability}); environment overrides: "
        f"{overrides}",
        markup=False,
    )
    return 0
