"""What differs between FIX 4.2 and 4.4, resolved once from the generated tables."""

from dataclasses import dataclass

from nyquestro.gateways.fix.spec import ENUMS, TAGS

FIX42 = "FIX.4.2"
FIX44 = "FIX.4.4"


def tag(name: str) -> int:
    return TAGS[name]


@dataclass(frozen=True, slots=True)
class Dialect:
    begin_string: str
    exec_type: dict[str, str]
    ord_status: dict[str, str]
    ord_rej_reason: dict[str, str]
    cxl_rej_reason: dict[str, str]
    restatement: dict[str, str]
    has_exec_trans_type: bool
    """4.2 requires ExecTransType (20) on every ExecutionReport."""
    fill_exec_types: tuple[str, str]
    """ExecType for (partial fill, fill): 4.2 has 1/2, 4.4 reports both as F (Trade)."""
    status_exec_type: str | None
    """4.4 answers OrderStatusRequest with ExecType I; 4.2 repeats the current ExecType."""
    peg_offset_tag: int
    has_mass_cancel: bool
    has_copy_indicator: bool
    """CopyMsgIndicator (797) on drop copies: 4.4 has it, 4.2 does not."""
    trigger_restatement: str | None
    """ExecRestatementReason (378) of the Restated report that says a stop triggered.
    ExecType L (Triggered or Activated by System) is FIX 5.0's: a 4.4 client's
    dictionary rejects it, so both versions report a trigger as D (Restated). 4.4 has a
    reason be present on D, and 8 (Market (Exchange) Option) fits; none of 4.2's six
    does, and 4.2 does not ask for one."""

    @classmethod
    def of(cls, begin_string: str) -> "Dialect":
        enums = ENUMS[begin_string]
        exec_type = enums["ExecType"]
        is42 = begin_string == FIX42
        return cls(
            begin_string=begin_string,
            exec_type=exec_type,
            ord_status=enums["OrdStatus"],
            ord_rej_reason=enums["OrdRejReason"],
            cxl_rej_reason=enums["CxlRejReason"],
            restatement=enums["ExecRestatementReason"],
            has_exec_trans_type=is42,
            fill_exec_types=(
                (exec_type["PARTIAL_FILL"], exec_type["FILL"])
                if is42
                else (exec_type["TRADE"], exec_type["TRADE"])
            ),
            status_exec_type=None if is42 else exec_type["ORDER_STATUS"],
            peg_offset_tag=tag("PegDifference") if is42 else tag("PegOffsetValue"),
            has_mass_cancel="MassCancelResponse" in enums,
            has_copy_indicator=not is42,
            trigger_restatement=None if is42 else enums["ExecRestatementReason"]["MARKET"],
        )


DIALECTS = {begin: Dialect.of(begin) for begin in (FIX42, FIX44)}
