"""The pieces that keep quickfix calls out of the sequencer's lock (ADR 0008): the
outbox's two stages, the sequencer's after-unlock hook, and the writer thread."""

import threading
from collections.abc import Callable

from nyquestro.config.instruments import default_instruments
from nyquestro.domain.commands import EndOfDay
from nyquestro.domain.ids import Seq, Ts
from nyquestro.engine import Engine
from nyquestro.runtime.outbox import Outbox
from nyquestro.runtime.sequencer import Sequencer
from nyquestro.runtime.writer import Writer

TIMEOUT = 5.0
INSTRUMENTS = tuple(default_instruments())


def end_of_day(seq: Seq, ts: Ts) -> EndOfDay:
    return EndOfDay(seq=seq, ts=ts)


def lock_is_free(sequencer: Sequencer, wait: float = 1.0) -> bool:
    """Whether another thread can take the sequencer's lock within `wait` seconds."""
    got: list[int | None] = []
    probe = threading.Thread(target=lambda: got.append(sequencer.probe(wait)))
    probe.start()
    probe.join(TIMEOUT)
    return got[0] is not None


def test_released_messages_wait_for_deliver_ready_and_leave_in_order() -> None:
    sent: list[tuple[str, int]] = []
    outbox: Outbox[int] = Outbox(lambda key, message: sent.append((key, message)))
    for n in range(1, 7):
        outbox.hold(after_seq=n // 2, key=f"S{n % 2}", message=n)
    outbox.release_upto(1)
    assert sent == [] and outbox.waiting == 6  # released is not yet sent
    outbox.deliver_ready()
    assert sent == [("S1", 1), ("S0", 2), ("S1", 3)]
    outbox.release_upto(3)
    outbox.deliver_ready()
    assert [m for _, m in sent] == [1, 2, 3, 4, 5, 6] and outbox.waiting == 0


def test_a_failing_delivery_does_not_strand_the_messages_behind_it() -> None:
    sent: list[int] = []

    def deliver(_key: str, message: int) -> None:
        if message == 2:
            raise RuntimeError("session gone")
        sent.append(message)

    outbox: Outbox[int] = Outbox(deliver)
    for n in (1, 2, 3):
        outbox.hold(0, "S", n)
    outbox.release_upto(0)
    outbox.deliver_ready()
    assert sent == [1, 3]


def test_deliveries_from_many_threads_send_each_message_once_in_order() -> None:
    sent: list[int] = []
    outbox: Outbox[int] = Outbox(lambda _key, message: sent.append(message))
    guard = threading.Lock()  # stands in for the sequencer's lock around the first stage
    counter = iter(range(10_000))

    def produce() -> None:
        for _ in range(1_000):
            with guard:
                n = next(counter)
                outbox.hold(n, "S", n)
                outbox.release_upto(n)
            outbox.deliver_ready()

    threads = [threading.Thread(target=produce) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    outbox.deliver_ready()
    assert sent == list(range(4_000))


def test_after_unlock_runs_once_per_outermost_section_with_the_lock_free() -> None:
    sequencer = Sequencer(Engine(INSTRUMENTS), clock=lambda: 1)
    seen: list[bool] = []
    sequencer.after_unlock = lambda: seen.append(lock_is_free(sequencer))
    sequencer.submit(end_of_day)
    assert seen == [True]
    sequencer.read(lambda: sequencer.submit(end_of_day))  # nested: one outermost exit
    assert seen == [True, True]


def test_the_writer_runs_posted_work_in_order_under_the_lock_and_survives_failures() -> None:
    sequencer = Sequencer(Engine(INSTRUMENTS), clock=lambda: 1)
    writer = Writer(sequencer.read)
    done: list[int] = []
    held: list[bool] = []

    def task(n: int) -> Callable[[], None]:
        def run() -> None:
            if n == 3:
                raise ValueError("a bug in one message's handling")
            held.append(not lock_is_free(sequencer, wait=0.02))
            done.append(n)

        return run

    writer.start()
    for n in range(10):
        writer.post(task(n))
    assert writer.stop(TIMEOUT)
    assert done == [0, 1, 2, 4, 5, 6, 7, 8, 9]
    assert all(held)
    assert writer.completed == 10 and writer.backlog == 0


def test_posting_never_waits_for_a_writer_stuck_under_the_lock() -> None:
    """What a quickfix callback does (post) must return while the writer is wedged."""
    sequencer = Sequencer(Engine(INSTRUMENTS), clock=lambda: 1)
    writer = Writer(sequencer.read)
    entered, release = threading.Event(), threading.Event()

    def wedge() -> None:
        entered.set()
        release.wait(TIMEOUT)

    writer.start()
    writer.post(wedge)
    assert entered.wait(TIMEOUT)  # the writer is inside it, holding the lock
    posted = threading.Thread(target=lambda: [writer.post(lambda: None) for _ in range(100)])
    posted.start()
    posted.join(TIMEOUT)
    assert not posted.is_alive() and writer.backlog == 100
    release.set()
    assert writer.stop(TIMEOUT)
    assert writer.completed == 101
