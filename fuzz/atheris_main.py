"""The one way every harness here runs under atheris: `python fuzz_<name>.py [flags]`."""

import sys
from collections.abc import Callable


def fuzz(check_one_input: Callable[[bytes], None]) -> None:
    import atheris  # noqa: PLC0415 - only the fuzzing run needs it, not the test suite

    atheris.instrument_all()
    atheris.Setup(sys.argv, check_one_input)
    atheris.Fuzz()
