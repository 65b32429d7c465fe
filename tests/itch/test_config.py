"""The [itch] table: defaults, every field, and errors naming field, value and expectation."""

from decimal import Decimal

import pytest

from nyquestro.config.instruments import ConfigError
from nyquestro.config.itch import ItchConfig, itch_from
from nyquestro.config.venue import default_venue, parse_venue
from nyquestro.domain.instrument import Instrument
from nyquestro.gateways.itch.feed import ItchFeed
from nyquestro.gateways.itch.framing import session_field
from nyquestro.gateways.itch.gateway import session_name


def test_no_table_no_feed_and_an_empty_one_takes_the_defaults() -> None:
    assert itch_from(None) is None
    assert itch_from({}) == ItchConfig()


def test_every_field() -> None:
    config = itch_from({
        "destinations": ["127.0.0.1:31001", "10.0.0.2:31002"],
        "snapshot_destinations": ["127.0.0.1:31003"], "request_port": 31004,
        "request_host": "0.0.0.0", "retain": 5000, "heartbeat_seconds": 0.5,
        "snapshot_seconds": 2, "snapshot_levels": 10, "session": "TEST", "max_payload": 9000,
        "attribution": True, "mpids": {"CLIENT1": "CL1"},
    })  # fmt: skip
    assert config == ItchConfig(
        destinations=(("127.0.0.1", 31001), ("10.0.0.2", 31002)),
        snapshot_destinations=(("127.0.0.1", 31003),), request_port=31004,
        request_host="0.0.0.0", retain=5000, heartbeat_seconds=0.5, snapshot_seconds=2.0,
        snapshot_levels=10, session="TEST", max_payload=9000, attribution=True,
        mpids=(("CLIENT1", "CL1"),),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ({"destinations": "127.0.0.1:1"}, "itch.destinations"),
        ({"destinations": ["127.0.0.1"]}, "itch.destinations.0"),
        ({"destinations": ["localhost:1"]}, "itch.destinations.0"),
        ({"snapshot_destinations": ["127.0.0.1:70000"]}, "itch.snapshot_destinations.0"),
        ({"request_port": True}, "itch.request_port"),
        ({"retain": 0}, "itch.retain"),
        ({"heartbeat_seconds": 0}, "itch.heartbeat_seconds"),
        ({"snapshot_levels": 256}, "itch.snapshot_levels"),
        ({"session": "TOOLONG"}, "itch.session"),
        ({"max_payload": 10}, "itch.max_payload"),
        ({"attribution": "yes"}, "itch.attribution"),
        ({"mpids": {"CLIENT1": "TOOLONG"}}, "itch.mpids.CLIENT1"),
        ({"colour": "red"}, "itch.colour"),
    ],
)
def test_errors_name_the_field(table: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        itch_from(table)
    assert caught.value.field == field


def test_the_venue_reads_its_itch_table() -> None:
    base = default_venue()
    assert base.itch is None
    text = (
        '[fix]\nsessions = [{ begin_string = "FIX.4.4", target_comp_id = "C1" }]\n'
        '[instruments.AAPL]\ntick_size = "0.01"\n'
        '[itch]\ndestinations = ["127.0.0.1:31001"]\n'
    )
    assert parse_venue(text, "t").itch == ItchConfig(destinations=(("127.0.0.1", 31001),))
    overridden = parse_venue(text, "t", {"NYQUESTRO_ITCH__RETAIN": "7"}).itch
    assert overridden is not None and overridden.retain == 7


def test_ticks_finer_than_price4_and_long_symbols_are_refused() -> None:
    for inst, field in (
        (Instrument(symbol="FINE", tick_size=Decimal("0.00001")),
         "instruments.FINE.tick_size"),
        (Instrument(symbol="LONGSYMBOL", tick_size=Decimal("0.01")),
         "instruments.LONGSYMBOL"),
    ):  # fmt: skip
        with pytest.raises(ConfigError) as caught:
            ItchFeed([inst], lambda _k, _m: None, session=session_field("T"))
        assert caught.value.field == field


def test_session_names_fill_ten_characters_and_say_where_numbering_started() -> None:
    assert session_name("NYQ", 0) == "NYQ0000000"
    assert session_name("NYQ", 100_000) == "NYQ000255S"
    assert session_name("ABCD", 35) == "ABCD00000Z"
