"""From a venue config to the engine settings it asks for, and what a reload can change.

The engine learns its settings only from journaled Configure commands (see
`nyquestro.domain.commands.Configure`); this module turns the config file into one and
says which differences between two configs must wait for a restart.
"""

from collections.abc import Iterable, Mapping
from dataclasses import fields, replace
from functools import partial
from typing import Any

from nyquestro.config.venue import FixSessionConfig, VenueConfig
from nyquestro.domain.commands import Configure
from nyquestro.domain.ids import Account, Seq, SessionKey, Ts
from nyquestro.domain.instrument import Instrument
from nyquestro.domain.risk import SessionRisk, with_account_limit, with_check, with_session_limit
from nyquestro.engine.engine import Settings
from nyquestro.gateways.fix.acceptor import session_key_of
from nyquestro.gateways.fix.venue import FixVenue


def settings_of(config: VenueConfig, running: Settings | None = None) -> Settings:
    """The settings `config` asks for. With `running` settings, instruments keep what
    cannot change live (symbols, tick sizes): `not_live` reports those differences."""
    wanted = {inst.symbol: inst for inst in config.instruments}
    if running is not None:
        wanted = {
            symbol: wanted[symbol]
            if symbol in wanted and wanted[symbol].tick_size == inst.tick_size
            else inst
            for symbol, inst in running.instruments.items()
        }
    clients: dict[str, list[SessionKey]] = {}
    for s in config.fix.sessions:
        key = session_key_of(s.begin_string, config.fix.comp_id, s.target_comp_id)
        clients.setdefault(s.target_comp_id, []).append(key)
    sessions = {
        key: SessionRisk(session=key, limits=limits, off=off)
        for client, limits, off in config.risk.sessions
        for key in clients.get(client, [])
    }
    return Settings(
        instruments=wanted,
        accounts={risk.account: risk for risk in config.risk.accounts},
        sessions=sessions,
        var_window=config.risk.var_window,
    )


def configure(settings: Settings, request_id: int = 0) -> partial[Configure]:
    """A command factory for the sequencer (it stamps seq and ts); `request_id`: the
    operator request it carries out, if any."""
    return partial(_configure, settings, request_id)


def _configure(settings: Settings, request_id: int, seq: Seq, ts: Ts) -> Configure:
    return Configure(
        seq=seq,
        ts=ts,
        instruments=tuple(settings.instruments[s] for s in sorted(settings.instruments)),
        accounts=tuple(settings.accounts[a] for a in sorted(settings.accounts)),
        sessions=tuple(settings.sessions[k] for k in sorted(settings.sessions)),
        var_window=settings.var_window,
        request_id=request_id,
    )


def with_risk_change(settings: Settings, kind: str, params: Mapping[str, Any]) -> Settings:
    """`settings` with one operator change (kind "set_limit": `limit` of an `account` or
    a `session` set to `value`; kind "risk_check": `check` of a `session` made or not,
    `enabled`); ValueError naming what is wrong with it."""
    account, session = params.get("account"), params.get("session")
    if kind == "set_limit":
        name, value = str(params.get("limit")), str(params.get("value") or "")
        if account:
            key = Account(str(account))
            changed = with_account_limit(settings.accounts.get(key), key, name, value)
            return replace(settings, accounts={**settings.accounts, key: changed})
    if not session:
        raise ValueError(f"{kind}: no session" + (" or account" if kind == "set_limit" else ""))
    at = SessionKey(str(session))
    current = settings.sessions.get(at)
    if kind == "set_limit":
        change = with_session_limit(current, at, name, value)
    else:
        change = with_check(current, at, str(params.get("check")), bool(params.get("enabled")))
    return replace(settings, sessions={**settings.sessions, at: change})


