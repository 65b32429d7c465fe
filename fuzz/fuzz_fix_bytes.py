"""Invariant: any bytes either fail quickfix's parsing/validation with a FIXException
(which the session layer answers with a Reject) or reach the venue, which answers and
raises nothing (UnsupportedMessage is the documented exception, answered with a
BusinessMessageReject). Nothing else may escape.

Run: .venv/bin/python fuzz/fuzz_fix_bytes.py -max_total_time=60
tests/fuzz/test_fuzz_harnesses.py drives `check_one_input` from hypothesis in CI.
"""

import quickfix as fix
from atheris_main import fuzz
from fix_venue_rig import BEGIN_STRINGS, DICTIONARIES, Rig

_RIG = Rig()


def frame(begin: str, body: str) -> str:
    head = f"8={begin}\x019={len(body.encode('latin-1'))}\x01"
    checksum = sum((head + body).encode("latin-1")) % 256
    return f"{head}{body}10={checksum:03d}\x01"


def check_one_input(data: bytes) -> None:
    # First byte: version, and whether to frame the rest correctly. Framing half the
    # inputs lets the fuzzer get past BodyLength/CheckSum into validation and the venue.
    if not data:
        return
    begin = BEGIN_STRINGS[data[0] & 1]
    body = data[1:].decode("latin-1")
    text = frame(begin, body) if data[0] & 2 else f"8={begin}\x01{body}"
    dictionary = DICTIONARIES[begin]
    try:
        message = fix.Message(text, dictionary, True)
        dictionary.validate(message)
        if not message.getHeader().isSetField(35) or message.isAdmin():
            return
    except fix.FIXException:
        return
    _RIG.deliver(begin, message)


if __name__ == "__main__":
    fuzz(check_one_input)
