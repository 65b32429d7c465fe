"""Keeping Python's cyclic garbage collector off the venue's large, long-lived state.

The venue's state is hundreds of thousands of objects (orders, levels, order views) that
live for the day and form no garbage cycles; reference counting frees whatever dies. The
cyclic collector still walks them: every time allocations pass a threshold it scans a
generation, and a full collection scans the whole heap.

- Building or serialising that state in one go (loading or taking a snapshot) triggers
  collection after collection over a heap that only grows: measured here, unpickling a
  25 MB snapshot took 1.75 s with the collector on and 0.58 s with it paused, pickling it
  2.2 s against 1.1 s. `paused()` runs such a block without it.
- Once start-up has rebuilt the state, `settle()` moves every object that exists into the
  collector's permanent generation (`gc.freeze`): later collections, which happen while
  orders are being matched, no longer scan it. What the recovered state later drops is
  still freed by reference counting; only a cycle made of frozen objects would stay, and
  the venue's state has none.
- Running, each command allocates a few dozen objects (a decoded command and events,
  frames, messages) that reference counting frees within the command. The collector's
  default young generation (a collection every 700 net allocations) then runs many
  times a second, each pass moving survivors towards the older generations whose
  collections are dearer. `settle()` raises that threshold to `YOUNG_THRESHOLD`; the
  older generations keep their defaults. Measured in the ITCH feed's process
  (`benchmarks.itch_bench`, default day, one run each): 155,104 messages/s at 700,
  193,561 at 100,000, with the same 99-100% of a CPU. Cycles, which the venue's hot
  paths do not make, wait at most that many allocations longer to be freed.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """Run the block with the cyclic collector off (restored as it was afterwards)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


YOUNG_THRESHOLD = 100_000
"""Net allocations between two young-generation collections once the venue runs."""


def settle() -> None:
    """After start-up: collect once, freeze what is left out of later collections, and
    collect the young generation less often from here on."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])