def not_live(running: VenueConfig, new: VenueConfig) -> list[str]:
    """Differences of `new` that only a restart applies, one line each."""
    changes = [
        f"store.{name}: {getattr(running, attr)} -> {getattr(new, attr)}"
        for name, attr in (("dir", "store_dir"), ("db", "db"), ("durability", "durability"),
                           ("snapshot_every", "snapshot_every"), ("audit", "audit"),
                           ("shutdown_timeout", "shutdown_timeout"))
        if getattr(running, attr) != getattr(new, attr)
    ]  # fmt: skip
    changes += [
        f"fix.{f.name}: {getattr(running.fix, f.name)} -> {getattr(new.fix, f.name)}"
        for f in fields(running.fix)
        if f.name != "sessions" and getattr(running.fix, f.name) != getattr(new.fix, f.name)
    ]
    before = {(s.begin_string, s.target_comp_id): s for s in running.fix.sessions}
    after = {(s.begin_string, s.target_comp_id): s for s in new.fix.sessions}
    for pair in sorted(before.keys() ^ after.keys()):
        changes.append(f"fix.sessions: {'/'.join(pair)} {'added' if pair in after else 'removed'}")
    for pair in sorted(before.keys() & after.keys()):
        for name in ("account", "cancel_on_disconnect", "throttle_mode"):
            old, value = getattr(before[pair], name), getattr(after[pair], name)
            if old != value:
                changes.append(f"fix.sessions {'/'.join(pair)} {name}: {old} -> {value}")
    if running.clock != new.clock:
        changes.append(f"clock.mode: {running.clock.value} -> {new.clock.value}")
    changes += _instrument_changes(running.instruments, new.instruments)
    return changes


def throttle_changes(running: VenueConfig, new: VenueConfig) -> list[FixSessionConfig]:
    """Sessions of `running` whose throttles `new` changes live (rates, queue limit): the
    new session configs. A change of throttle_mode waits for a restart (`not_live`)."""
    after = {(s.begin_string, s.target_comp_id): s for s in new.fix.sessions}
    changed = []
    for session in running.fix.sessions:
        wanted = after.get((session.begin_string, session.target_comp_id))
        if wanted is None or wanted.throttle_mode != session.throttle_mode:
            continue
        live = replace(
            session,
            orders_per_second=wanted.orders_per_second,
            messages_per_second=wanted.messages_per_second,
            throttle_queue_limit=wanted.throttle_queue_limit,
        )
        if live != session:
            changed.append(live)
    return changed


def _instrument_changes(running: tuple[Instrument, ...], new: tuple[Instrument, ...]) -> list[str]:
    before = {inst.symbol: inst for inst in running}
    after = {inst.symbol: inst for inst in new}
    changes = [
        f"instruments.{symbol}: {'added' if symbol in after else 'removed'}"
        for symbol in sorted(before.keys() ^ after.keys())
    ]
    changes += [
        f"instruments.{symbol}.tick_size: {before[symbol].tick_size} -> {after[symbol].tick_size}"
        for symbol in sorted(before.keys() & after.keys())
        if before[symbol].tick_size != after[symbol].tick_size
    ]
    return changes


def apply_throttles(venue: FixVenue, comp_id: str, changed: Iterable[FixSessionConfig]) -> None:
    """Set the changed sessions' throttles on `venue` (between two commands: the caller
    holds the lock its venue's state is under)."""
    for s in changed:
        key = session_key_of(s.begin_string, comp_id, s.target_comp_id)
        venue.set_throttles(key, s.orders_per_second, s.messages_per_second, _queue_limit(s))


def describe_throttles(comp_id: str, changed: Iterable[FixSessionConfig]) -> list[str]:
    """One log line per changed session: what its throttles are now."""
    return [
        f"throttles of {session_key_of(s.begin_string, comp_id, s.target_comp_id)}: "
        f"orders_per_second {s.orders_per_second}, messages_per_second "
        f"{s.messages_per_second}, queue limit {_queue_limit(s)}"
        for s in changed
    ]


def _queue_limit(session: FixSessionConfig) -> int | None:
    return session.throttle_queue_limit if session.throttle_mode == "queue" else None
