"""What behaviour rules (`[[fix.rules]]`) do to an order once its ack has gone out: an
unsolicited cancel, or a fill in slices by the house session.

The FIX gateway's process looks at each report as it is delivered (`after_ack`) and
posts the action on its writer. Both are journaled commands: a cancel as an operator's,
a fill as the house's IOC orders, one per slice, on the other side at the order's limit
price. They trade on the real book, so the order's client, the drop copy, market data,
risk and positions see real trades, and a replay of the journal trades them again.
"""

from dataclasses import dataclass
from functools import partial

from nyquestro.config.rules import Fill, Rule
from nyquestro.domain.commands import Command, NewOrder
from nyquestro.domain.enums import OrdType, Side, TimeInForce
from nyquestro.domain.ids import Account, ClOrdId, Px, Qty, Seq, SessionKey, Symbol, Ts
from nyquestro.gateways.fix.dialect import tag
from nyquestro.gateways.fix.inbound import CommandFactory
from nyquestro.gateways.fix.message import OutMessage, ToSession
from nyquestro.gateways.fix.orders import OrderState

ORDER_ID, CL_ORD_ID, EXEC_TYPE = tag("OrderID"), tag("ClOrdID"), tag("ExecType")


@dataclass(frozen=True, slots=True)
class AfterAck:
    order_id: int
    cancel: bool
    fill: Fill | None
    """None when a rule cancels the order: its fill would find it gone, or trade with
    whatever else rests at its price."""


def after_ack(rules: tuple[Rule, ...], key: str, message: ToSession) -> AfterAck | None:
    """What `rules` do to the order whose ack `message` is, now delivered to `key`; None
    if `message` is no ack or no rule acts on it. Any cancelling rule that matches
    cancels; otherwise the first filling one that matches fills."""
    if not isinstance(message, OutMessage) or message.msg_type != "8":
        return None
    order_id = message.get(ORDER_ID) or ""
    if message.get(EXEC_TYPE) != "0" or not order_id.isdigit():
        return None
    cl_ord_id = message.get(CL_ORD_ID) or ""
    matching = [r for r in rules if r.matches(key, cl_ord_id)]
    cancel = any(r.cancel_after_ack for r in matching)
    fill = None if cancel else next((r.fill for r in matching if r.fill), None)
    if not cancel and fill is None:
        return None
    return AfterAck(int(order_id), cancel, fill)


def fill_orders(
    state: OrderState, fill: Fill, house: SessionKey, account: str
) -> list[CommandFactory]:
    """The house's IOC orders that fill `state`'s leaves quantity in `fill`'s slices, with
    ClOrdIDs RULE-FILL-<OrderID>-<k>; none for an order that does not rest at a limit
    price (market, pegged, IOC, FOK) or that is in the house's own account."""
    if (
        state.ord_type is not OrdType.LIMIT
        or not state.tif.rests
        or state.px is None
        or state.account == account
    ):
        return []
    return [
        partial(
            _slice,
            session=house,
            account=Account(account),
            cl_ord_id=ClOrdId(f"RULE-FILL-{state.order_id}-{k}"),
            symbol=state.symbol,
            side=state.side.opposite,
            qty=Qty(qty),
            px=Px(state.px),
        )
        for k, qty in enumerate(fill.slices(state.leaves_qty), 1)
    ]


def _slice(
    seq: Seq,
    ts: Ts,
    *,
    session: SessionKey,
    account: Account,
    cl_ord_id: ClOrdId,
    symbol: Symbol,
    side: Side,
    qty: Qty,
    px: Px,
) -> Command:
    return NewOrder(
        seq=seq, ts=ts, session=session, account=account, cl_ord_id=cl_ord_id, symbol=symbol,
        side=side, qty=qty, px=px, tif=TimeInForce.IOC,
    )  # fmt: skip
