"""Sequencing MoldUDP64 packets: in-order delivery, duplicates dropped, gaps named.

Sans-IO: packets in, messages out in sequence order. Out-of-order packets wait (up to
`MAX_PENDING` messages) until what comes before them arrives or is recovered.
"""

from nyquestro.gateways.itch.framing import Packet

MAX_PENDING = 200_000
"""Future messages held while waiting for a gap to fill; beyond, they are dropped and
recovered like lost ones."""


class GapTracker:
    def __init__(self) -> None:
        self.session: bytes | None = None
        self.expected = 1
        """The next sequence number to hand out."""
        self.known_next = 1
        """One past the highest sequence number any packet or heartbeat announced."""
        self.ended = False
        self._pending: dict[int, bytes] = {}

    def restart(self, session: bytes) -> None:
        """A new session numbers from 1 again."""
        self.session = session
        self.expected = self.known_next = 1
        self.ended = False
        self._pending.clear()

    def receive(self, packet: Packet) -> list[bytes]:
        """Messages now deliverable, in order (none while a gap precedes them)."""
        if packet.is_end_of_session:
            self.ended = True
            self.known_next = max(self.known_next, packet.sequence)
            return []
        if packet.is_heartbeat:
            self.known_next = max(self.known_next, packet.sequence)
            return []
        return self.fill(packet.sequence, packet.messages)

    def fill(self, first: int, messages: tuple[bytes, ...] | list[bytes]) -> list[bytes]:
        """Messages `first`.. from wherever (a packet, a retransmission)."""
        self.known_next = max(self.known_next, first + len(messages))
        pending = self._pending
        for seq in range(max(first, self.expected), first + len(messages)):
            if len(pending) < MAX_PENDING:
                pending.setdefault(seq, messages[seq - first])
        out = []
        while self.expected in pending:
            out.append(pending.pop(self.expected))
            self.expected += 1
        return out

    def gap(self) -> tuple[int, int] | None:
        """(first missing sequence number, how many) before what is known, or None."""
        if self.known_next <= self.expected:
            return None
        upto = min(self._pending) if self._pending else self.known_next
        return self.expected, upto - self.expected

    def skip_to(self, next_seq: int) -> list[bytes]:
        """After a snapshot reflecting everything before `next_seq`: continue from there."""
        self._pending = {s: msg for s, msg in self._pending.items() if s >= next_seq}
        self.expected = next_seq
        self.known_next = max(self.known_next, next_seq)
        return self.fill(next_seq, [])
