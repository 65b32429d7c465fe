"""The venue config: one TOML file for the store, the FIX acceptor and the instruments.

Fields (all optional except where noted; `nyquestro/config/default_venue.toml` is the
shipped example):

    [store]
    dir            directory for quickfix's session store and the rendered quickfix.cfg
                   (default "var")
    db             the journal database: a path (SQLite) or a SQLAlchemy URL such as
                   postgresql+psycopg://user@host/db (default "<dir>/nyquestro.db")
    durability     "group" (default: commit every 2 ms or 512 commands), "sync" (commit
                   per command) or "none" (benchmarks only: a crash loses acknowledged
                   orders)
    snapshot_every take a snapshot of the venue's state after this many commands since the
                   last one (default 100000; 0: only at a clean shutdown). Start-up loads
                   the newest snapshot and replays only the journal after it.
    audit          keep the audit trail (every message in and out, every decision) and the
                   orders/executions/sessions tables (default true; false saves ~100 µs of
                   server CPU per order, for throughput tests)
    shutdown_timeout
                   seconds a stop (SIGTERM, SIGINT) may take to log sessions out, flush the
                   journal and snapshot; past it the venue logs every thread's stack and
                   exits with status 3 (default 10; a number > 0)

    [fix]
    port           listen port (default 9878); quickfix 1.16 opens it on every IPv4
                   interface, so `allow` decides who may log on
    allow          peers that may log on: a list of IP addresses or CIDR networks
                   (default ["127.0.0.0/8", "::1"], loopback only; ["0.0.0.0/0", "::/0"]:
                   anyone). A Logon from any other address is refused with a Logout
                   naming it; see nyquestro/config/peers.py
    comp_id        the venue's SenderCompID (default "NYQUESTRO")
    reset_on_logon quickfix ResetOnLogon: reset sequence numbers at every Logon (default false)
    cancel_on_disconnect
                   default for every session: cancel its open orders when it logs out or
                   drops (default false)
    orders_per_second, messages_per_second
                   default throttles of every session: NewOrderSingle/cancel/replace
                   requests, and application messages of any type, per second (bursts
                   of one second's worth); beyond them a message is refused with a
                   reason (default: no throttle)
    throttle_mode  "reject" (default: refuse what goes beyond a throttle) or "queue" (hold it,
                   in arrival order, until the session's rate allows it)
    throttle_queue_limit
                   queue mode: most messages held per session; one beyond it is refused as
                   in reject mode (default 1000)
    drop_copy_comp_id
                   the drop-copy session's client CompID (FIX.4.4): it receives a copy of
                   every ExecutionReport sent on the order-entry sessions and sends no
                   orders (default "DROPCOPY"; "none" turns it off)
    own_process    run the FIX gateway (quickfix, the sessions, throttles, drop copy) in a
                   process of its own beside the core (default true; false runs it in the
                   core's process: less CPU in all, a shorter round trip, lower
                   throughput; ADR 0011 has the figures)
    faults         clients connect through the fault relay, which can make a session
                   misbehave on purpose (control plane InjectFault, cert packs; default
                   false: it costs a hop per message; needs own_process; docs/faults.md)
    fault_schedule faults the relay does by itself: a list of {session, fault, after,
                   amount}; see nyquestro/config/faults.py (default none)
    rules          behaviour rules ([[fix.rules]]): delayed acks and fills, chosen rejects,
                   cancels and fills in slices after the ack, busts and corrections
                   after a fill, by session and ClOrdID pattern; see
                   nyquestro/config/rules.py
    sessions       required: a list of {begin_string = "FIX.4.2" | "FIX.4.4",
                   target_comp_id = "...", account = "..." (default: target_comp_id),
                   cancel_on_disconnect = bool, orders_per_second = N,
                   messages_per_second = N, throttle_mode = "...",
                   throttle_queue_limit = N (defaults: the [fix] values)}

    [instruments.SYMBOL]   required, at least one; see nyquestro/config/instruments.py

    [udp]          binary UDP order entry: see nyquestro/config/udp.py

    [itch]         the ITCH 5.0 market-data feed over MoldUDP64: see nyquestro/config/itch.py

    [websocket], [websocket.tokens]
                   the WebSocket bridge and its demo page: see nyquestro/config/websocket.py

    [control], [control.tokens]
                   the gRPC control plane: see nyquestro/config/control.py

    [metrics]      the Prometheus endpoint: see nyquestro/config/metrics.py

    [clock]        mode = "wall" (default) or "virtual": the venue's time stands still
                   until the control plane sets it; see nyquestro/config/clock.py

    [schedule]     when each symbol changes trading phase (pre-open, auctions,
                   continuous, close), at the clock's pace or faster; see
                   nyquestro/config/schedule.py

    [risk], [risk.accounts.ACCOUNT], [risk.sessions.CLIENT_COMP_ID]
                   account limits, per-client overrides and switches, the VaR monitor:
                   see nyquestro/config/risk.py

Errors name the field path, the value and what was expected.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from nyquestro.config.clock import ClockMode, clock_from
from nyquestro.config.control import ControlConfig, control_from
from nyquestro.config.environment import apply_environment
from nyquestro.config.faults import ScheduledFault, fault_schedule_from
from nyquestro.config.instruments import ConfigError, instruments_from, parse_toml
from nyquestro.config.itch import ItchConfig, itch_from
from nyquestro.config.metrics import MetricsConfig, metrics_from
from nyquestro.config.peers import AllowList, allow_list_from
from nyquestro.config.risk import RiskConfig, risk_from
from nyquestro.config.rules import Rule, rules_from
from nyquestro.config.schedule import ScheduleConfig, schedule_from
from nyquestro.config.udp import UdpConfig, udp_from
from nyquestro.config.websocket import WebSocketConfig, websocket_from
from nyquestro.domain.instrument import Instrument

BEGIN_STRINGS = ("FIX.4.2", "FIX.4.4")
DURABILITY = ("group", "sync", "none")
THROTTLE_MODES = ("reject", "queue")
DEFAULT_QUEUE_LIMIT = 1000
DEFAULT_SHUTDOWN_TIMEOUT = 10.0
# An upper limit catches a value meant in milliseconds (a stop that may take hours is no
# bound at all); NaN and infinity fail the range check too.
MAX_SHUTDOWN_TIMEOUT = 3600.0


@dataclass(frozen=True, slots=True)
class FixSessionConfig:
    begin_string: str
    target_comp_id: str
    account: str
    cancel_on_disconnect: bool
    orders_per_second: int | None = None
    messages_per_second: int | None = None
    throttle_mode: str = "reject"
    """"reject" refuses a message beyond a throttle; "queue" holds it until allowed."""
    throttle_queue_limit: int = DEFAULT_QUEUE_LIMIT
    """Queue mode: most messages held at once; one beyond it is refused."""


@dataclass(frozen=True, slots=True)
class FixConfig:
    port: int
    """quickfix 1.16's SocketAcceptor listens on every interface (it has no bind address)."""
    allow: AllowList
    """Who may log on: checked at every Logon, since the port is open on every interface."""
    comp_id: str
    reset_on_logon: bool
    sessions: tuple[FixSessionConfig, ...]
    drop_copy: str | None
    """The drop-copy session's client CompID (FIX.4.4), or None for no drop copy."""
    own_process: bool = True
    """The FIX gateway runs in a process of its own (ADR 0011)."""
    faults: bool = False
    """Clients connect through the fault relay, so session faults can be injected."""
    fault_schedule: tuple[ScheduledFault, ...] = ()
    """Faults the relay does by itself (config/faults.py)."""
    rules: tuple[Rule, ...] = ()
    """Behaviour rules: delayed acks and fills, chosen rejects, cancels and fills in slices
    after the ack, busts and corrections after a fill (config/rules.py)."""


