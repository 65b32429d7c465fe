"""Session faults by name, and `[fix] fault_schedule`: faults the venue does by itself.

    [fix]
    faults = true
    fault_schedule = [
        { session = "FIX.4.4:NYQUESTRO->CLIENT1", fault = "corrupt_checksum", after = 5 },
        { session = "FIX.4.4:NYQUESTRO->CLIENT2", fault = "silence", after = 3, amount = 40 },
    ]

Each entry fires on every connection of its session, once `after` messages have come in
from the client since it connected (its Logon is the first). `amount` as for InjectFault
(docs/faults.md); absent: the fault's default. Needs `faults = true`.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from nyquestro.config.instruments import ConfigError, only_fields


class Fault(StrEnum):
    SKIP_SEQUENCE = "skip_sequence"
    DUPLICATE = "duplicate"
    GAP_FILL_RESEND = "gap_fill_resend"
    RESEND_EVERYTHING = "resend_everything"
    RESET_SEQUENCE = "reset_sequence"
    CORRUPT_CHECKSUM = "corrupt_checksum"
    CORRUPT_BODY_LENGTH = "corrupt_body_length"
    SILENCE = "silence"
    LOGOUT_TOO_LOW = "logout_too_low"
    DISCONNECT = "disconnect"
    DELAY_LOGON = "delay_logon"


@dataclass(frozen=True, slots=True)
class ScheduledFault:
    session: str
    fault: Fault
    after: int
    """Inbound messages on the connection (its Logon counts) before the fault is done."""
    amount: float | None = None


def fault_schedule_from(
    raw: Any, where: str, sessions: frozenset[str]
) -> tuple[ScheduledFault, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(where, raw, "a list of { session, fault, after, amount } tables")
    schedule = []
    for i, entry in enumerate(raw):
        at = f"{where}[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(at, entry, "a table { session, fault, after, amount }")
        only_fields(entry, at, {"session", "fault", "after", "amount"})
        session = entry.get("session")
        if not isinstance(session, str) or session not in sessions:
            known = ", ".join(sorted(sessions))
            raise ConfigError(f"{at}.session", session, f"one of the venue's sessions: {known}")
        fault = entry.get("fault")
        if not isinstance(fault, str) or fault not in Fault.__members__.values():
            raise ConfigError(f"{at}.fault", fault, f"one of {', '.join(Fault)}")
        after = entry.get("after")
        if not isinstance(after, int) or isinstance(after, bool) or after < 1:
            raise ConfigError(f"{at}.after", after, "a whole number of messages >= 1")
        amount = entry.get("amount")
        if amount is not None and (
            isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0
        ):
            raise ConfigError(f"{at}.amount", amount, "a number >= 0 (seconds or a count)")
        schedule.append(
            ScheduledFault(session, Fault(fault), after, None if amount is None else float(amount))
        )
    return tuple(schedule)
