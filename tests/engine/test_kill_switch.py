"""Kill switch: engaging cancels every open order in scope and refuses new orders and
replaces there until released; cancels still work; other scopes are untouched."""

import pickle

from nyquestro.domain.commands import KillSwitch
from nyquestro.domain.events import Accepted, Cancelled, CancelRejected, KillSwitchSet, Rejected
from nyquestro.domain.ids import Account, SessionKey
from nyquestro.domain.reasons import CancelReason, RejectReason
from nyquestro.engine import Engine
from tests.engine.conftest import A1, A2, S1, S2, Harness, of, one


def switch(
    h: Harness, engage: bool, account: Account | None = None, session: SessionKey | None = None
) -> KillSwitchSet:
    seq, ts = h.stamp()
    command = KillSwitch(seq=seq, ts=ts, engage=engage, account=account, session=session,
                         reason="desk over limit", request_id=seq)  # fmt: skip
    return one(h.send(command), KillSwitchSet)


def test_an_account_switch_cancels_its_orders_and_refuses_new_ones_until_released() -> None:
    h = Harness()
    h.buy(10, 100, cl="a")
    h.sell(5, 200, cl="b")
    h.buy(7, 99, cl="other", session=S2, account=A2)
    seq, ts = h.stamp()
    events = h.send(KillSwitch(seq=seq, ts=ts, engage=True, account=A1, reason="desk over limit"))
    cancelled = of(events, Cancelled)
    assert sorted(c.cl_ord_id for c in cancelled) == ["a", "b"]
    assert all(c.reason is CancelReason.KILL_SWITCH for c in cancelled)
    assert one(events, KillSwitchSet).cancelled == 2
    rejected = one(h.buy(1, 100), Rejected)
    assert rejected.reason is RejectReason.KILL_SWITCH
    assert rejected.text == "kill switch engaged for account ACC1: desk over limit"
    one(h.buy(1, 100, session=S2, account=A2), Accepted)  # another account trades on
    assert h.engine.kill_switches() == {("account", "ACC1"): "desk over limit"}
    switch(h, False, account=A1)
    one(h.buy(1, 100), Accepted)
    assert h.engine.kill_switches() == {}


def test_session_and_venue_switches() -> None:
    h = Harness()
    h.buy(10, 100, cl="keep", session=S2, account=A2)
    switch(h, True, session=S1)
    assert one(h.buy(1, 100), Rejected).reason is RejectReason.KILL_SWITCH
    one(h.buy(1, 100, session=S2, account=A2), Accepted)
    assert switch(h, True).cancelled == 2  # the venue: everything left
    assert one(h.buy(1, 100, session=S2, account=A2), Rejected).text == (
        "kill switch engaged for the venue: desk over limit"
    )
    switch(h, False)
    switch(h, False, session=S1)
    one(h.buy(1, 100), Accepted)


def test_orders_it_cancelled_are_done_and_switches_survive_a_snapshot() -> None:
    h = Harness()
    h.buy(10, 100, cl="a")
    switch(h, True, account=A1)
    late = one(h.replace("a", 5, 100, cl="b"), CancelRejected)
    assert late.reason is RejectReason.TOO_LATE
    state = pickle.loads(pickle.dumps(h.engine.export_state()))
    copy = Engine.restored(state)
    assert copy.kill_switches() == h.engine.kill_switches()
    assert copy.state_hash() == h.engine.state_hash()
