"""The collector is paused for a block and comes back as it was; settling freezes what
exists so later collections skip it."""

import gc
from collections.abc import Iterator

import pytest

from nyquestro.runtime import collector


@pytest.fixture(autouse=True)
def restore_gc() -> Iterator[None]:
    yield
    gc.unfreeze()
    gc.enable()


def test_paused_turns_the_collector_off_and_back_on_even_after_an_error() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector.paused():
        assert not gc.isenabled()
        raise RuntimeError("inside")
    assert gc.isenabled()


def test_paused_leaves_a_collector_that_was_off_off() -> None:
    gc.disable()
    with collector.paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_settle_moves_what_exists_out_of_later_collections() -> None:
    gc.unfreeze()
    state = [{"order": i} for i in range(1000)]
    collector.settle()
    assert gc.get_freeze_count() >= len(state)
    # Frozen objects are in no generation a collection scans.
    tracked = {id(obj) for generation in range(3) for obj in gc.get_objects(generation)}
    assert not tracked & {id(obj) for obj in state}
