"""The one error type bad ITCH or MoldUDP64 bytes come out as."""


class ItchError(ValueError):
    """Bytes from the peer that do not decode: truncated, wrong length, unknown codes.

    The peer's fault, never ours: decoders raise this and nothing else on any input.
    """
