"""Nasdaq's ITCH files: each message preceded by its length in two bytes, big-endian (the
"BinaryFILE" framing of the sample files Nasdaq publishes)."""

import struct
from collections.abc import Iterable, Iterator
from pathlib import Path

from nyquestro.gateways.itch.errors import ItchError
from nyquestro.gateways.itch.messages import Message, Unknown, decode

_LENGTH = struct.Struct(">H")


def read_messages(path: Path) -> Iterator[Message | Unknown]:
    """The file's messages in order; ItchError naming the offset of one that is cut short
    or does not fit its layout."""
    with path.open("rb") as stream:
        offset = 0
        while head := stream.read(_LENGTH.size):
            if len(head) < _LENGTH.size:
                raise ItchError(f"{path}: a length cut short at byte {offset}")
            (length,) = _LENGTH.unpack(head)
            body = stream.read(length)
            if len(body) < length:
                raise ItchError(f"{path}: the message at byte {offset} is cut short "
                                f"({len(body)} of {length} bytes)")  # fmt: skip
            try:
                yield decode(body)
            except ItchError as exc:
                raise ItchError(f"{path}: the message at byte {offset}: {exc}") from None
            offset += _LENGTH.size + length


def write_messages(path: Path, messages: Iterable[bytes]) -> None:
    """A file in the same framing (tests and examples write small days with it)."""
    with path.open("wb") as stream:
        for body in messages:
            stream.write(_LENGTH.pack(len(body)) + body)
