"""Render quickfix settings from the venue config, using the templates in sessions/.

The templates (`sessions/acceptor.cfg`, `sessions/session.cfg`) and the dictionaries
(`fixspec/FIX42.xml`, `FIX44.xml`) live beside the package in the repository; the README's
setup installs the package in editable mode, which keeps them there.
"""

import re
from collections.abc import Mapping
from pathlib import Path
from string import Template

from nyquestro.config.instruments import ConfigError
from nyquestro.config.paths import FIXSPEC_DIR, SESSIONS_DIR
from nyquestro.config.venue import VenueConfig
from nyquestro.gateways.fix.acceptor import session_key_of
from nyquestro.gateways.fix.message import OutMessage, SessionOrder
from nyquestro.gateways.fix.venue import EXEC_SLOT

DICTIONARY = {"FIX.4.2": "FIX42.xml", "FIX.4.4": "FIX44.xml"}
DROP_COPY_BEGIN_STRING = "FIX.4.4"


def render(config: VenueConfig, port: int | None = None) -> str:
    """quickfix's settings; `port`: listen there instead of [fix] port (behind the relay)."""
    for needed in (SESSIONS_DIR / "acceptor.cfg", SESSIONS_DIR / "session.cfg", FIXSPEC_DIR):
        if not needed.exists():
            raise ConfigError(
                "installation", str(needed), "the repository's sessions/ and fixspec/ beside "
                "the package (install with pip install -e .)",
            )  # fmt: skip
    store_dir = config.store_dir.resolve()
    head = Template((SESSIONS_DIR / "acceptor.cfg").read_text()).substitute(
        port=config.fix.port if port is None else port,
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


def fix_session_keys(config: VenueConfig) -> frozenset[str]:
    """The session keys of every session, as events and the sessions table name them."""
    comp_id = config.fix.comp_id
    return frozenset(session_key_of(begin, comp_id, target) for begin, target in
                     session_pairs(config))  # fmt: skip


def write(config: VenueConfig, port: int | None = None) -> Path:
    """Write the rendered settings to <store dir>/quickfix.cfg and return its path."""
    config.store_dir.mkdir(parents=True, exist_ok=True)
    path = config.store_dir / "quickfix.cfg"
    path.write_text(render(config, port))
    return path


def store_bodies(config: VenueConfig) -> dict[str, Path]:
    """quickfix FileStore's message file of every session, by session key."""
    store, comp_id = config.store_dir / "fix-store", config.fix.comp_id
    return {
        session_key_of(begin, comp_id, target): store / f"{begin}-{comp_id}-{target}.body"
        for begin, target in session_pairs(config)
    }


_EXEC_ID = re.compile(rb"\x0117=(\d+)\x01")
EXEC_ID = 17


def delivered_exec_ids(config: VenueConfig) -> dict[str, int]:
    """Per session, the highest ExecID in its quickfix store (0: none): how far delivery
    to it got, since reports are handed over in order and quickfix stores each message
    before it sends it. Per session, because one command's reports go to several (both
    sides of a trade, the drop copy) and a crash can fall between them."""
    return highest_exec_ids(store_bodies(config))


def highest_exec_ids(bodies: Mapping[str, Path]) -> dict[str, int]:
    """`delivered_exec_ids` of the given store files."""
    highest = {}
    for key, body in bodies.items():
        data = body.read_bytes() if body.exists() else b""
        highest[key] = max((int(m.group(1)) for m in _EXEC_ID.finditer(data)), default=0)
    return highest


def in_store(highest_exec_id: int, seq: int, message: object) -> bool:
    """Whether `message`, sent for command `seq`, reached a session whose store's highest
    ExecID is `highest_exec_id`. A report by its own ExecID: a crash may fall between two
    reports of one command to one session (two fills of one order). Anything else (a
    cancel reject, market data) by its command."""
    if isinstance(message, SessionOrder):
        return True  # a logout or reset from before a restart, which ended every session
    exec_id = message.get(EXEC_ID) if isinstance(message, OutMessage) else None
    if exec_id is not None and exec_id.isdigit():
        return int(exec_id) <= highest_exec_id
    return seq <= highest_exec_id // EXEC_SLOT


def listening(config: VenueConfig) -> str:
    """The start-up line that says where the FIX acceptor listens and who may log on."""
    fix_cfg = config.fix
    names = ", ".join(f"{s.target_comp_id}/{s.begin_string}" for s in fix_cfg.sessions)
    if fix_cfg.drop_copy is not None:
        names += f"; drop copy: {fix_cfg.drop_copy}/{DROP_COPY_BEGIN_STRING}"
    allow = fix_cfg.allow
    who = "anyone" if allow.everyone else str(allow)
    if allow.loopback_only:
        who += " (this machine only)"
    return (
        f"Nyquestro FIX acceptor on port {fix_cfg.port}, listening on 0.0.0.0:{fix_cfg.port} "
        "(all IPv4 interfaces: quickfix binds no single one; connect to "
        f"127.0.0.1:{fix_cfg.port}); Logons allowed from {who} ([fix] allow); as "
        f"{fix_cfg.comp_id}; sessions: {names}"
    )
