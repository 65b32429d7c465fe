"""A certification pack: its client sessions and scenarios, loaded from TOML and checked
before anything runs, so a mistake names its scenario, step and key.

The format is documented in docs/cert.md; examples/cert/ and nyquestro/cert/packs/ hold
packs to copy from.
"""

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from nyquestro.cert.session import ClientSpec, Outgoing

COMPARISONS = ("eq", "ne", "regex", "num", "gt", "ge", "lt", "le")
"""Matchers that compare a tag's value; `any` and `absent` only ask whether it is there.
`eq` compares text exactly; `num` and the orderings compare numbers (190 num 190.00)."""
NUMERIC = ("num", "gt", "ge", "lt", "le")
VENUE_ACTIONS = (
    "halt", "resume", "kill_switch", "mass_cancel", "cancel_order", "set_limit",
    "risk_check", "logout", "reset_sequence", "fault", "bust_trade", "correct_trade",
    "restart",
)  # fmt: skip
"""What a step may ask of the venue: the control plane's actions, and a restart."""
DEFAULT_TIMEOUT = 5.0
FIX_VERSIONS = ("FIX.4.2", "FIX.4.4")


class PackError(ValueError):
    """The pack is not valid; the text names where and what."""


@dataclass(frozen=True)
class Check:
    """What one tag of an expected message must be."""

    tag: int
    kind: str
    """"eq", "ne", "regex", "num", "gt", "ge", "lt", "le", "any" (present) or "absent"."""
    value: str = ""
    """Compared against (after ${...} substitution); empty for any/absent."""
    capture: str | None = None
    """Keep the received value under this name for later steps."""


@dataclass(frozen=True)
class Send:
    out: Outgoing
    seq: str | None = None
    """MsgSeqNum to send instead of the next one: a number or ${...} (`out.seq` is unused)."""


@dataclass(frozen=True)
class SendRaw:
    text: str
    """Sent as is after substitution, with | standing for SOH."""


@dataclass(frozen=True)
class Expect:
    msg_type: str
    checks: tuple[Check, ...]
    skip_others: bool = False
    """Pass over other messages until one of this type arrives (else the next one that is
    not a Heartbeat must be it)."""


@dataclass(frozen=True)
class ExpectSilence:
    seconds: float
    """Nothing but Heartbeats may arrive for this long."""


@dataclass(frozen=True)
class ExpectClosed:
    """The venue closes the connection (messages before that are allowed)."""


@dataclass(frozen=True)
class Logon:
    reset: bool
    heartbeat: int | None


@dataclass(frozen=True)
class Logout:
    text: str | None


@dataclass(frozen=True)
class Connect:
    pass


@dataclass(frozen=True)
class Disconnect:
    pass


@dataclass(frozen=True)
class Wait:
    seconds: float


@dataclass(frozen=True)
class VenueAction:
    action: str
    args: tuple[tuple[str, str | int | bool], ...]


Action = (
    Send | SendRaw | Expect | ExpectSilence | ExpectClosed | Logon | Logout | Connect
    | Disconnect | Wait | VenueAction
)  # fmt: skip


@dataclass(frozen=True)
class Step:
    name: str
    client: str
    action: Action
    timeout: float


@dataclass(frozen=True)
class Scenario:
    name: str
    steps: tuple[Step, ...]
    begin_string: str | None = None
    """The FIX version every client of this run of the scenario speaks (None: each
    client's own `fix`)."""
    variables: tuple[tuple[str, str], ...] = ()
    """The pack's values for that version, as ${name}."""


@dataclass(frozen=True)
class Pack:
    name: str
    description: str
    clients: Mapping[str, ClientSpec]
    scenarios: tuple[Scenario, ...]
    source: str = field(default="", compare=False)


def builtin_packs() -> dict[str, Path]:
    """Packs shipped with Nyquestro, by name (the file name without .toml)."""
    folder = resources.files("nyquestro.cert") / "packs"
    return {
        item.name.removesuffix(".toml"): Path(str(item))
        for item in folder.iterdir()
        if item.name.endswith(".toml")
    }


def find_pack(name_or_path: str) -> Path:
    """A pack file's path: a built-in pack's name, or a path."""
    builtin = builtin_packs()
    if name_or_path in builtin:
        return builtin[name_or_path]
    path = Path(name_or_path)
    if not path.is_file():
        names = ", ".join(sorted(builtin))
        raise PackError(f"no pack {name_or_path!r}: not a file, nor a built-in pack ({names})")
    return path


