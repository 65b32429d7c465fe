"""A gateway process's follower against a real core's committed stream: a journal in
SQLite, the sequencer, the bus over a Unix socket. The follower sees every command with
the very events the core produced, whether it read them from the journal or the ring;
what its gateway sends for history is dropped and what it sends for live commands leaves;
a clean stop ends the stream. When the core's ring holds the journal's tail, the follower
replays nothing."""

import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from nyquestro.bus.stream import StreamServer
from nyquestro.config.instruments import default_instruments
from nyquestro.domain.commands import Command
from nyquestro.domain.events import EventBase
from nyquestro.domain.ids import Seq, Ts
from nyquestro.engine import Engine
from nyquestro.runtime.committed_stream import CommittedStream
from nyquestro.runtime.follower import Follower
from nyquestro.runtime.outbox import Outbox
from nyquestro.runtime.sequencer import Sequencer
from nyquestro.store.database import create_db_engine, upgrade
from nyquestro.store.journal import Durability, JournalWriter, read_journal
from tests.runtime.flows import random_flow

INSTRUMENTS = tuple(default_instruments())
Seen = list[tuple[Command, list[EventBase]]]


class Core:
    """The sequencer, journal and outbox as `nyquestro serve` wires them for the bus."""

    def __init__(self, url: str) -> None:
        db = create_db_engine(url)
        upgrade(db)
        self.outbox: Outbox[Any] = Outbox(self._deliver)
        self.sequencer = Sequencer(
            Engine(INSTRUMENTS), lambda: 5, JournalWriter(db, Durability.SYNC),
            on_durable=self.outbox.release_upto,
        )  # fmt: skip
        self.sequencer.after_unlock = self.outbox.deliver_ready
        self.seen: Seen = []
        self.sequencer.subscribe(lambda command, events: self.seen.append((command, [*events])))
        self._outputs: dict[str, Callable[[str, Any], None]] = {}

    def side_sender(
        self, name: str, deliver: Callable[[str, Any], None], flush: Callable[[], None]
    ) -> Callable[[str, Any], None]:
        self._outputs[name] = deliver
        self.outbox.after_release = flush
        return lambda key, message: self.sequencer.read(
            lambda: self.outbox.hold(self.sequencer.last_seq, f"{name}|{key}", message)
        )

    def _deliver(self, key: str, message: Any) -> None:
        name, _, rest = key.partition("|")
        self._outputs[name](rest, message)

    def run(self, commands: Sequence[Command]) -> None:
        for command in commands:
            self.sequencer.submit(lambda seq, ts, c=command: _restamped(c, seq, ts))


def _restamped(command: Command, seq: Seq, ts: Ts) -> Command:
    # The flow's own stamps stand in for the sequencer's; both count from 1.
    assert command.seq == seq
    return command


MODES = ("journal-first", "ring-says-gone", "while-the-core-recovers")


@pytest.mark.parametrize("mode", MODES)
def test_the_follower_sees_what_the_core_produced_and_sends_only_for_live_commands(
    tmp_path: Path, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The first 40 commands are journaled before the core's start. "while-the-core-
    recovers": as `nyquestro serve` does, the core's bus serves while it replays them into
    its ring, and the follower folds them as they come without replaying the journal;
    otherwise the bus starts once the core has recovered, its ring holds none of them, and
    the follower replays them, before its hello or once told `gone`."""
    caplog.set_level(logging.INFO, logger="nyquestro.runtime.follower")
    pipelined = mode == "while-the-core-recovers"
    commands = random_flow(7, 100)
    url = f"sqlite:///{tmp_path / 'venue.db'}"
    Core(url).run(commands[:40])
    core = Core(url)  # restarted
    address = f"@nyquestro-test-follower-{os.getpid()}-{mode}"

    follower = Follower(create_db_engine(url), INSTRUMENTS, start_snapshot=None)
    followed: Seen = []
    sent: list[int] = []
    send = follower.side_sender("test", lambda _key, seq: sent.append(seq))

    def gateway(command: Command, events: Sequence[EventBase]) -> None:
        followed.append((command, [*events]))
        send("k", command.seq)

    follower.subscribe(gateway)
    joining = threading.Thread(target=follower.join, args=(address, "test"))
    if pipelined:
        server = StreamServer(address, core.sequencer.last_seq, recovering=True)
        stream = CommittedStream(server, core.side_sender, replaying=True)
        core.sequencer.subscribe(stream.on_events)
        server.start()
        joining.start()
        assert server.wait_for("test", 5)  # said hello before the core replays
        core.sequencer.recover(read_journal(create_db_engine(url)))
        stream.recovered()
    else:
        core.sequencer.recover(read_journal(create_db_engine(url)))
        server = StreamServer(address, core.sequencer.last_seq)
        core.sequencer.subscribe(CommittedStream(server, core.side_sender).on_events)
        server.start()
        follower.catch_up(0 if mode == "journal-first" else 1_000)
        joining.start()
    joining.join(10)
    assert not joining.is_alive()
    core.run(commands[40:60])
    ended: list[bool] = []
    thread = threading.Thread(target=lambda: ended.append(follower.run()))
    thread.start()
    core.run(commands[60:])
    core.sequencer.flush()
    server.close(5.0)
    thread.join(10)
    assert ended == [True]
    assert followed == core.seen
    assert [type(e) for _c, events in followed for e in events] == [
        type(e) for _c, events in core.seen for e in events
    ]
    assert sent == list(range(41, 101))
    replays = [r.getMessage() for r in caplog.records if r.getMessage().startswith("replayed")]
    if pipelined:
        assert replays == []
    else:
        assert replays == ["replayed 40 journaled commands in " + replays[0].rsplit(" in ", 1)[1]]
