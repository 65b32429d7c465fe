"""An outbound FIX message as plain data: what to send, not how."""

from dataclasses import dataclass, field


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
