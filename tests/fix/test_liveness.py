"""The venue stays responsive when sessions leave during a burst of reports (issue 11).

One round per way of leaving (`tests.fix.liveness.covering()`), among which both FIX
versions and cancel-on-disconnect on and off occur, in each layout: the FIX gateway in the
core's process and in one of its own. Each round runs a real `nyquestro serve` with group
commit and real TCP clients; `benchmarks/logout_stress.py` runs as many rounds as asked.
"""

from pathlib import Path

import pytest

from tests.fix.liveness import Variant, covering, plan, run_round

VARIANTS = covering()


@pytest.mark.parametrize("fix_process", [False, True], ids=["one-process", "fix-process"])
@pytest.mark.parametrize("index", range(len(VARIANTS)), ids=[v.name for v in VARIANTS])
def test_venue_answers_after_sessions_leave_during_a_burst(
    index: int, fix_process: bool, tmp_path: Path
) -> None:
    variant: Variant = VARIANTS[index]
    # The seed fixes the delay; the same round runs again with the same index.
    outcome = run_round(tmp_path, plan(seed=index, variants=[variant], fix_process=fix_process))
    assert outcome.ok, f"{outcome.line()}\n{outcome.detail}"
