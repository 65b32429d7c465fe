"""Logout stress: issue 11's scenario round after round; fails if any round left the venue
unresponsive.

Run from the repository root:

    .venv/bin/python -m benchmarks.logout_stress [--rounds 50] [--seed S] [--version 4.2,4.4]
        [--one-process]

Round n has seed S + n, which picks its variant (how the sessions leave, FIX version,
cancel-on-disconnect) and its delay (0-40 ms); `--seed <a round's seed> --rounds 1` with the
same `--version` (and `--one-process`) runs that round again. Rounds run the venue as
shipped, the FIX gateway in a process of its own; `--one-process` runs it in the core's
(`[fix] own_process = false`). Each round starts a fresh
`nyquestro serve`; the round logic is tests/fix/liveness.py's, the one the CI test runs.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

from tests.fix.conftest import VERSIONS
from tests.fix.liveness import ALL_VARIANTS, plan, run_round

_VERSION_NAMES = {version[4:]: version for version in VERSIONS}


def versions_of(text: str) -> list[str]:
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [part for part in chosen if part not in _VERSION_NAMES]
    if not chosen or unknown:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of {', '.join(_VERSION_NAMES)}; got {text!r}"
        )
    return [_VERSION_NAMES[part] for part in chosen]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50, help="rounds to run (default 50)")
    parser.add_argument(
        "--seed", type=int, default=int(time.time()) % 100_000,
        help="seed of the first round; round n gets seed + n (default: from the clock)",
    )  # fmt: skip
    parser.add_argument(
        "--version", type=versions_of, default=list(VERSIONS),
        help="FIX versions to draw from: 4.2, 4.4 or 4.2,4.4 (default both)",
    )  # fmt: skip
    parser.add_argument(
        "--one-process", action="store_true",
        help="run the FIX gateway in the core's process ([fix] own_process = false)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1; got {args.rounds}")
    variants = [v for v in ALL_VARIANTS if v.version in args.version]
    print(f"logout stress: {args.rounds} rounds from seed {args.seed}", flush=True)
    hangs = failures = 0
    with tempfile.TemporaryDirectory(prefix="logout-stress-") as work:
        for n in range(args.rounds):
            planned = plan(args.seed + n, variants, fix_process=not args.one_process)
            outcome = run_round(Path(work) / f"round-{planned.seed}", planned)
            print(outcome.line(), flush=True)
            if not outcome.ok:
                hangs += outcome.hung
                failures += not outcome.hung
                print(outcome.detail, flush=True)
    print(
        f"rounds {args.rounds}, passed {args.rounds - hangs - failures}, "
        f"hangs {hangs}, failures {failures}"
    )
    sys.exit(1 if hangs or failures else 0)


if __name__ == "__main__":
    main()