@dataclass(frozen=True, slots=True)
class VenueConfig:
    store_dir: Path
    db: str
    durability: str
    snapshot_every: int
    audit: bool
    shutdown_timeout: float
    """Seconds the orderly stop may take before the watchdog ends the process."""
    fix: FixConfig
    instruments: tuple[Instrument, ...]
    risk: RiskConfig
    websocket: WebSocketConfig | None = None
    """The WebSocket bridge and demo page; None: not served."""
    udp: UdpConfig | None = None
    """Binary UDP order entry; None: no UDP gateway."""
    itch: ItchConfig | None = None
    """The ITCH market-data feed; None: no feed."""
    control: ControlConfig | None = None
    """The gRPC control plane; None: not served."""
    metrics: MetricsConfig | None = None
    """The Prometheus endpoint; None: no metrics are kept."""
    clock: ClockMode = ClockMode.WALL
    """Where the venue's time comes from (config/clock.py)."""
    schedule: ScheduleConfig | None = None
    """When symbols change phase (config/schedule.py); None: an operator moves them."""


def default_venue(environ: Mapping[str, str] | None = None) -> VenueConfig:
    """The shipped venue, with `environ`'s NYQUESTRO_ overrides (None: none)."""
    text = resources.files("nyquestro.config").joinpath("default_venue.toml").read_text()
    return parse_venue(text, "default_venue.toml", environ)


