"""Per-session throttles: token buckets on the venue's clock, and the queue of held messages.

Each session may send `rate` messages of a kind per second, in bursts of up to one
second's worth. A message that finds the bucket empty is, by the session's mode, refused
at the gateway with a reason (it never becomes a command, so the journal and replay are
unaffected) or held, in arrival order, until the bucket has a token again. Each session
has its own buckets and queue, so a session that floods only ever refuses or delays
itself: the others' messages are taken in arrival order as before, a refusal costs a
fraction of an accepted order, and holding one costs even less.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from nyquestro.gateways.fix.inbound import FieldSource

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
        if not self.ready(now_ns):
            return False
        self.tokens_ns -= _NS
        return True

    def ready(self, now_ns: int) -> bool:
        """Whether there is a token at `now_ns`, taking none."""
        full = self.rate * _NS
        if self.tokens_ns < 0:
            self.tokens_ns, self.last_ns = full, now_ns
        elapsed = max(0, now_ns - self.last_ns)
        self.tokens_ns = min(full, self.tokens_ns + elapsed * self.rate)
        # Two threads read the clock (the acceptor's and the release timer's): time seen
        # late must not move the bucket back and be refilled a second time.
        self.last_ns = max(self.last_ns, now_ns)
        return self.tokens_ns >= _NS


@dataclass(frozen=True, slots=True)
class HeldFields:
    """A received message's fields as plain data: a `FieldSource` that outlives the
    quickfix callback it arrived in (the binding's message object does not)."""

    fields: Mapping[int, str]
    """Tag → value; the first occurrence of a tag in the message."""
    groups_by_count: Mapping[int, tuple[Mapping[int, str], ...]]
    """Count tag → the entries of that repeating group, each tag → value."""

    def get(self, tag: int) -> str | None:
        return self.fields.get(tag)

    def groups(self, count_tag: int, delimiter: int, tags: Sequence[int]) -> list[dict[int, str]]:
        return [
            {t: entry[t] for t in tags if t in entry}
            for entry in self.groups_by_count.get(count_tag, ())
        ]

    def detach(self) -> "HeldFields":
        return self


@dataclass(frozen=True, slots=True)
class Held:
    """A message waiting in its session's queue for the throttle to let it go."""

    msg_type: str
    fields: FieldSource
