"""Environment-variable overrides for the venue config: `NYQUESTRO_<PATH>=<VALUE>`.

Which variables count. A variable overrides the config when its name starts with
`NYQUESTRO_` (in capitals) followed by one of the config's tables — `STORE`, `FIX`,
`INSTRUMENTS`, `RISK`, `WEBSOCKET`, `UDP`, `ITCH`, `CONTROL`, `METRICS`, `CLOCK`, in any
case.
Every other `NYQUESTRO_` variable (the test suite's `NYQUESTRO_CRASH_SEED`,
`NYQUESTRO_ACCEPTANCE_DIR`, the operator commands' `NYQUESTRO_OPERATOR_TOKEN`) is left
alone, so new settings of that kind must not start with a table name. A name that
starts with a table and a single underscore (`NYQUESTRO_FIX_PORT`) is an error rather
than ignored: it is almost certainly a misspelt override.

The path. The rest of the name is the field's path, segments separated by a double
underscore (single underscores are part of field names): `NYQUESTRO_FIX__PORT` is
`[fix] port`, `NYQUESTRO_FIX__SESSIONS__0__ORDERS_PER_SECOND` is `orders_per_second` of
the first `[[fix.sessions]]` entry, `NYQUESTRO_RISK__ACCOUNTS__ACC1__MAX_LONG` is
`[risk.accounts.ACC1] max_long`. A segment names the key of that spelling if there is
one, else the one key that matches it ignoring case (so `AAPL` finds `aapl` and a
field's capitals find its lower-case name). A segment that names no key adds one: the
segment lower-cased, as every field name is, except directly under `[instruments]`,
`[risk.accounts]` and `[risk.sessions]`, whose keys are symbols, account names and
client CompIDs and keep the spelling of the variable. Under a list, a segment is an
index of an existing entry (0 is the first); to add entries, set the whole list
(`NYQUESTRO_FIX__SESSIONS='[{...}, ...]'`).
Variables apply in path order, so a whole table or list is set before the fields inside
it; two variables naming the same field are an error.

The value. It is read as a TOML value when it is one (`9999` an integer, `true` a
boolean, `[1, 2]` a list, `'"0.01"'` a string), otherwise taken as the string it is
(so a URL or a CompID needs no quotes). Decimals go quoted, as in the file: an unquoted
`0.01` is a TOML float and the config refuses it.

Errors name the variable, its value and what was expected; a config error in a field a
variable set (or inside it) names the variable beside the field path.
"""

import copy
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nyquestro.config.instruments import ConfigError

PREFIX = "NYQUESTRO_"
SEPARATOR = "__"
TABLES = (
    "store", "fix", "instruments", "risk", "websocket", "udp", "itch", "control", "metrics",
    "clock",
)  # fmt: skip
# Keys under these tables are names the operator chose, not field names: a new one keeps
# the variable's spelling instead of being lower-cased.
_NAME_TABLES = {
    ("instruments",), ("risk", "accounts"), ("risk", "sessions"), ("websocket", "tokens"),
    ("itch", "mpids"), ("control", "tokens"),
}  # fmt: skip
_INDEX = re.compile(r"[0-9]+")
_EXAMPLE = "e.g. NYQUESTRO_FIX__PORT"


class OverrideError(ConfigError):
    """An environment variable cannot override the config; `field` is the variable."""


@dataclass(frozen=True, slots=True)
class Overridden:
    """A config document with the environment's overrides applied."""

    doc: dict[str, Any]
    sources: tuple[tuple[str, str], ...]
    """(field path as config errors spell it, e.g. "fix.sessions[0].account"; variable)."""

    def attribute(self, error: ConfigError) -> ConfigError:
        """`error`, naming the variable that set its field (or a table around it) if any."""
        setters = [
            (field, variable)
            for field, variable in self.sources
            if error.field == field or error.field.startswith((f"{field}.", f"{field}["))
        ]
        if not setters:
            return error
        # The innermost setter wins: a field set inside a table that another variable set.
        variable = max(setters, key=lambda setter: len(setter[0]))[1]
        return ConfigError(f"{error.field} (from {variable})", error.value, error.expected)


def config_variables(environ: Mapping[str, str]) -> list[str]:
    """The names in `environ` that override the config, in the order they apply."""
    chosen = []
    for name in environ:
        if not name.startswith(PREFIX):
            continue
        rest = name[len(PREFIX) :].lower()
        if rest.split(SEPARATOR, 1)[0] in TABLES:
            chosen.append(name)
        elif any(rest.startswith(f"{table}_") for table in TABLES):
            raise OverrideError(
                name, environ[name], f"path segments separated by a double underscore, {_EXAMPLE}"
            )
    # Sorting by lower-cased segments puts a table before the fields inside it.
    return sorted(chosen, key=lambda n: ([s.lower() for s in _segments(n)], n))


def apply_environment(doc: dict[str, Any], environ: Mapping[str, str]) -> Overridden:
    """`doc` (left unchanged) with every override in `environ` applied."""
    result = copy.deepcopy(doc)
    sources: dict[str, str] = {}
    for name in config_variables(environ):
        field = _assign(result, name, environ[name])
        if field in sources:
            raise OverrideError(
                name, environ[name], f"the only variable setting {field} (so does {sources[field]})"
            )
        sources[field] = name
    return Overridden(doc=result, sources=tuple(sources.items()))


def _segments(name: str) -> list[str]:
    return name[len(PREFIX) :].split(SEPARATOR)


def _assign(doc: dict[str, Any], name: str, text: str) -> str:
    """Set the field `name` names to `text`'s value; return the field's path."""
    segments = _segments(name)
    if not all(segments):
        raise OverrideError(name, text, f"non-empty segments separated by __, {_EXAMPLE}")
    container: Any = doc
    keys: list[str] = []
    field = ""
    for position, segment in enumerate(segments):
        last = position == len(segments) - 1
        if isinstance(container, dict):
            key = _key(container, segment, tuple(keys) in _NAME_TABLES, name, text, field)
            keys.append(key)
            field = f"{field}.{key}" if field else key
            if last:
                container[key] = _value(text)
            else:
                container = container.setdefault(key, {})
        elif isinstance(container, list):
            if not _INDEX.fullmatch(segment) or int(segment) >= len(container):
                indexes = f"0 to {len(container) - 1}" if container else "none: it is empty"
                raise OverrideError(name, text, f"an index of {field} ({indexes}), not {segment!r}")
            index = int(segment)
            # Keeps `keys` positional, so a table inside a list is never taken for a name table.
            keys.append(f"[{index}]")
            field = f"{field}[{index}]"
            if last:
                container[index] = _value(text)
            else:
                container = container[index]
        else:
            raise OverrideError(
                name, text, f"a path through tables and lists, but {field} is {container!r}"
            )
    return field


def _key(table: dict[str, Any], segment: str, names: bool, name: str, text: str, where: str) -> str:
    if segment in table:
        return segment
    matches = [key for key in table if key.lower() == segment.lower()]
    if len(matches) > 1:
        raise OverrideError(
            name, text, f"a segment naming one key of {where or 'the config'}, not {matches}"
        )
    if matches:
        return matches[0]
    return segment if names else segment.lower()


def _value(text: str) -> Any:
    try:
        parsed = tomllib.loads(f"value = {text}")
    except tomllib.TOMLDecodeError:
        return text
    # A value with a newline could smuggle in more keys; then it is not one TOML value.
    return parsed["value"] if parsed.keys() == {"value"} else text
