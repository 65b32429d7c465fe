"""One client session's numbering, sans-IO: what the pack's client sends next and what it
answers on its own. Time comes in as an argument (the SendingTime text), never read here."""

from collections.abc import Sequence
from dataclasses import dataclass

from nyquestro.codec.fix_wire import MSG_SEQ_NUM, Field, Message, encode

SENDER_COMP_ID = 49
TARGET_COMP_ID = 56
SENDING_TIME = 52
TEST_REQ_ID = 112
RESET_SEQ_NUM_FLAG = 141
HEADER_ORDER = (35, SENDER_COMP_ID, TARGET_COMP_ID, MSG_SEQ_NUM, SENDING_TIME)


@dataclass(frozen=True)
class ClientSpec:
    """A client session a pack plays: its CompIDs, FIX version and manners."""

    name: str
    sender_comp_id: str
    target_comp_id: str
    begin_string: str
    heartbeat: int = 30
    answer_test_requests: bool = True
    """Answer a TestRequest (35=1) with its Heartbeat at once, as any engine would; off for
    a scenario about a client that stays silent."""


@dataclass(frozen=True)
class Outgoing:
    """How one message leaves: the body in order, header fields to add or replace, and the
    parts a pack may set wrong on purpose."""

    msg_type: str
    fields: Sequence[Field] = ()
    header: Sequence[Field] = ()
    seq: int | None = None
    """MsgSeqNum to send instead of the next one; numbering goes on after the highest sent."""
    body_length: int | None = None
    checksum: str | None = None


class ClientSession:
    def __init__(self, spec: ClientSpec) -> None:
        self.spec = spec
        self.next_out = 1
        """MsgSeqNum of the next message this client sends."""
        self.last_in = 0
        """The highest MsgSeqNum received."""

    def build(self, out: Outgoing, sending_time: str) -> bytes:
        if out.msg_type == "A" and (RESET_SEQ_NUM_FLAG, "Y") in out.fields:
            # A Logon asking for (or agreeing to) a reset numbers from 1 again.
            self.next_out = 1
        number = self.next_out if out.seq is None else out.seq
        self.next_out = max(self.next_out, number + 1)
        standard = {
            35: out.msg_type,
            SENDER_COMP_ID: self.spec.sender_comp_id,
            TARGET_COMP_ID: self.spec.target_comp_id,
            MSG_SEQ_NUM: str(number),
            SENDING_TIME: sending_time,
        }
        extra = dict(out.header)
        header = [(tag, extra.pop(tag, value)) for tag, value in standard.items()]
        header.extend(extra.items())
        return encode(self.spec.begin_string, [*header, *out.fields], out.body_length,
                      out.checksum)  # fmt: skip

    def received(self, msg: Message, sending_time: str) -> bytes | None:
        """Notes a message from the venue; returns what the client answers by itself."""
        if msg.type == "A" and msg.get(RESET_SEQ_NUM_FLAG) == "Y":
            self.last_in = 0
        self.last_in = max(self.last_in, msg.seq)
        if msg.type == "1" and self.spec.answer_test_requests:
            answer = Outgoing("0", [(TEST_REQ_ID, msg.get(TEST_REQ_ID) or "")])
            return self.build(answer, sending_time)
        return None
