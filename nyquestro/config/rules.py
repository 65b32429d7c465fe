"""`[[fix.rules]]`: how the venue behaves towards some sessions' or some orders' clients.

    [[fix.rules]]
    name = "slow acks"                         # said in logs and in reject texts
    sessions = ["FIX.4.4:NYQUESTRO->CLIENT1"]  # default: every session
    cl_ord_id = "^ALGO-"                       # a regular expression; default: every order
    delay_acks = { uniform = [0.05, 0.5], spike_every = 20, spike = 2.0 }
    delay_fills = { normal = [0.2, 0.05] }
    reject = "symbol_halted"                   # refuse matching NewOrderSingles with this reason
    cancel_after_ack = true                    # cancel a matching order once it is acknowledged
    fill = { partials = 30 }                   # or { pattern = [10, 20, 70] }
    fill_from = "FIX.4.4:NYQUESTRO->HOUSE"     # the session whose orders fill it
    bust_fills = true                          # bust each fill once its report has gone out
    correct_fills = { ticks = -1, qty = 10 }   # or correct it: price moved, size cut
    seed = 7

A delay is `{ fixed = S }`, `{ uniform = [LOW, HIGH] }` or `{ normal = [MEAN, SD] }`
seconds (a normal draw below 0 counts as 0), optionally with every `spike_every`-th delay
`spike` seconds longer. Each rule draws its acks' and its fills' delays from generators
seeded by `seed`, so the n-th delayed ack of a rule always waits the same time. A
report's delay comes from the first rule that matches its session and ClOrdID; a
`reject` or `cancel_after_ack` applies whenever a rule that has one matches.

A `fill` fills a matching resting limit order once its ack has gone out: the `fill_from`
session, the house, sends one IOC order per slice on the other side at the order's price
(gateways/fix/after_ack.py), `partials = N` slices of N with the remainder last, or
`pattern` slices in order until the order is filled. Those are journaled orders on the
real book, so a replay trades them again. The first rule with a `fill` that matches
applies. The house's account must differ from those of the rule's sessions: an account
cannot trade with itself (self-trade prevention would cancel the fill).

`bust_fills` and `correct_fills` act on each fill of a matching order once its report
has gone out to the order's session (gateways/fix/after_fill.py): the venue busts the
trade (ExecType H) or corrects it (G) as an operator does, a journaled command, so both
sides, the drop copy and the ITCH feed hear of it. A correction moves the price by
`ticks` (it must stay above 0) and cuts the quantity to at most `qty`; one of them at
least. The first rule with either that matches applies, once per trade.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nyquestro.config.instruments import ConfigError, only_fields
from nyquestro.domain.reasons import RejectReason

DISTRIBUTIONS = ("fixed", "uniform", "normal")
MAX_SLICES = 1_000
"""Most slices a fill sends for one order (partials of 1 on a large order must not flood
the journal): what they leave rests."""


@dataclass(frozen=True, slots=True)
class Delay:
    distribution: str
    low: float
    """fixed: the delay; uniform: the low end; normal: the mean."""
    high: float
    """uniform: the high end; normal: the standard deviation; fixed: unused."""
    spike_every: int = 0
    spike: float = 0.0


@dataclass(frozen=True, slots=True)
class Fill:
    house: str
    """The session key whose IOC orders fill; its configured account is the contra."""
    partials: int = 0
    """Slices of this many, the remainder last (0: `pattern` instead)."""
    pattern: tuple[int, ...] = ()
    """These slices in order, cut where the order is filled."""

    def slices(self, qty: int) -> tuple[int, ...]:
        """The slices that fill `qty`, or as much of it as the pattern or MAX_SLICES cover."""
        if self.pattern:
            sizes = self.pattern
        else:
            sizes = (self.partials,) * min(MAX_SLICES, (qty + self.partials - 1) // self.partials)
        cut: list[int] = []
        left = qty
        for size in sizes:
            if left == 0:
                break
            cut.append(min(size, left))
            left -= cut[-1]
        return tuple(cut)


@dataclass(frozen=True, slots=True)
class Amend:
    """A bust (`bust`), else a correction by `ticks` and to at most `qty`."""

    bust: bool
    ticks: int = 0
    qty: int | None = None

    def corrected(self, px: int, qty: int) -> tuple[int, int]:
        """(price, quantity) a fill of `qty` at `px` is corrected to."""
        return px + self.ticks, qty if self.qty is None else min(qty, self.qty)


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    sessions: tuple[str, ...]
    cl_ord_id: str | None
    delay_acks: Delay | None = None
    delay_fills: Delay | None = None
    reject: RejectReason | None = None
    seed: int = 0
    cancel_after_ack: bool = False
    """The venue cancels a matching order, unsolicited, once its ack has gone out."""
    fill: Fill | None = None
    """The house fills a matching resting limit order in slices once its ack has gone out."""

    amend: Amend | None = None
    """What happens to each fill of a matching order once its report has gone out."""

    def matches(self, session: str, cl_ord_id: str) -> bool:
        if self.sessions and session not in self.sessions:
            return False
        return self.cl_ord_id is None or re.search(self.cl_ord_id, cl_ord_id) is not None


def rules_from(raw: Any, where: str, sessions: Mapping[str, str]) -> tuple[Rule, ...]:
    """`sessions`: the venue's session keys, each with its configured account."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(where, raw, "a list of [[fix.rules]] tables")
    return tuple(_rule(entry, f"{where}[{i}]", sessions) for i, entry in enumerate(raw))


