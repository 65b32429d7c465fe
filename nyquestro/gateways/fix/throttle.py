"""Per-session throttles: token buckets on the venue's clock.

Each session may send `rate` messages of a kind per second, in bursts of up to one
second's worth; a message that finds the bucket empty is refused at the gateway with a
reason (it never becomes a command, so the journal and replay are unaffected). Each
session has its own buckets, so a session that floods only ever refuses itself: the
others' messages are taken in arrival order as before, and a refusal costs a fraction
of an accepted order.
"""

from dataclasses import dataclass

_NS = 1_000_000_000


@dataclass(slots=True)
class TokenBucket:
    rate: int
    """Tokens per second, and the bucket's size."""
    tokens_ns: int = -1
    """Tokens held, in units of 1/10^9 token (integers: no float drift); -1: full."""
    last_ns: int = 0

    def take(self, now_ns: int) -> bool:
        """Take one token at `now_ns`; False when there is none."""
        full = self.rate * _NS
        if self.tokens_ns < 0:
            self.tokens_ns, self.last_ns = full, now_ns
        elapsed = max(0, now_ns - self.last_ns)
        self.tokens_ns = min(full, self.tokens_ns + elapsed * self.rate)
        self.last_ns = now_ns
        if self.tokens_ns < _NS:
            return False
        self.tokens_ns -= _NS
        return True
