"""The venue stays responsive when sessions leave during a burst of reports (issue 11).

One round per way of leaving (`tests.fix.liveness.covering()`), among which both FIX
versions and cancel-on-disconnect on and off occur. Each round runs a real `nyquestro serve`
with group commit and real TCP clients; `benchmarks/logout_stress.py` runs as many rounds
as asked.
"""

from pathlib import Path

import pytest

from tests.fix.liveness import Variant, covering, plan, run_round

VARIANTS = covering()


@pytest.mark.parametrize("index", range(len(VARIANTS)), ids=[v.name for v in VARIANTS])
def test_venue_answers_after_sessions_leave_during_a_burst(index: int, tmp_path: Path) -> None:
    variant: Variant = VARIANTS[index]
    # The seed fixes the delay; the same round runs again with the same index.
    outcome = run_round(tmp_path, plan(seed=index, variants=[variant]))
    assert outcome.ok, f"{outcome.line()}\n{outcome.detail}"
