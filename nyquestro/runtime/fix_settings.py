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
DROP_COPY_BEGIN_STRING = "FIX.4.4"


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
            begin_string=begin_string,
            target_comp_id=target_comp_id,
            data_dictionary=FIXSPEC_DIR / DICTIONARY[begin_string],
        )
        for begin_string, target_comp_id in session_pairs(config)
    ]
    return "\n".join([head, *sessions])


def session_pairs(config: VenueConfig) -> list[tuple[str, str]]:
    """(BeginString, client CompID) of every session: order entry, then the drop copy."""
    pairs = [(s.begin_string, s.target_comp_id) for s in config.fix.sessions]
    if config.fix.drop_copy is not None:
        pairs.append((DROP_COPY_BEGIN_STRING, config.fix.drop_copy))
    return pairs


def write(config: VenueConfig) -> Path:
    """Write the rendered settings to <store dir>/quickfix.cfg and return its path."""
    config.store_dir.mkdir(parents=True, exist_ok=True)
    path = config.store_dir / "quickfix.cfg"
    path.write_text(render(config))
    return path