def load_config(path: Path | None, environ: Mapping[str, str]) -> VenueConfig:
    """The venue in `path` (else the shipped one) with `environ`'s NYQUESTRO_ overrides:
    what `serve`, `config check` and `status` read."""
    return default_venue(environ) if path is None else load_venue(path, environ)


def load_venue(path: Path, environ: Mapping[str, str] | None = None) -> VenueConfig:
    """The venue in `path`, with `environ`'s NYQUESTRO_ overrides (None: the process's)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), path, f"a readable TOML file ({exc.strerror})") from None
    return parse_venue(text, str(path), os.environ if environ is None else environ)


def parse_venue(text: str, source: str, environ: Mapping[str, str] | None = None) -> VenueConfig:
    """The venue in `text`, with `environ`'s NYQUESTRO_ overrides (None: none, so tests
    never depend on the environment they run in); see nyquestro/config/environment.py."""
    overridden = apply_environment(parse_toml(text, source), environ or {})
    try:
        return _venue(overridden.doc)
    except ConfigError as exc:
        raise overridden.attribute(exc) from None


def _venue(doc: dict[str, Any]) -> VenueConfig:
    tables = {
        "store", "fix", "instruments", "risk", "websocket", "udp", "itch", "control", "metrics",
        "clock", "schedule",
    }  # fmt: skip
    unknown = sorted(set(doc) - tables)
    if unknown:
        raise ConfigError(
            unknown[0],
            doc[unknown[0]],
            "one of [store], [fix], [instruments], [risk], [websocket], [udp], [itch], [control], "
            "[metrics], [clock], [schedule]",
        )
    store = _table(doc, "store")
    fix = _table(doc, "fix")
    _only(
        store, "store", {"dir", "db", "durability", "snapshot_every", "audit", "shutdown_timeout"}
    )
    store_dir = Path(_str(store, "store", "dir", "var"))
    durability = _str(store, "store", "durability", "group")
    if durability not in DURABILITY:
        raise ConfigError("store.durability", durability, f"one of {', '.join(DURABILITY)}")
    snapshot_every = store.get("snapshot_every", 100_000)
    if (
        isinstance(snapshot_every, bool)
        or not isinstance(snapshot_every, int)
        or snapshot_every < 0
    ):
        raise ConfigError("store.snapshot_every", snapshot_every, "a whole number of commands >= 0")
    shutdown_timeout = store.get("shutdown_timeout", DEFAULT_SHUTDOWN_TIMEOUT)
    if (
        isinstance(shutdown_timeout, bool)
        or not isinstance(shutdown_timeout, int | float)
        or not 0 < shutdown_timeout <= MAX_SHUTDOWN_TIMEOUT
    ):
        raise ConfigError(
            "store.shutdown_timeout",
            shutdown_timeout,
            f"a number of seconds > 0 and <= {MAX_SHUTDOWN_TIMEOUT}",
        )
    _only(fix, "fix", {"port", "allow", "comp_id", "reset_on_logon", "cancel_on_disconnect",
                       "sessions", "drop_copy_comp_id", "own_process", "faults", "fault_schedule",
                       "rules", *_THROTTLES,
                       *_QUEUEING})  # fmt: skip
    cod_default = _bool(fix, "fix", "cancel_on_disconnect", False)
    throttles = {name: _rate(fix, "fix", name, None) for name in _THROTTLES}
    queueing = _queueing(fix, "fix", ("reject", DEFAULT_QUEUE_LIMIT))
    own_process = _bool(fix, "fix", "own_process", True)
    faults = _bool(fix, "fix", "faults", False)
    if faults and not own_process:
        raise ConfigError("fix.faults", True, "false while [fix] own_process = false: the "
                          "fault relay runs in the FIX gateway's own process")  # fmt: skip
    port = fix.get("port", 9878)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigError("fix.port", port, "an integer port number between 1 and 65535")
    sessions = fix.get("sessions")
    if not isinstance(sessions, list) or not sessions:
        raise ConfigError("fix.sessions", sessions, "a non-empty list of session tables")
    parsed = tuple(_session(i, s, cod_default, throttles, queueing) for i, s in enumerate(sessions))
    seen = set()
    for i, session in enumerate(parsed):
        key = (session.begin_string, session.target_comp_id)
        if key in seen:
            raise ConfigError(f"fix.sessions[{i}]", key, "each (begin_string, target_comp_id) once")
        seen.add(key)
    drop_copy: str | None = _str(fix, "fix", "drop_copy_comp_id", "DROPCOPY")
    if drop_copy == "none":
        drop_copy = None
    elif ("FIX.4.4", drop_copy) in seen:
        raise ConfigError(
            "fix.drop_copy_comp_id", drop_copy, "a CompID no FIX.4.4 order-entry session uses"
        )
    comp_id = _str(fix, "fix", "comp_id", "NYQUESTRO")
    keys = frozenset(f"{begin}:{comp_id}->{target}" for begin, target in seen)
    schedule = fault_schedule_from(fix.get("fault_schedule"), "fix.fault_schedule", keys)
    if schedule and not faults:
        raise ConfigError("fix.fault_schedule", "...", "no schedule unless [fix] faults = true")
    accounts = {f"{s.begin_string}:{comp_id}->{s.target_comp_id}": s.account for s in parsed}
    rules = rules_from(fix.get("rules"), "fix.rules", accounts)
    if not own_process and any(r.delay_acks or r.delay_fills for r in rules):
        raise ConfigError("fix.rules", "delay_acks/delay_fills",
                          "no delays while [fix] own_process = false: the FIX gateway's "
                          "process keeps them")  # fmt: skip
    acting = next((r for r in rules if r.cancel_after_ack or r.fill or r.amend), None)
    if not own_process and acting is not None:
        raise ConfigError("fix.rules", acting.name, "no cancel_after_ack, fill, bust_fills "
                          "or correct_fills while [fix] own_process = false: the FIX "
                          "gateway's process carries them out")  # fmt: skip
    risk = risk_from(doc.get("risk", {}))
    clients = {session.target_comp_id for session in parsed}
    for client, _limits, _off in risk.sessions:
        if client not in clients:
            raise ConfigError(
                f"risk.sessions.{client}", client, "the target_comp_id of a [[fix.sessions]]"
            )
    instruments = tuple(instruments_from(doc.get("instruments")))
    return VenueConfig(
        store_dir=store_dir,
        db=_str(store, "store", "db", str(store_dir / "nyquestro.db")),
        durability=durability,
        snapshot_every=snapshot_every,
        audit=_bool(store, "store", "audit", True),
        shutdown_timeout=float(shutdown_timeout),
        fix=FixConfig(
            port=port,
            allow=allow_list_from(fix.get("allow"), "fix.allow"),
            comp_id=comp_id,
            reset_on_logon=_bool(fix, "fix", "reset_on_logon", False),
            sessions=parsed,
            drop_copy=drop_copy,
            own_process=own_process,
            faults=faults,
            fault_schedule=schedule,
            rules=rules,
        ),
        instruments=instruments,
        risk=risk,
        websocket=websocket_from(doc.get("websocket")),
        udp=udp_from(doc.get("udp")),
        itch=itch_from(doc.get("itch")),
        control=control_from(doc.get("control")),
        metrics=metrics_from(doc.get("metrics")),
        clock=clock_from(doc.get("clock")),
        schedule=schedule_from(doc.get("schedule"), {i.symbol for i in instruments}),
    )


_THROTTLES = ("orders_per_second", "messages_per_second")
_QUEUEING = ("throttle_mode", "throttle_queue_limit")


def _rate(table: dict[str, Any], where: str, name: str, default: int | None) -> int | None:
    value = table.get(name, default)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ConfigError(f"{where}.{name}", value, "a whole number of messages a second >= 1")
    return value


def _queueing(table: dict[str, Any], where: str, default: tuple[str, int]) -> tuple[str, int]:
    """(throttle_mode, throttle_queue_limit) of a [fix] or session table."""
    mode = _str(table, where, "throttle_mode", default[0])
    if mode not in THROTTLE_MODES:
        raise ConfigError(f"{where}.throttle_mode", mode, f"one of {', '.join(THROTTLE_MODES)}")
    limit = table.get("throttle_queue_limit", default[1])
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ConfigError(f"{where}.throttle_queue_limit", limit, "a whole number of messages >= 1")
    return mode, limit


def _session(
    index: int,
    spec: Any,
    cod_default: bool,
    throttles: dict[str, int | None],
    queueing: tuple[str, int],
) -> FixSessionConfig:
    where = f"fix.sessions[{index}]"
    if not isinstance(spec, dict):
        raise ConfigError(where, spec, "a table {begin_string = ..., target_comp_id = ...}")
    _only(spec, where, {"begin_string", "target_comp_id", "account", "cancel_on_disconnect",
                        *_THROTTLES, *_QUEUEING})  # fmt: skip
    begin = spec.get("begin_string")
    if begin not in BEGIN_STRINGS:
        raise ConfigError(f"{where}.begin_string", begin, f"one of {', '.join(BEGIN_STRINGS)}")
    if "target_comp_id" not in spec:
        raise ConfigError(f"{where}.target_comp_id", None, "the client's CompID")
    target = _str(spec, where, "target_comp_id", "")
    mode, queue_limit = _queueing(spec, where, queueing)
    return FixSessionConfig(
        begin_string=begin,
        target_comp_id=target,
        account=_str(spec, where, "account", target),
        cancel_on_disconnect=_bool(spec, where, "cancel_on_disconnect", cod_default),
        orders_per_second=_rate(spec, where, "orders_per_second", throttles["orders_per_second"]),
        messages_per_second=_rate(
            spec, where, "messages_per_second", throttles["messages_per_second"]
        ),
        throttle_mode=mode,
        throttle_queue_limit=queue_limit,
    )


def _table(doc: dict[str, Any], name: str) -> dict[str, Any]:
    table = doc.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(name, table, "a table")
    return table


def _only(table: dict[str, Any], where: str, known: set[str]) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}", table[unknown[0]], "a known field")


def _str(table: dict[str, Any], where: str, name: str, default: str) -> str:
    value = table.get(name, default)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}.{name}", value, "a non-empty string")
    return value


def _bool(table: dict[str, Any], where: str, name: str, default: bool) -> bool:
    value = table.get(name, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}.{name}", value, "true or false")
    return value
