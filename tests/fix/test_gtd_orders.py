"""GTD orders (TimeInForce 6) end to end, in FIX 4.2 and 4.4: ExpireTime (126) or
ExpireDate (432) in, ExpireTime on every report, and an ExecutionReport Expired when the
time comes, on a venue nobody else sends anything to."""

import time
from datetime import UTC, datetime, timedelta

from tests.fix.conftest import Venue

BUY = "1"
GTD = "6"
SYMBOL = "IBM"


def utc_in(seconds: float) -> str:
    moment = datetime.now(UTC) + timedelta(seconds=seconds)
    return f"{moment:%Y%m%d-%H:%M:%S}.{moment.microsecond // 1000:03d}"


def test_a_gtd_order_expires_at_its_expire_time_without_other_traffic(
    venue: Venue, version: str
) -> None:
    client = venue.client("CLIENT3", version)
    expire_time = utc_in(1.5)
    order = client.new_order(SYMBOL, BUY, 10, "150.00", tif=GTD, extra=[(126, expire_time)])
    ack = client.expect("8", {11: order})
    assert (ack[150], ack[39], ack[59], ack[126]) == ("0", "0", GTD, expire_time), ack
    sent = time.monotonic()
    expired = client.expect("8", {11: order, 150: "C"}, timeout=10)
    assert time.monotonic() - sent >= 1.0, "expired before its time"
    assert (expired[39], expired[151], expired[126]) == ("C", "0", expire_time), expired
    assert "ExpireTime" in expired[58], expired
    if version == "FIX.4.2":
        assert expired[20] == "0", expired


def test_an_expire_date_means_the_end_of_that_utc_day(venue: Venue, version: str) -> None:
    client = venue.client("CLIENT3", version)
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    order = client.new_order(
        SYMBOL, BUY, 10, "150.00", tif=GTD, extra=[(432, f"{tomorrow:%Y%m%d}")]
    )
    ack = client.expect("8", {11: order})
    assert ack[126] == f"{tomorrow:%Y%m%d}-23:59:59.999", ack
    client.cancel(order, SYMBOL, BUY)
    client.expect("8", {150: "4"})


def test_expire_times_that_do_not_fit_are_rejected_naming_the_field(
    venue: Venue, version: str
) -> None:
    client = venue.client("CLIENT3", version)
    cases = [
        ("without an expire time", GTD, []),
        ("on a DAY order", "0", [(126, utc_in(60))]),
        ("in the past", GTD, [(126, utc_in(-60))]),
    ]
    for what, tif, extra in cases:
        order = client.new_order(SYMBOL, BUY, 10, "150.00", tif=tif, extra=extra)
        rejected = client.expect("8", {11: order})
        assert (rejected[150], rejected[39]) == ("8", "8"), (what, rejected)
        assert "ExpireTime (126)" in rejected[58], (what, rejected)
        assert 103 in rejected, (what, rejected)
    # Not a UTCTimestamp at all: the session layer refuses the message (Reject, 35=3,
    # SessionRejectReason 6, incorrect data format), as for any malformed field.
    client.new_order(SYMBOL, BUY, 10, "150.00", tif=GTD, extra=[(126, "tomorrow")])
    refused = client.expect("3", {371: "126"})
    assert refused[373] == "6", refused
