"""Expected messages against received ones, in words a QA engineer reads: which tag, its
name, what came and what was wanted. Also the ${name} substitution packs use."""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from nyquestro.cert.names import message_name, tag_name
from nyquestro.cert.pack import Check
from nyquestro.codec.fix_wire import Message

_VARIABLE = re.compile(r"\$\{([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?)([+-]\d+)?\}")
Lookup = Callable[[str], str | None]


class MissingValue(KeyError):
    """A ${name} that nothing captured (the text names it)."""

    def __str__(self) -> str:
        return str(self.args[0])


def substitute(text: str, lookup: Lookup) -> str:
    """`text` with each ${name} replaced. ${name+N} and ${name-N} add N to a whole number,
    or N seconds to a UTCTimestamp (`${now+3}`: three seconds from now)."""

    def value(match: re.Match[str]) -> str:
        name, offset = match.group(1), match.group(2)
        found = lookup(name)
        if found is None:
            raise MissingValue(f"${{{name}}} has no value: no earlier step captured it")
        if offset is None:
            return found
        if found.lstrip("-").isdigit():
            return str(int(found) + int(offset))
        later = _seconds_after(found, int(offset))
        if later is None:
            raise MissingValue(
                f"${{{name}{offset}}}: {found!r} is neither a whole number nor a UTCTimestamp"
            )
        return later

    return _VARIABLE.sub(value, text)


def _seconds_after(timestamp: str, seconds: int) -> str | None:
    """A UTCTimestamp (YYYYMMDD-HH:MM:SS, with or without a fraction) `seconds` later, in
    the same form; None if `timestamp` is not one."""
    whole, dot, fraction = timestamp.partition(".")
    if dot and not (fraction.isdigit() and fraction.isascii()):
        return None
    try:
        moment = datetime.strptime(whole, "%Y%m%d-%H:%M:%S")
    except ValueError:
        return None
    return f"{moment + timedelta(seconds=seconds):%Y%m%d-%H:%M:%S}{dot}{fraction}"


def named(tag: int) -> str:
    name = tag_name(tag)
    return f"{tag} ({name})" if name else str(tag)


def _typed(msg_type: str) -> str:
    name = message_name(msg_type)
    return f"35={msg_type} ({name})" if name else f"35={msg_type}"


@dataclass(frozen=True)
class Verdict:
    problems: tuple[str, ...]
    captured: tuple[tuple[str, str], ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verdict(msg: Message, msg_type: str, checks: Sequence[Check], lookup: Lookup) -> Verdict:
    """Whether `msg` is the `msg_type` with every check holding; what failed, in words."""
    if msg.type != msg_type:
        problems = [f"got {_typed(msg.type)} where {_typed(msg_type)} was expected"]
        reason = msg.get(58)
        if reason:
            problems.append(f"its Text (58) says {reason!r}")
        return Verdict(tuple(problems), ())
    problems = []
    captured: list[tuple[str, str]] = []
    for check in checks:
        got = msg.get(check.tag)
        problem = _problem(check, got, lookup)
        if problem is not None:
            problems.append(problem)
        elif check.capture is not None and got is not None:
            captured.append((check.capture, got))
    return Verdict(tuple(problems), tuple(captured))


def _problem(check: Check, got: str | None, lookup: Lookup) -> str | None:
    tag = named(check.tag)
    if check.kind == "absent":
        return None if got is None else f"tag {tag} should be absent but is {got!r}"
    if got is None:
        return f"tag {tag} is missing"
    if check.kind == "any":
        return None
    want = substitute(check.value, lookup)
    if check.kind == "eq":
        return None if got == want else f"tag {tag} is {got!r}, expected {want!r}"
    if check.kind == "ne":
        return None if got != want else f"tag {tag} is {got!r}, expected anything else"
    if check.kind == "regex":
        if re.fullmatch(want, got):
            return None
        return f"tag {tag} is {got!r}, which does not match /{want}/"
    try:
        number, wanted = Decimal(got), Decimal(want)
    except InvalidOperation:
        return f"tag {tag} is {got!r}, not a number (expected {_SIGNS[check.kind]} {want})"
    holds = {"num": number == wanted, "gt": number > wanted, "ge": number >= wanted,
             "lt": number < wanted, "le": number <= wanted}[check.kind]  # fmt: skip
    return None if holds else f"tag {tag} is {got}, expected {_SIGNS[check.kind]} {want}"


_SIGNS = {"num": "=", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def summary(msg: Message) -> str:
    """A message in one short phrase for a report: its type and sequence number."""
    return f"{_typed(msg.type)} MsgSeqNum {msg.seq}"
