"""Framing: frames come out whole and in order however the stream cuts the bytes, and a
peer that announces an oversized frame is refused before anything is buffered for it."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nyquestro.bus.framing import HEADER_SIZE, FrameReader, FramingError, frame, join


@settings(max_examples=300, deadline=None)
@given(
    payloads=st.lists(st.binary(max_size=300), max_size=20),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=30),
)
def test_frames_come_out_whole_and_in_order_however_the_stream_is_cut(
    payloads: list[bytes], cuts: list[int]
) -> None:
    stream = join(payloads)
    assert len(stream) == sum(len(p) + HEADER_SIZE for p in payloads)
    reader = FrameReader()
    received: list[bytes] = []
    previous = 0
    for cut in [*sorted({min(c, len(stream)) for c in cuts}), len(stream)]:
        received.extend(reader.feed(stream[previous:cut]))
        previous = cut
    assert received == payloads
    assert reader.pending == 0


def test_a_partial_frame_waits_for_the_rest() -> None:
    reader = FrameReader()
    data = frame(b"hello") + frame(b"")
    assert reader.feed(data[:7]) == []
    assert reader.pending == 7
    assert reader.feed(data[7:]) == [b"hello", b""]


def test_an_oversized_announcement_is_refused_at_once() -> None:
    reader = FrameReader(max_frame=100)
    with pytest.raises(FramingError, match="announced a frame of 101 bytes; the limit is 100"):
        reader.feed((101).to_bytes(4, "little") + b"x")


def test_a_frame_over_the_limit_is_not_written() -> None:
    with pytest.raises(FramingError, match="the limit is"):
        frame(bytes(16 * 1024 * 1024 + 1))