def load_pack(path: Path) -> Pack:
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise PackError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return parse_pack(data, str(path))
    except PackError as exc:
        raise PackError(f"{path}: {exc}") from None


def parse_pack(data: Mapping[str, Any], source: str = "") -> Pack:
    _only(data, {"name", "description", "timeout", "clients", "scenario", "versions"},
          "the pack")  # fmt: skip
    name = _text(data, "name", "the pack")
    timeout = _seconds(data.get("timeout", DEFAULT_TIMEOUT), "timeout")
    versions = _versions(data.get("versions"))
    clients = _clients(data.get("clients"), next(iter(versions), None))
    scenarios = data.get("scenario")
    if not isinstance(scenarios, list) or not scenarios:
        raise PackError("needs at least one [[scenario]]")
    parsed = tuple(
        _scenario(raw, f"scenario {i}", clients, timeout) for i, raw in enumerate(scenarios, 1)
    )
    if versions:
        # Every scenario once per version, in that version's words.
        parsed = tuple(
            replace(
                scenario,
                name=f"{scenario.name} [{version}]",
                begin_string=version,
                variables=values,
            )
            for scenario in parsed
            for version, values in versions.items()
        )
    description = data.get("description", "")
    if not isinstance(description, str):
        raise PackError("`description` must be a string")
    return Pack(name, description, clients, parsed, source)


