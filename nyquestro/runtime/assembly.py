"""Putting a venue's core together: engine, sequencer and FIX gateway, from the newest
snapshot when there is a usable one. The live exchange and the snapshotter's replica are
built the same way, so a snapshot of the replica is a snapshot of the venue."""

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine as DbEngine

from nyquestro.config.venue import VenueConfig
from nyquestro.engine import Engine
from nyquestro.gateways.fix.acceptor import session_key_of
from nyquestro.gateways.fix.message import OutMessage
from nyquestro.gateways.fix.venue import FixVenue
from nyquestro.gateways.udp.orders import session_key as udp_session_key
from nyquestro.runtime import fix_settings, snapshotting
from nyquestro.runtime.sequencer import Sequencer, Subscriber
from nyquestro.store.journal import JournalWriter


@dataclass(frozen=True, slots=True)
class VenueCore:
    engine: Engine
    sequencer: Sequencer
    venue: FixVenue
    snapshot_seq: int
    """The command the snapshot it started from follows (0: it started empty)."""


def assemble(
    config: VenueConfig,
    db: DbEngine,
    send: Callable[[str, OutMessage], None],
    journal: JournalWriter | None = None,
    on_durable: Callable[[int], None] | None = None,
    recorder: Subscriber | None = None,
) -> VenueCore:
    """`recorder` sees each command's events before the gateway turns them into messages,
    so a decision is recorded before the reports it causes are sent."""
    restored = snapshotting.restore_newest(db, config.instruments)
    engine = Engine(config.instruments) if restored is None else restored.engine
    sequencer = Sequencer(engine, time.time_ns, journal, on_durable=on_durable)
    venue = FixVenue(
        config.instruments,
        submit=sequencer.submit,
        read=sequencer.read,
        send=send,
        clock=time.time_ns,
    )
    for s in config.fix.sessions:
        key = session_key_of(s.begin_string, config.fix.comp_id, s.target_comp_id)
        venue.add_session(
            key, s.begin_string, s.account, s.cancel_on_disconnect,
            orders_per_second=s.orders_per_second, messages_per_second=s.messages_per_second,
            queue_limit=s.throttle_queue_limit if s.throttle_mode == "queue" else None,
        )  # fmt: skip
    if config.fix.drop_copy is not None:
        begin = fix_settings.DROP_COPY_BEGIN_STRING
        venue.add_drop_copy(session_key_of(begin, config.fix.comp_id, config.fix.drop_copy), begin)
        for session, _account in config.udp.sessions if config.udp is not None else ():
            venue.add_copied_session(udp_session_key(session))
    if restored is not None:
        venue.restore_state(restored.venue)
        sequencer.resume(restored.stream_hash, restored.last_ts)
    if recorder is not None:
        sequencer.subscribe(recorder)
    sequencer.subscribe(venue.on_events)
    return VenueCore(engine, sequencer, venue, 0 if restored is None else restored.seq)
