"""Random command flows that exercise every kind of engine state a snapshot must keep:
queue order, icebergs' hidden remainders, pegs and their offsets, SMP keys and policies,
DAY/GTC/GTD orders and pending expiries, stop orders waiting to trigger, ClOrdID maps,
halts, kill switches, replaced and cancelled orders, busted and corrected trades, trading
phases with auctions collecting and uncrossing, the end of a day."""

import random

from nyquestro.domain.commands import (
    BustTrade,
    Cancel,
    CancelReplace,
    Command,
    CorrectTrade,
    EndOfDay,
    Halt,
    KillSwitch,
    MassCancel,
    NewOrder,
    Resume,
    SetPhase,
)
from nyquestro.domain.enums import OrdType, PegType, Side, SmpPolicy, TimeInForce, TradingPhase
from nyquestro.domain.ids import (
    Account,
    ClOrdId,
    Px,
    Qty,
    Seq,
    SessionKey,
    SmpId,
    Symbol,
    TradeId,
    Ts,
)

SYMBOLS = (Symbol("AAPL"), Symbol("ESZ6"))
SESSIONS = (SessionKey("S1"), SessionKey("S2"), SessionKey("S3"))
MID = {Symbol("AAPL"): 10_000, Symbol("ESZ6"): 20_000}


def random_flow(seed: int, length: int) -> list[Command]:
    rng = random.Random(seed)
    commands: list[Command] = []
    sent: list[tuple[SessionKey, ClOrdId]] = []
    for i in range(1, length + 1):
        seq, ts = Seq(i), Ts(1_000_000 * i)
        session = rng.choice(SESSIONS)
        cl = ClOrdId(f"c{i}")
        roll = rng.random()
        if roll < 0.55 or not sent:
            commands.append(_new_order(rng, seq, ts, session, cl))
            sent.append((session, cl))
        elif roll < 0.75:
            owner, orig = rng.choice(sent)
            commands.append(
                Cancel(seq=seq, ts=ts, session=owner, cl_ord_id=cl, orig_cl_ord_id=orig)
            )
        elif roll < 0.93:
            owner, orig = rng.choice(sent)
            commands.append(
                CancelReplace(
                    seq=seq, ts=ts, session=owner, cl_ord_id=cl, orig_cl_ord_id=orig,
                    qty=Qty(rng.randint(1, 40)),
                    px=Px(MID[rng.choice(SYMBOLS)] + rng.randint(-6, 6)),
                )
            )  # fmt: skip
            sent.append((owner, cl))
        elif roll < 0.96:
            symbol = rng.choice(SYMBOLS)
            commands.append(
                Halt(seq=seq, ts=ts, symbol=symbol)
                if rng.random() < 0.5
                else Resume(seq=seq, ts=ts, symbol=symbol)
            )
        elif roll < 0.975:
            commands.append(
                MassCancel(
                    seq=seq, ts=ts, session=session, cl_ord_id=cl, symbol=rng.choice(SYMBOLS)
                )
            )
        elif roll < 0.982:
            # Trade ids come from a count of trades the flow cannot see: some name trades
            # that exist, others are refused (never made, or already busted).
            trade = TradeId(rng.randint(1, i // 3 + 1))
            commands.append(
                BustTrade(seq=seq, ts=ts, trade_id=trade, reason="flow")
                if rng.random() < 0.5
                else CorrectTrade(seq=seq, ts=ts, trade_id=trade, qty=Qty(rng.randint(1, 20)),
                                  px=Px(MID[rng.choice(SYMBOLS)] + rng.randint(-4, 4)))
            )  # fmt: skip
        elif roll < 0.986:
            # Calls and their uncross often, a close rarely (it refuses new orders).
            phase = rng.choice((TradingPhase.OPENING_AUCTION, TradingPhase.CONTINUOUS,
                                TradingPhase.CONTINUOUS, TradingPhase.CLOSING_AUCTION,
                                TradingPhase.PRE_OPEN, TradingPhase.POST_CLOSE))  # fmt: skip
            symbol = rng.choice((None, *SYMBOLS))
            commands.append(SetPhase(seq=seq, ts=ts, phase=phase, symbol=symbol))
        elif roll < 0.99:
            commands.append(
                KillSwitch(seq=seq, ts=ts, engage=rng.random() < 0.5,
                           account=Account(f"acct-{session}"), reason="flow")
            )  # fmt: skip
        else:
            commands.append(EndOfDay(seq=seq, ts=ts))
    return commands


def _new_order(rng: random.Random, seq: Seq, ts: Ts, session: SessionKey, cl: ClOrdId) -> NewOrder:
    symbol = rng.choice(SYMBOLS)
    side = rng.choice((Side.BUY, Side.SELL))
    qty = Qty(rng.randint(1, 60))
    kind = rng.random()
    peg = ord_type = None
    px: Px | None = Px(MID[symbol] + rng.randint(-8, 8))
    stop_px = None
    if kind < 0.1:
        peg, ord_type, px = rng.choice(list(PegType)), OrdType.PEGGED, None
    elif kind < 0.15:
        ord_type, px = OrdType.MARKET, None
    elif kind < 0.22:
        # Stops near the middle: some trigger at once, some wait for the flow's trades.
        ord_type = rng.choice((OrdType.STOP, OrdType.STOP_LIMIT))
        stop_px = Px(MID[symbol] + rng.randint(-6, 6))
        if ord_type is OrdType.STOP:
            px = None
    tif = rng.choice((TimeInForce.DAY, TimeInForce.DAY, TimeInForce.GTC, TimeInForce.IOC,
                      TimeInForce.FOK, TimeInForce.GTD))  # fmt: skip
    if ord_type is OrdType.MARKET:
        tif = TimeInForce.IOC
    # GTD orders expire a few to a few dozen commands later (ts is 1 ms a command).
    expire_ts = Ts(ts + rng.randint(1, 40) * 1_000_000) if tif is TimeInForce.GTD else None
    return NewOrder(
        seq=seq, ts=ts, session=session, account=Account(f"acct-{session}"), cl_ord_id=cl,
        symbol=symbol, side=side, qty=qty, ord_type=ord_type or OrdType.LIMIT, px=px,
        tif=tif, expire_ts=expire_ts,
        display_qty=Qty(rng.randint(1, qty)) if rng.random() < 0.2 else None,
        peg=peg,
        peg_offset=Px(rng.randint(-2, 2)) if peg is not None else Px(0),
        smp_id=SmpId(rng.choice(("desk-a", "desk-b"))) if rng.random() < 0.3 else None,
        smp_policy=rng.choice(list(SmpPolicy)) if rng.random() < 0.3 else None,
        stop_px=stop_px,
    )  # fmt: skip