def _rule(entry: Any, at: str, sessions: Mapping[str, str]) -> Rule:
    if not isinstance(entry, dict):
        raise ConfigError(at, entry, "a table")
    only_fields(entry, at, {"name", "sessions", "cl_ord_id", "delay_acks", "delay_fills",
                            "reject", "seed", "cancel_after_ack", "fill", "fill_from",
                            "bust_fills", "correct_fills"})  # fmt: skip
    name = entry.get("name", at)
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{at}.name", name, "a non-empty string")
    chosen = entry.get("sessions", [])
    if not isinstance(chosen, list) or any(s not in sessions for s in chosen):
        known = ", ".join(sorted(sessions))
        raise ConfigError(f"{at}.sessions", chosen, f"a list of the venue's sessions: {known}")
    pattern = entry.get("cl_ord_id")
    if pattern is not None:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            raise ConfigError(f"{at}.cl_ord_id", pattern, f"a regular expression ({exc})") from None
    reject = entry.get("reject")
    if reject is not None and reject not in {r.name.lower() for r in RejectReason}:
        known = ", ".join(r.name.lower() for r in RejectReason)
        raise ConfigError(f"{at}.reject", reject, f"one of {known}")
    cancel = entry.get("cancel_after_ack", False)
    if not isinstance(cancel, bool):
        raise ConfigError(f"{at}.cancel_after_ack", cancel, "true or false")
    seed = entry.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ConfigError(f"{at}.seed", seed, "a whole number")
    fill = _fill(entry, at, sessions, chosen)
    if fill is not None and (reject is not None or cancel):
        raise ConfigError(f"{at}.fill", entry["fill"], "no fill in a rule that rejects or "
                          "cancels its orders")  # fmt: skip
    rule = Rule(
        name, tuple(chosen), pattern,
        _delay(entry.get("delay_acks"), f"{at}.delay_acks"),
        _delay(entry.get("delay_fills"), f"{at}.delay_fills"),
        None if reject is None else RejectReason[reject.upper()], seed, cancel, fill,
        _amend(entry, at),
    )  # fmt: skip
    if not (rule.delay_acks or rule.delay_fills or rule.reject or rule.cancel_after_ack
            or rule.fill or rule.amend):  # fmt: skip
        raise ConfigError(at, entry, "a rule that does something: delay_acks, "
                          "delay_fills, reject, cancel_after_ack, fill, bust_fills or "
                          "correct_fills")  # fmt: skip
    return rule


