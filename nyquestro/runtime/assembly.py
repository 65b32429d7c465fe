"""Putting a venue's core together: engine, sequencer and FIX gateway, from the newest
snapshot when there is a usable one. The live exchange and the replica (`replica.py`) are
built the same way, so a snapshot of the replica is a snapshot of the venue."""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from sqlalchemy import Engine as DbEngine

from nyquestro.config.venue import VenueConfig
from nyquestro.domain.commands import Command
from nyquestro.domain.events import EventBase
from nyquestro.domain.ids import SessionKey
from nyquestro.engine import Engine
from nyquestro.gateways.fix.acceptor import session_key_of
from nyquestro.gateways.fix.message import ToSession
from nyquestro.gateways.fix.venue import FixVenue
from nyquestro.gateways.udp.orders import UdpOrders
from nyquestro.gateways.udp.orders import session_key as udp_session_key
from nyquestro.runtime import fix_settings, snapshotting
from nyquestro.runtime.sequencer import Sequencer, Subscriber
from nyquestro.store.journal import JournalWriter


@dataclass(frozen=True, slots=True)
class VenueCore:
    engine: Engine
    sequencer: Sequencer
    venue: FixVenue | None
    """The FIX gateway's core, folding every command's events (None: not asked for)."""
    snapshot_seq: int
    """The command the snapshot it started from follows (0: it started empty)."""
    udp: UdpOrders | None
    """The UDP gateway's sans-IO part (its retry windows are snapshotted), if configured."""


def assemble(
    config: VenueConfig,
    db: DbEngine,
    send: Callable[[str, ToSession], None],
    journal: JournalWriter | None = None,
    on_durable: Callable[[int], None] | None = None,
    recorder: Subscriber | None = None,
    udp_reply: Callable[[int, bytes], None] | None = None,
    fold_venue: bool = True,
    clock: Callable[[], int] = time.time_ns,
) -> VenueCore:
    """`recorder` sees each command's events before the gateway turns them into messages,
    so a decision is recorded before the reports it causes are sent. `udp_reply` gets
    the UDP reply frames, (client session, frame); without it they are dropped (the
    snapshot replica only keeps the retry windows). Without `fold_venue` there is no FIX
    gateway core: a core whose FIX gateway runs in a process of its own and whose
    snapshots the replica takes has no use for one (~15% of its work per command).
    `clock`: the venue's time, stamped on commands and on the FIX gateway's own replies
    (a virtual clock's, runtime/clock.py)."""
    restored = snapshotting.restore_newest(db, config.instruments)
    engine = Engine(config.instruments) if restored is None else restored.engine
    sequencer = Sequencer(engine, clock, journal, on_durable=on_durable)
    if restored is not None:
        sequencer.resume(restored.stream_hash, restored.last_ts)
    if recorder is not None:
        sequencer.subscribe(recorder)
    venue = None
    if fold_venue:
        venue = FixVenue(
            config.instruments,
            submit=sequencer.submit,
            read=sequencer.read,
            send=send,
            clock=clock,
        )
        if not config.fix.own_process:
            # Else the FIX gateway's process renders the reports: here the venue only
            # folds events into the state a snapshot carries (order views, depth, ExecID
            # counters).
            add_sessions(venue, config)
        if restored is not None:
            venue.restore_state(restored.venue())
        sequencer.subscribe(venue.on_events)
    udp = None
    if config.udp is not None:
        udp = UdpOrders(dict(config.udp.sessions))
        windows = None if restored is None else restored.udp()
        if windows is not None:
            udp.restore_state(windows)
        sequencer.subscribe(partial(_udp_replies, udp, udp_reply or _drop))
    return VenueCore(engine, sequencer, venue, 0 if restored is None else restored.seq, udp)


def add_sessions(venue: FixVenue, config: VenueConfig) -> set[SessionKey]:
    """The config's FIX sessions, drop copy and copied UDP sessions, as the venue has them
    (also for a replay that renders the venue's messages again); returns the keys of the
    FIX sessions and the drop copy."""
    venue.rules = config.fix.rules
    keys = set()
    for s in config.fix.sessions:
        key = session_key_of(s.begin_string, config.fix.comp_id, s.target_comp_id)
        keys.add(key)
        venue.add_session(
            key, s.begin_string, s.account, s.cancel_on_disconnect,
            orders_per_second=s.orders_per_second, messages_per_second=s.messages_per_second,
            queue_limit=s.throttle_queue_limit if s.throttle_mode == "queue" else None,
        )  # fmt: skip
    if config.fix.drop_copy is not None:
        begin = fix_settings.DROP_COPY_BEGIN_STRING
        drop_copy = session_key_of(begin, config.fix.comp_id, config.fix.drop_copy)
        keys.add(drop_copy)
        venue.add_drop_copy(drop_copy, begin)
        for session, _account in config.udp.sessions if config.udp is not None else ():
            venue.add_copied_session(udp_session_key(session))
    return keys


def _udp_replies(
    udp: UdpOrders, reply: Callable[[int, bytes], None], command: Command,
    events: Sequence[EventBase],
) -> None:  # fmt: skip
    for session, frame in udp.on_events(command, events):
        reply(session, frame)


def _drop(_session: int, _frame: bytes) -> None:
    pass
