"""Invariant: structurally valid FIX application messages with semantically random
values (prices off tick, huge or fractional quantities, unknown ids, unknown symbols,
odd enum codes, repeated requests) never make the venue raise; each gets an answer.

The input bytes drive the choices, so atheris can steer them and hypothesis can shrink them.
Run: .venv/bin/python fuzz/fuzz_fix_semantic.py -max_total_time=60
"""

import quickfix as fix
from atheris_main import fuzz
from fix_venue_rig import BEGIN_STRINGS, Rig

_RIG = Rig()

VALUES = {
    11: ["c1", "c2", "c3", "", "x" * 40],
    41: ["c1", "c2", "zz"],
    37: ["1", "2", "999", "NONE", "-1", "abc"],
    1: ["A1", "A2", ""],
    55: ["AAPL", "ESZ6", "IBM", "NOPE"],
    54: ["1", "2", "5", "9"],
    38: ["100", "0", "-5", "1.5", "1e3", "99999999999999999999", "7"],
    40: ["1", "2", "P", "3", "Z"],
    44: ["190.00", "190.005", "0", "-1", "6000.25", "6000.10", "abc", "1E2"],
    59: ["0", "1", "3", "4", "6"],
    18: ["M", "R", "P", "L", "M R", "1"],
    211: ["0.01", "-0.01", "0.005", "abc"],
    111: ["10", "0", "1000", "3.5"],
    5001: ["G1", ""],
    5002: ["1", "2", "3", "4", "9"],
    97: ["Y", "N"],
    530: ["1", "7", "3"],
    262: ["m1", "m2"],
    263: ["0", "1", "2", "9"],
    264: ["0", "1", "5", "x"],
    265: ["0", "1"],
    320: ["s1"],
    559: ["0", "4"],
}
MESSAGE_TAGS = {
    "D": [11, 1, 55, 54, 38, 40, 44, 59, 18, 211, 111, 5001, 5002, 97],
    "F": [11, 41, 37, 55, 54, 38],
    "G": [11, 41, 37, 55, 54, 38, 40, 44, 111],
    "H": [11, 37, 55, 54],
    "q": [11, 530, 55],
    "V": [262, 263, 264, 265],
    "x": [320, 559],
}


class Picker:
    """Turns input bytes into choices; runs out gracefully (always the first option)."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def byte(self) -> int:
        if self._at >= len(self._data):
            return 0
        self._at += 1
        return self._data[self._at - 1]

    def choose(self, options: list[str]) -> str:
        return options[self.byte() % len(options)]

    def more(self) -> bool:
        return self._at < len(self._data)


def check_one_input(data: bytes) -> None:
    pick = Picker(data)
    while pick.more():
        begin = BEGIN_STRINGS[pick.byte() % 2]
        msg_type = pick.choose(list(MESSAGE_TAGS))
        message = fix.Message()
        message.getHeader().setField(8, begin)
        message.getHeader().setField(35, msg_type)
        for tag in MESSAGE_TAGS[msg_type]:
            if pick.byte() % 4:  # each field present 3 times in 4
                message.setField(tag, pick.choose(VALUES[tag]))
        if msg_type == "V":
            for count_tag, tag, options in (
                (267, 269, ["0", "1", "2", "7"]),
                (146, 55, VALUES[55]),
            ):
                for _ in range(pick.byte() % 3):
                    group = fix.Group(count_tag, tag)
                    group.setField(tag, pick.choose(options))
                    message.addGroup(group)
        _RIG.deliver(begin, message)
        if pick.byte() % 16 == 0:
            _RIG.venue.on_logout(_RIG.keys[begin])


if __name__ == "__main__":
    fuzz(check_one_input)