def _amend(entry: dict[str, Any], at: str) -> Amend | None:
    bust, correct = entry.get("bust_fills", False), entry.get("correct_fills")
    if not isinstance(bust, bool):
        raise ConfigError(f"{at}.bust_fills", bust, "true or false")
    if correct is None:
        return Amend(bust=True) if bust else None
    if bust:
        raise ConfigError(f"{at}.correct_fills", correct, "nothing in a rule that busts its "
                          "fills (bust_fills = true)")  # fmt: skip
    if not isinstance(correct, dict) or not correct:
        raise ConfigError(f"{at}.correct_fills", correct, "{ ticks = N, qty = Q }, one or both")
    only_fields(correct, f"{at}.correct_fills", {"ticks", "qty"})
    ticks, qty = correct.get("ticks", 0), correct.get("qty")
    if not isinstance(ticks, int) or isinstance(ticks, bool) or ("ticks" in correct and not ticks):
        raise ConfigError(f"{at}.correct_fills.ticks", ticks, "a whole number of ticks, not 0")
    if qty is not None and not _whole(qty):
        raise ConfigError(f"{at}.correct_fills.qty", qty, "a whole number >= 1")
    return Amend(bust=False, ticks=ticks, qty=qty)


def _fill(
    entry: dict[str, Any], at: str, sessions: Mapping[str, str], chosen: list[str]
) -> Fill | None:
    raw, house = entry.get("fill"), entry.get("fill_from")
    if raw is None:
        if house is not None:
            raise ConfigError(f"{at}.fill_from", house, "nothing without fill")
        return None
    if not isinstance(raw, dict) or len(raw) != 1:
        raise ConfigError(f"{at}.fill", raw, "{ partials = N } | { pattern = [Q, ...] }")
    only_fields(raw, f"{at}.fill", {"partials", "pattern"})
    partials, pattern = raw.get("partials", 0), raw.get("pattern", [])
    if "partials" in raw and not _whole(partials):
        raise ConfigError(f"{at}.fill.partials", partials, "a whole number >= 1")
    if "pattern" in raw and (
        not isinstance(pattern, list)
        or not 0 < len(pattern) <= MAX_SLICES
        or not all(_whole(q) for q in pattern)
    ):
        raise ConfigError(
            f"{at}.fill.pattern", pattern, f"a list of 1 to {MAX_SLICES} whole numbers >= 1"
        )
    if not isinstance(house, str) or house not in sessions:
        known = ", ".join(sorted(sessions))
        raise ConfigError(f"{at}.fill_from", house, f"the session that fills, one of {known}")
    account = sessions[house]
    # The house's own sessions included: their orders would meet its fills in one account.
    shared = next((s for s in chosen if sessions[s] == account), None)
    if shared is not None:
        raise ConfigError(f"{at}.fill_from", house, f"a session whose account ({account}) "
                          f"none of the rule's sessions uses ({shared} does)")  # fmt: skip
    return Fill(house, partials, tuple(pattern))


def _delay(raw: Any, at: str) -> Delay | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ConfigError(
            at, raw, "{ fixed = S } | { uniform = [LOW, HIGH] } | { normal = [MEAN, SD] }"
        )
    only_fields(raw, at, {*DISTRIBUTIONS, "spike_every", "spike"})
    kinds = [k for k in DISTRIBUTIONS if k in raw]
    if len(kinds) != 1:
        raise ConfigError(at, raw, f"exactly one of {', '.join(DISTRIBUTIONS)}")
    (kind,) = kinds
    value = raw[kind]
    numbers = [value] if kind == "fixed" else value
    if (
        not isinstance(numbers, list)
        or len(numbers) != (1 if kind == "fixed" else 2)
        or not all(_seconds(n) for n in numbers)
        or (kind == "uniform" and numbers[0] > numbers[1])
    ):
        shape = "S" if kind == "fixed" else "[LOW, HIGH]" if kind == "uniform" else "[MEAN, SD]"
        raise ConfigError(f"{at}.{kind}", value, f"{shape}, seconds >= 0")
    every, spike = raw.get("spike_every", 0), raw.get("spike", 0.0)
    if not isinstance(every, int) or isinstance(every, bool) or every < 0 or not _seconds(spike):
        raise ConfigError(
            f"{at}.spike_every", every, "a whole number >= 0, with spike seconds >= 0"
        )
    low = float(numbers[0])
    high = low if kind == "fixed" else float(numbers[1])
    return Delay(kind, low, high, every, float(spike))


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _seconds(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
