"""Length-prefixed framing: how frames (`nyquestro.codec.frames`) travel on a byte stream.

Each frame is preceded by its length, four bytes little-endian. A stream socket delivers
bytes in pieces of any size, so the reader is sans-IO: feed it whatever `recv` returned,
take the whole frames it completed. A sender joins many frames into one write, which is
what makes a stream socket cheap per frame (ADR 0011 has the measurements).

The length is checked against a limit before anything is buffered for it: a peer that
announces a frame larger than any this code writes is broken or hostile, and the reader
says so instead of buffering without bound.
"""

import struct
from collections.abc import Iterable

from nyquestro.domain.errors import NyquestroError

_LENGTH = struct.Struct("<I")
HEADER_SIZE = _LENGTH.size
MAX_FRAME = 16 * 1024 * 1024
"""Larger than any frame the venue writes (a Configure of thousands of instruments)."""


class FramingError(NyquestroError):
    """The byte stream is not a sequence of frames within the limit."""


def frame(payload: bytes) -> bytes:
    """`payload` with its length in front."""
    if len(payload) > MAX_FRAME:
        raise FramingError(f"a frame of {len(payload)} bytes; the limit is {MAX_FRAME}")
    return _LENGTH.pack(len(payload)) + payload


def join(payloads: Iterable[bytes]) -> bytes:
    """Several frames as one write."""
    return b"".join([frame(payload) for payload in payloads])


class FrameReader:
    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self._buffer = bytearray()
        self._max_frame = max_frame

    def feed(self, data: bytes) -> list[bytes]:
        """Take `data` as it came off the stream; returns every frame it completed."""
        buffer = self._buffer
        buffer += data
        frames: list[bytes] = []
        position, end = 0, len(buffer)
        while end - position >= HEADER_SIZE:
            (size,) = _LENGTH.unpack_from(buffer, position)
            if size > self._max_frame:
                raise FramingError(
                    f"the peer announced a frame of {size} bytes; the limit is {self._max_frame}"
                )
            start = position + HEADER_SIZE
            if end - start < size:
                break
            frames.append(bytes(buffer[start : start + size]))
            position = start + size
        del buffer[:position]
        return frames

    @property
    def pending(self) -> int:
        """Bytes received that do not make a whole frame yet."""
        return len(self._buffer)