def _versions(raw: object) -> dict[str, tuple[tuple[str, str], ...]]:
    """[versions."FIX.4.2"] name = "value": run every scenario once per version listed,
    with these ${name} values (what differs between versions, e.g. ExecType of a fill)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not raw:
        raise PackError('`versions` must be a table such as [versions."FIX.4.4"]')
    versions: dict[str, tuple[tuple[str, str], ...]] = {}
    for version, values in raw.items():
        where = f'[versions."{version}"]'
        if version not in FIX_VERSIONS:
            raise PackError(f"{where}: a version is one of {', '.join(FIX_VERSIONS)}")
        if not isinstance(values, dict):
            raise PackError(f"{where} must be a table of name = value")
        for key in values:
            if not key.isidentifier():
                raise PackError(f"{where}: {key!r} is not a name ${{...}} can use")
        versions[version] = tuple((key, _value(v, where, 0)) for key, v in values.items())
    return versions


def _clients(raw: object, version: str | None) -> dict[str, ClientSpec]:
    if not isinstance(raw, dict) or not raw:
        raise PackError("needs at least one client session under [clients.NAME]")
    clients: dict[str, ClientSpec] = {}
    for name, spec in raw.items():
        where = f"[clients.{name}]"
        if not isinstance(spec, dict):
            raise PackError(f"{where} must be a table")
        _only(spec, {"sender", "target", "fix", "heartbeat", "answer_test_requests"}, where)
        fix = spec.get("fix", version)
        if fix not in FIX_VERSIONS:
            raise PackError(f"{where} `fix` must be one of {', '.join(FIX_VERSIONS)}, "
                            f"not {fix!r} (or give the pack [versions])")  # fmt: skip
        heartbeat = spec.get("heartbeat", 30)
        if not isinstance(heartbeat, int) or isinstance(heartbeat, bool) or heartbeat < 0:
            raise PackError(f"{where} `heartbeat` must be a whole number of seconds >= 0")
        answer = spec.get("answer_test_requests", True)
        if not isinstance(answer, bool):
            raise PackError(f"{where} `answer_test_requests` must be true or false")
        clients[name] = ClientSpec(
            name, _text(spec, "sender", where), _text(spec, "target", where), fix,
            heartbeat, answer,
        )  # fmt: skip
    return clients


def _scenario(
    raw: object, where: str, clients: Mapping[str, ClientSpec], timeout: float
) -> Scenario:
    if not isinstance(raw, dict):
        raise PackError(f"{where} must be a table")
    _only(raw, {"name", "client", "timeout", "step"}, where)
    name = _text(raw, "name", where)
    where = f"scenario {name!r}"
    client = raw.get("client", next(iter(clients)))
    if client not in clients:
        raise PackError(f"{where}: `client` {client!r} is not one of [clients]")
    timeout = _seconds(raw.get("timeout", timeout), f"{where} timeout")
    steps = raw.get("step")
    if not isinstance(steps, list) or not steps:
        raise PackError(f"{where} needs at least one [[scenario.step]]")
    return Scenario(
        name,
        tuple(
            _step(step, f"{where} step {i}", clients, client, timeout)
            for i, step in enumerate(steps, 1)
        ),
    )


_STEP_KINDS = (
    "send", "send_raw", "expect", "expect_silence", "expect_disconnect", "logon", "logout",
    "connect", "disconnect", "wait", "venue",
)  # fmt: skip
_STEP_OPTIONS: dict[str, set[str]] = {
    "send": {"fields", "header", "seq", "body_length", "checksum"},
    "expect": {"fields", "skip_others"},
    "logon": {"reset", "heartbeat"},
    "logout": {"text"},
    "venue": {"args"},
}


def _step(
    raw: object, where: str, clients: Mapping[str, ClientSpec], default_client: str,
    timeout: float,
) -> Step:  # fmt: skip
    if not isinstance(raw, dict):
        raise PackError(f"{where} must be a table")
    kinds = [kind for kind in _STEP_KINDS if kind in raw]
    if len(kinds) != 1:
        raise PackError(f"{where} needs exactly one of {', '.join(_STEP_KINDS)}; has {kinds}")
    (kind,) = kinds
    _only(raw, {"name", "client", "timeout", kind, *_STEP_OPTIONS.get(kind, ())}, where)
    client = raw.get("client", default_client)
    if client not in clients:
        raise PackError(f"{where}: `client` {client!r} is not one of [clients]")
    action = _action(kind, raw, where)
    name = raw.get("name", "")
    if not isinstance(name, str):
        raise PackError(f"{where}: `name` must be a string")
    step_timeout = _seconds(raw.get("timeout", timeout), f"{where} timeout")
    return Step(name or describe(action), client, action, step_timeout)


def _action(kind: str, raw: Mapping[str, Any], where: str) -> Action:
    value = raw[kind]
    if kind == "send":
        seq = raw.get("seq")
        if isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0:
            seq = str(seq)
        if seq is not None and not (isinstance(seq, str) and ("${" in seq or seq.isdigit())):
            raise PackError(f"{where}: `seq` (MsgSeqNum 34) must be a whole number >= 0 or "
                            "a ${...} such as \"${client.next_out-1}\"")  # fmt: skip
        return Send(_outgoing(_msg_type(value, where, kind), raw, where), seq)
    if kind == "send_raw":
        return SendRaw(_text(raw, kind, where))
    if kind == "expect":
        skip = raw.get("skip_others", False)
        if not isinstance(skip, bool):
            raise PackError(f"{where}: `skip_others` must be true or false")
        checks = tuple(_check(tag, spec, where) for tag, spec in _pairs(raw.get("fields"), where))
        return Expect(_msg_type(value, where, kind), checks, skip)
    if kind == "expect_silence":
        return ExpectSilence(_seconds(value, f"{where} expect_silence"))
    if kind == "wait":
        return Wait(_seconds(value, f"{where} wait"))
    if kind == "logon":
        return _logon(value, raw, where)
    if kind == "logout":
        text = raw.get("text")
        if value is not True or (text is not None and not isinstance(text, str)):
            raise PackError(f"{where}: write `logout = true`, with an optional `text` string")
        return Logout(text)
    if kind == "venue":
        return _venue(value, raw.get("args", {}), where)
    if value is not True:
        raise PackError(f"{where}: write `{kind} = true`")
    flags: dict[str, Action] = {
        "expect_disconnect": ExpectClosed(), "connect": Connect(), "disconnect": Disconnect()
    }  # fmt: skip
    return flags[kind]


def _logon(value: object, raw: Mapping[str, Any], where: str) -> Logon:
    reset = raw.get("reset", True)
    heartbeat = raw.get("heartbeat")
    if value is not True or not isinstance(reset, bool):
        raise PackError(f"{where}: write `logon = true`, with `reset = true|false`")
    if heartbeat is not None and (not isinstance(heartbeat, int) or heartbeat < 0):
        raise PackError(f"{where}: `heartbeat` must be a whole number of seconds >= 0")
    return Logon(reset, heartbeat)


def _venue(value: object, args: object, where: str) -> VenueAction:
    if value not in VENUE_ACTIONS:
        raise PackError(f"{where}: `venue` must be one of {', '.join(VENUE_ACTIONS)}; "
                        f"not {value!r}")  # fmt: skip
    if not isinstance(args, dict) or not all(
        isinstance(v, str | int | bool) for v in args.values()
    ):
        raise PackError(f"{where}: `args` must be a table of strings, numbers and booleans")
    return VenueAction(str(value), tuple(args.items()))


def _outgoing(msg_type: str, raw: Mapping[str, Any], where: str) -> Outgoing:
    fields = tuple((tag, _value(v, where, tag)) for tag, v in _pairs(raw.get("fields"), where))
    header = tuple((tag, _value(v, where, tag)) for tag, v in _pairs(raw.get("header"), where))
    body_length = raw.get("body_length")
    if body_length is not None and (not isinstance(body_length, int) or body_length < 0):
        raise PackError(f"{where}: `body_length` (BodyLength 9) must be a whole number >= 0")
    checksum = raw.get("checksum")
    if checksum is not None and not isinstance(checksum, str):
        raise PackError(f'{where}: `checksum` (CheckSum 10) must be a string such as "000"')
    return Outgoing(msg_type, fields, header, None, body_length, checksum)


def _pairs(raw: object, where: str) -> list[tuple[int, object]]:
    """`fields`: a table {tag = value} or, for repeated tags, a list of [tag, value]."""
    if raw is None:
        return []
    if isinstance(raw, dict):
        items = list(raw.items())
    elif isinstance(raw, list) and all(isinstance(p, list) and len(p) == 2 for p in raw):
        items = [(p[0], p[1]) for p in raw]
    else:
        raise PackError(f"{where}: `fields` must be a table {{tag = value}} "
                        "or a list of [tag, value] pairs")  # fmt: skip
    pairs: list[tuple[int, object]] = []
    for tag, value in items:
        if not str(tag).isdigit() or int(tag) <= 0:
            raise PackError(f"{where}: {tag!r} is not a FIX tag number")
        pairs.append((int(tag), value))
    return pairs


def _value(value: object, where: str, tag: int) -> str:
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, str | int):
        return str(value)
    raise PackError(f"{where}: tag {tag} must be a string, a whole number or a boolean "
                    "(a decimal goes in quotes: \"189.50\")")  # fmt: skip


def _check(tag: int, spec: object, where: str) -> Check:
    if not isinstance(spec, dict):
        return Check(tag, "eq", _value(spec, where, tag))
    capture = spec.get("capture")
    if capture is not None and not (isinstance(capture, str) and capture.isidentifier()):
        raise PackError(f'{where}: tag {tag} `capture` must be a name such as "order_id"')
    kinds = [k for k in (*COMPARISONS, "any", "absent") if k in spec]
    unknown = set(spec) - {*COMPARISONS, "any", "absent", "capture"}
    if unknown or len(kinds) > 1 or (not kinds and capture is None):
        raise PackError(
            f"{where}: tag {tag} needs one of {', '.join((*COMPARISONS, 'any', 'absent'))} "
            f"(and optionally `capture`); has {sorted(spec)}"
        )
    kind = kinds[0] if kinds else "any"
    if kind in ("any", "absent"):
        if spec.get(kind, True) is not True:
            raise PackError(f"{where}: tag {tag}: write `{kind} = true`")
        if kind == "absent" and capture is not None:
            raise PackError(f"{where}: tag {tag}: an absent tag has nothing to capture")
        return Check(tag, kind, "", capture)
    value = _value(spec[kind], where, tag)
    if kind in NUMERIC and not _is_number(value) and "${" not in value:
        raise PackError(f"{where}: tag {tag} `{kind}` needs a number, not {value!r}")
    return Check(tag, kind, value, capture)


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except InvalidOperation:
        return False
    return True


def _msg_type(value: object, where: str, kind: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 2:
        raise PackError(f'{where}: `{kind}` must be a MsgType (35) such as "D" or "AE"')
    return value


def _text(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise PackError(f"{where} needs `{key}` (a non-empty string)")
    return value


def _seconds(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise PackError(f"`{what}` must be a number of seconds >= 0")
    return float(value)


def _only(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise PackError(f"{where}: unknown key(s) {', '.join(unknown)}; "
                        f"allowed: {', '.join(sorted(allowed))}")  # fmt: skip


def describe(action: Action) -> str:
    """A step's name when the pack gives none."""
    match action:
        case Send(out, _):
            return f"send 35={out.msg_type}"
        case SendRaw():
            return "send raw bytes"
        case Expect(msg_type, checks, _):
            tags = ", ".join(str(c.tag) for c in checks)
            return f"expect 35={msg_type}" + (f" with {tags}" if tags else "")
        case ExpectSilence(seconds):
            return f"expect nothing for {seconds:g} s"
        case ExpectClosed():
            return "expect the other side to close the connection"
        case Logon(reset, _):
            return "Logon exchange" + (" with ResetSeqNumFlag (141=Y)" if reset else "")
        case Logout():
            return "log out"
        case Connect():
            return "connect"
        case Disconnect():
            return "disconnect"
        case Wait(seconds):
            return f"wait {seconds:g} s"
        case VenueAction(name, _):
            return f"venue: {name}"
