"""GTD orders (FIX TimeInForce 6): they rest until their expire time, then expire at the
first command at or after it (the runtime sends ExpireDue when nothing else comes)."""

import pickle

from nyquestro.domain.commands import ExpireDue
from nyquestro.domain.enums import OrdType, TimeInForce
from nyquestro.domain.events import (
    Accepted,
    Cancelled,
    EventBase,
    Expired,
    LevelRemoved,
    Rejected,
)
from nyquestro.domain.ids import Seq, Symbol, Ts
from nyquestro.domain.reasons import ExpireReason, RejectReason
from nyquestro.engine import Engine
from tests.engine.conftest import S2, SYM, Harness, kinds, of, one, ts_of

GTD = TimeInForce.GTD


def expire_due(h: Harness) -> list[EventBase]:
    seq, ts = h.stamp()
    return h.send(ExpireDue(seq=seq, ts=ts))


def test_a_gtd_order_rests_until_its_expire_time_and_then_expires() -> None:
    h = Harness()
    # The harness stamps command n at ts_of(n): this order expires as command 4 arrives.
    accepted = one(h.buy(10, 99, cl="gtd", tif=GTD, expire_ts=ts_of(4)), Accepted)
    assert (accepted.tif, accepted.expire_ts) == (GTD, ts_of(4))
    assert h.engine.next_expiry() == ts_of(4)
    h.buy(5, 98, cl="other")
    assert h.bids() == [(99, 10, 1), (98, 5, 1)]
    assert kinds(expire_due(h)) == []  # command 3: not yet
    events = expire_due(h)  # command 4: due
    expired = one(events, Expired)
    assert (expired.cl_ord_id, expired.reason, expired.expired_qty) == (
        "gtd", ExpireReason.EXPIRE_TIME, 10,
    )  # fmt: skip
    assert of(events, LevelRemoved)
    assert h.bids() == [(98, 5, 1)]
    assert h.engine.next_expiry() is None


def test_an_order_due_expires_before_the_command_that_would_have_traded_with_it() -> None:
    h = Harness()
    h.buy(10, 99, cl="gtd", tif=GTD, expire_ts=ts_of(2))
    events = h.sell(10, 99, session=S2, cl="late")  # command 2, at the expire time
    assert kinds(events)[:2] == ["Expired", "LevelRemoved"]
    assert one(events, Accepted).cl_ord_id == "late"
    assert h.asks() == [(99, 10, 1)]


def test_due_orders_expire_earliest_first_and_gone_orders_are_skipped() -> None:
    h = Harness()
    h.buy(1, 97, cl="late", tif=GTD, expire_ts=ts_of(5) - 1)
    h.buy(1, 98, cl="early", tif=GTD, expire_ts=ts_of(5) - 2)
    h.buy(1, 96, cl="gone", tif=GTD, expire_ts=ts_of(5) - 3)
    assert one(h.cancel("gone"), Cancelled).cl_ord_id != "gone"  # command 4, before it is due
    events = expire_due(h)  # its heap entry is skipped
    assert [e.cl_ord_id for e in of(events, Expired)] == ["early", "late"]


def test_a_gtd_stop_expires_while_it_waits_and_end_of_day_keeps_gtd_orders() -> None:
    h = Harness()
    h.buy(1, 99, cl="gtd", tif=GTD, expire_ts=ts_of(100))
    h.buy(5, cl="stop", ord_type=OrdType.STOP, stop_px=105, tif=GTD, expire_ts=ts_of(4))
    assert not of(h.end_of_day(), Expired)  # command 3
    events = expire_due(h)
    assert [e.cl_ord_id for e in of(events, Expired)] == ["stop"]
    assert not of(events, LevelRemoved)  # a waiting stop was never in the book
    assert h.engine.stop_orders(Symbol(SYM)) == []
    assert h.is_live("gtd")


def test_expire_times_are_refused_where_they_do_not_belong() -> None:
    h = Harness()
    cases = [
        ({"tif": GTD}, RejectReason.EXPIRE_TIME_REQUIRED),
        ({"tif": TimeInForce.DAY, "expire_ts": ts_of(9)}, RejectReason.EXPIRE_TIME_NOT_ALLOWED),
        ({"tif": GTD, "expire_ts": ts_of(3)}, RejectReason.EXPIRE_TIME_PASSED),
    ]
    for opts, reason in cases:
        rejected = one(h.buy(1, 99, **opts), Rejected)  # type: ignore[arg-type]
        assert rejected.reason is reason, opts
        assert "expire_ts" in rejected.text


def test_a_restored_engine_expires_the_same_orders_at_the_same_point() -> None:
    h = Harness()
    h.buy(1, 99, cl="a", tif=GTD, expire_ts=ts_of(3))
    h.buy(1, 98, cl="b", tif=GTD, expire_ts=ts_of(4))
    restored = Engine.restored(pickle.loads(pickle.dumps(h.engine.export_state())))
    assert restored.next_expiry() == ts_of(3)
    assert restored.state_hash() == h.engine.state_hash()
    for n in (3, 4):
        command = ExpireDue(seq=Seq(n), ts=Ts(ts_of(n)))
        assert restored.process(command) == h.send(command)
    assert restored.state_hash() == h.engine.state_hash()
