"""Render quickfix settings from the venue config, using the templates in sessions/.

The templates (`sessions/acceptor.cfg`, `sessions/session.cfg`) and the dictionaries
(`fixspec/FIX42.xml`, `FIX44.xml`) live beside the package in the repository; the README's
setup installs the package in editable mode, which keeps them there.
"""

from pathlib import Path
from string import Template

from nyquestro.config.instruments import ConfigError
from nyquestro.config.paths import FIXSPEC_DIR, SESSIONS_DIR
from nyquestro.config.venue import VenueConfig

DICTIONARY = {"FIX.4.2": "FIX42.xml", "FIX.4.4": "FIX44.xml"}


def render(config: VenueConfig) -> str:
    for needed in (SESSIONS_DIR / "acceptor.cfg", SESSIONS_DIR / "session.cfg", FIXSPEC_DIR):
        if not needed.exists():
            raise ConfigError(
                "installation", str(needed), "the repository's sessions/ and fixspec/ beside "
                "the package (install with pip install -e .)",
            )  # fmt: skip
    store_dir = config.store_dir.resolve()
    head = Template((SESSIONS_DIR / "acceptor.cfg").read_text()).substitute(
        port=config.fix.port,
        comp_id=config.fix.comp_id,
        store_dir=store_dir,
        reset_on_logon="Y" if config.fix.reset_on_logon else "N",
    )
    block = Template((SESSIONS_DIR / "session.cfg").read_text())
    sessions = [
        block.substitute(
            begin_string=s.begin_string,
            target_comp_id=s.target_comp_id,
            data_dictionary=FIXSPEC_DIR / DICTIONARY[s.begin_string],
        )
        for s in config.fix.sessions
    ]
    return "\n".join([head, *sessions])


def write(config: VenueConfig) -> Path:
    """Write the rendered settings to <store dir>/quickfix.cfg and return its path."""
    config.store_dir.mkdir(parents=True, exist_ok=True)
    path = config.store_dir / "quickfix.cfg"
    path.write_text(render(config))
    return path
