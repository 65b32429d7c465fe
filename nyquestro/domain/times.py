"""Times in texts: ns since the epoch as the UTC timestamp a FIX client writes.

Plain integer arithmetic rather than `datetime`: the engine and the domain import no
clock modules at all (the import contract checks), and formatting needs none.
"""


def utc_text(ns: int) -> str:
    """`ns` as YYYYMMDD-HH:MM:SS.sss (UTC, to the millisecond, rounded down)."""
    total_ms = ns // 1_000_000
    seconds, ms = divmod(total_ms, 1000)
    days, second_of_day = divmod(seconds, 86_400)
    year, month, day = _civil(days)
    hour, rest = divmod(second_of_day, 3600)
    minute, second = divmod(rest, 60)
    return f"{year:04d}{month:02d}{day:02d}-{hour:02d}:{minute:02d}:{second:02d}.{ms:03d}"


def _civil(days: int) -> tuple[int, int, int]:
    """(year, month, day) of the Gregorian date `days` after 1970-01-01: eras of 400
    years (146,097 days) counted from 0000-03-01, so the leap day ends each year."""
    shifted = days + 719_468
    era = shifted // 146_097
    day_of_era = shifted - era * 146_097
    year_of_era = (
        day_of_era - day_of_era // 1460 + day_of_era // 36_524 - day_of_era // 146_096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    month_index = (5 * day_of_year + 2) // 153  # 0 is March
    day = day_of_year - (153 * month_index + 2) // 5 + 1
    month = month_index + 3 if month_index < 10 else month_index - 9
    year = year_of_era + era * 400 + (1 if month <= 2 else 0)
    return year, month, day
