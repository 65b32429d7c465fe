"""An outbound FIX message as plain data: what to send, not how; and an operator's order
to a session's session layer, which goes the same way."""

from dataclasses import dataclass, field

from nyquestro.domain.enums import SessionAction


@dataclass(slots=True)
class Group:
    count_tag: int
    delimiter_tag: int
    entries: list[list[tuple[int, str]]]


@dataclass(slots=True)
class OutMessage:
    msg_type: str
    fields: list[tuple[int, str]]
    groups: list[Group] = field(default_factory=list)

    def get(self, tag: int) -> str | None:
        for key, value in self.fields:
            if key == tag:
                return value
        return None


@dataclass(frozen=True, slots=True)
class SessionOrder:
    """Not a message: log the session out, or reset its sequence numbers. Sent in order
    with the session's messages, once the command that decided it is durable."""

    action: SessionAction
    reason: str


ToSession = OutMessage | SessionOrder
"""What the FIX gateway hands a session's session layer."""
