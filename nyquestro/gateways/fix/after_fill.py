"""What behaviour rules (`[[fix.rules]]`) do to a fill once its report has gone out: bust
the trade or correct it (`bust_fills`, `correct_fills`).

The FIX gateway's process looks at each report as it is delivered (`after_fill`) and
posts the action on its writer, which turns it into the operator's journaled command
(`FixVenue.amend_by_rule`): so the client sees the fill first, then its bust or
correction, and a replay of the journal does the same.
"""

from dataclasses import dataclass

from nyquestro.config.rules import Amend, Rule
from nyquestro.gateways.fix.dialect import tag
from nyquestro.gateways.fix.message import OutMessage, ToSession

EXEC_ID, CL_ORD_ID, EXEC_TYPE = tag("ExecID"), tag("ClOrdID"), tag("ExecType")
EXEC_TRANS_TYPE = tag("ExecTransType")
ON_BEHALF_OF_COMP_ID = 115
"""Set on a drop copy's copy: the copy of a fill is no fill of the copy's session."""
FILL_EXEC_TYPES = frozenset({"F", "1", "2"})
"""4.4 Trade; 4.2 Partial fill and Fill."""


@dataclass(frozen=True, slots=True)
class AfterFill:
    exec_id: str
    """The fill's: the venue finds its trade by it."""
    rule: str
    amend: Amend


def after_fill(rules: tuple[Rule, ...], key: str, message: ToSession) -> AfterFill | None:
    """What `rules` do to the fill whose report `message` is, now delivered to `key`; None
    if `message` is no fill report of the order's own session, or no rule acts on it."""
    if not isinstance(message, OutMessage) or message.msg_type != "8":
        return None
    if message.get(EXEC_TYPE) not in FILL_EXEC_TYPES or message.get(EXEC_TRANS_TYPE) not in (
        None,
        "0",
    ):
        return None
    if message.get(ON_BEHALF_OF_COMP_ID) is not None:
        return None
    cl_ord_id = message.get(CL_ORD_ID) or ""
    rule = next((r for r in rules if r.amend and r.matches(key, cl_ord_id)), None)
    if rule is None or rule.amend is None:
        return None
    return AfterFill(message.get(EXEC_ID) or "", rule.name, rule.amend)
