"""The liveness monitor's verdict from its samples: when a writer counts as stalled."""

from nyquestro.runtime.liveness import STALL_SECONDS, Progress


def test_an_idle_writer_is_never_stalled() -> None:
    progress = Progress(now=0.0)
    for tick in range(1, 20):
        stalled, commands, since = progress.observe(tick * 0.25, 7, appended=7, durable=7)
        assert not stalled and since == 0.0
    assert commands == 0


def test_work_waiting_without_a_commit_stalls_after_a_second_and_a_commit_clears_it() -> None:
    progress = Progress(now=0.0)
    assert not progress.observe(0.0, 5, appended=5, durable=5)[0]
    # Appended 6, the commit never lands.
    assert not progress.observe(0.5, 6, appended=6, durable=5)[0]
    assert not progress.observe(STALL_SECONDS, 6, appended=6, durable=5)[0]
    stalled, _, since = progress.observe(STALL_SECONDS + 0.25, 6, appended=6, durable=5)
    assert stalled and since == STALL_SECONDS + 0.25
    assert not progress.observe(STALL_SECONDS + 0.5, 6, appended=6, durable=6)[0]


def test_a_busy_writer_that_keeps_committing_is_not_stalled() -> None:
    progress = Progress(now=0.0)
    for tick in range(1, 12):
        seq = tick * 100
        stalled, commands, _ = progress.observe(tick * 0.25, seq, appended=seq, durable=seq - 50)
        assert not stalled
    assert commands == 400  # over the last second: 4 samples of 100


def test_a_lock_that_cannot_be_taken_stalls_even_with_the_journal_caught_up() -> None:
    progress = Progress(now=0.0)
    progress.observe(0.0, 9, appended=9, durable=9)
    stalled, _, _ = progress.observe(STALL_SECONDS + 0.25, None, appended=9, durable=9)
    assert stalled and progress.last_seq == 9
