"""FIX messages as bytes: building one with every header field and the trailer under the
caller's control, and cutting a byte stream into messages. Sans-IO: no sockets here."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

SOH = b"\x01"
Field = tuple[int, str]

BEGIN_STRING = 8
BODY_LENGTH = 9
MSG_TYPE = 35
MSG_SEQ_NUM = 34
CHECKSUM = 10
_TRAILER_BYTES = len(b"10=000\x01")


class WireError(ValueError):
    """The peer sent bytes that are not a FIX message (the text says what is wrong)."""


def checksum(data: bytes) -> str:
    return f"{sum(data) % 256:03d}"


def encode(
    begin_string: str,
    fields: Sequence[Field],
    body_length: int | None = None,
    check: str | None = None,
) -> bytes:
    """8, 9, `fields` in the order given, 10. `body_length` and `check` replace the
    computed BodyLength and CheckSum (a pack corrupting them on purpose)."""
    body = b"".join(f"{tag}={value}".encode() + SOH for tag, value in fields)
    length = len(body) if body_length is None else body_length
    head = f"8={begin_string}\x019={length}\x01".encode()
    total = checksum(head + body) if check is None else check
    return head + body + f"10={total}\x01".encode()


@dataclass(frozen=True)
class Message:
    """One received message: its fields in wire order and its bytes."""

    pairs: tuple[Field, ...]
    raw: bytes

    @property
    def type(self) -> str:
        return self.get(MSG_TYPE) or ""

    @property
    def seq(self) -> int:
        value = self.get(MSG_SEQ_NUM)
        return int(value) if value is not None and value.isdigit() else 0

    def get(self, tag: int) -> str | None:
        for t, value in self.pairs:
            if t == tag:
                return value
        return None

    def __contains__(self, tag: object) -> bool:
        return any(t == tag for t, _ in self.pairs)

    def text(self) -> str:
        """The bytes with SOH shown as |, as FIX logs print them."""
        return self.raw.replace(SOH, b"|").decode(errors="replace")


def decode(raw: bytes) -> Message:
    pairs: list[Field] = []
    for part in raw.rstrip(SOH).split(SOH):
        tag, sep, value = part.partition(b"=")
        if not sep or not tag.isdigit():
            raise WireError(f"field {part[:40]!r} is not tag=value")
        pairs.append((int(tag), value.decode(errors="replace")))
    return Message(tuple(pairs), raw)


class Splitter:
    """Cuts a TCP byte stream into whole messages by BodyLength (so SOH inside a data
    field is no trouble); whatever follows an incomplete message waits for more bytes."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> Iterator[Message]:
        """Whole messages so far. A WireError leaves the bytes it is about in `rest()`."""
        self._buffer += data
        while True:
            cut = self._next_length()
            if cut is None:
                return
            raw = self._buffer[:cut]
            if not raw.endswith(SOH) or raw[-_TRAILER_BYTES : -_TRAILER_BYTES + 3] != b"10=":
                raise WireError(f"no CheckSum (10) where BodyLength says the message ends: {raw!r}")
            message = decode(raw)
            self._buffer = self._buffer[cut:]
            yield message

    def rest(self) -> bytes:
        """The bytes not yet part of a message (taken: the splitter starts empty again)."""
        rest, self._buffer = self._buffer, b""
        return rest

    def _next_length(self) -> int | None:
        buffer = self._buffer
        if len(buffer) < 2:
            return None
        if not buffer.startswith(b"8="):
            raise WireError(f"a message does not start with BeginString (8): {buffer[:40]!r}")
        begin_end = buffer.find(SOH)
        length_end = buffer.find(SOH, begin_end + 1)
        if begin_end < 0 or length_end < 0:
            return None
        length_field = buffer[begin_end + 1 : length_end]
        if not length_field.startswith(b"9=") or not length_field[2:].isdigit():
            raise WireError(f"BodyLength (9) must follow BeginString (8): {buffer[:40]!r}")
        end = length_end + 1 + int(length_field[2:]) + _TRAILER_BYTES
        return end if len(buffer) >= end else None
