"""Position limits: worst case (position plus open orders plus the new order) against
each account's max_long/max_short, per symbol; limits come by journaled command
(Configure)."""

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from nyquestro.config.instruments import default_instruments
from nyquestro.domain.commands import BustTrade, CorrectTrade
from nyquestro.domain.events import Accepted, CancelRejected, Configured, Rejected, Replaced
from nyquestro.domain.ids import Account, Qty
from nyquestro.domain.reasons import RejectReason
from nyquestro.domain.risk import AccountRisk
from tests.engine.conftest import A1, A2, S2, SYM, Harness, one
from tests.runtime.flows import SESSIONS, random_flow


def limit(h: Harness, limits: dict[Account, tuple[int | None, int | None]]) -> None:
    """Exactly these accounts' (max_long, max_short) in force."""
    one(h.configure(
        AccountRisk(account=account, max_long=None if long_ is None else Qty(long_),
                    max_short=None if short is None else Qty(short))
        for account, (long_, short) in limits.items()
    ), Configured)  # fmt: skip


def test_open_buys_count_against_max_long_and_fills_become_position() -> None:
    h = Harness()
    limit(h, {A1: (100, 50)})
    one(h.buy(60, 100), Accepted)
    one(h.buy(40, 99), Accepted)  # 60 + 40 open = 100: at the limit
    rejected = one(h.buy(1, 98), Rejected)
    assert rejected.reason is RejectReason.POSITION_LIMIT
    assert rejected.text == (
        "buy 1 XYZ could take account ACC1 long 101 (position 0, open buys 100): "
        "above its max_long 100"
    )
    h.sell(60, 100, session=S2, account=A2)  # fills the 60: position 60, open 40
    assert h.engine.exposure(A1, SYM) == (60, 40, 0)
    one(h.buy(1, 98), Rejected)
    # Selling is bounded by max_short from the current position: 60 long, so up to 110.
    one(h.sell(110, 200), Accepted)
    assert one(h.sell(1, 200), Rejected).reason is RejectReason.POSITION_LIMIT


def test_cancels_release_and_replaces_are_checked_for_the_increase() -> None:
    h = Harness()
    limit(h, {A1: (10, None)})
    h.buy(10, 100, cl="a")
    assert one(h.replace("a", 11, 100, cl="b"), CancelRejected).reason is (
        RejectReason.POSITION_LIMIT
    )
    one(h.replace("a", 5, 100, cl="c"), Replaced)
    one(h.buy(5, 100), Accepted)
    h.cancel("c")
    assert h.engine.exposure(A1, SYM) == (0, 5, 0)
    one(h.buy(5, 100), Accepted)


def test_limits_apply_per_account_and_can_be_lifted() -> None:
    h = Harness()
    limit(h, {A1: (1, 1)})
    one(h.buy(5, 100, session=S2, account=A2), Accepted)  # another account: no limits
    one(h.buy(2, 100), Rejected)
    limit(h, {})
    assert h.engine.settings.accounts == {}
    one(h.buy(2, 100), Accepted)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), max_long=st.integers(1, 80), max_short=st.integers(1, 80))
def test_random_flows_never_take_an_account_beyond_its_limits(
    seed: int, max_long: int, max_short: int
) -> None:
    h = Harness(default_instruments())
    accounts = [Account(f"acct-{s}") for s in SESSIONS]
    limit(h, dict.fromkeys(accounts, (max_long, max_short)))
    for command in random_flow(seed, 300):
        if isinstance(command, BustTrade | CorrectTrade):
            # Taken back after the fact, outside any pre-trade check: a venue cannot
            # refuse a bust because of the position it leaves.
            continue
        seq, ts = h.stamp()
        h.send(replace(command, seq=seq, ts=ts))
        for account in accounts:
            for symbol in h.engine.instruments:
                position, open_buy, open_sell = h.engine.exposure(account, symbol)
                assert position + open_buy <= max_long, (account, symbol)
                assert -position + open_sell <= max_short, (account, symbol)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_pnl_is_zero_sum_and_positions_net_out_in_every_symbol(seed: int) -> None:
    """Every trade has a buyer and a seller: positions sum to zero per symbol, and so
    does realised plus unrealised PnL at the last trade (the lots' books balance)."""
    h = Harness(default_instruments())
    accounts = [Account(f"acct-{s}") for s in SESSIONS]
    for command in random_flow(seed, 300):
        seq, ts = h.stamp()
        h.send(replace(command, seq=seq, ts=ts))
    for symbol in h.engine.instruments:
        assert sum(h.engine.exposure(account, symbol)[0] for account in accounts) == 0
        assert sum(sum(h.engine.pnl(account, symbol)) for account in accounts) == 0, symbol
