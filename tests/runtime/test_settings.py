"""What a config reload applies live and what it reports as waiting for a restart."""

from decimal import Decimal

from nyquestro.config.venue import parse_venue
from nyquestro.domain.ids import SessionKey
from nyquestro.domain.risk import OrderLimits, RiskCheck, SessionRisk
from nyquestro.engine import Engine
from nyquestro.runtime.settings import not_live, settings_of, throttle_changes

BASE = """
[fix]
port = 9878
sessions = [{ begin_string = "FIX.4.4", target_comp_id = "C1" },
            { begin_string = "FIX.4.2", target_comp_id = "C2" }]

[instruments.AAPL]
tick_size = "0.01"
max_qty = 100

[risk.sessions.C1]
max_qty = 10
off = ["price_band"]
"""


def test_settings_key_session_risk_by_session_and_keep_what_cannot_change_live() -> None:
    running = parse_venue(BASE, "a.toml")
    engine = Engine(running.instruments)
    settings = settings_of(running, engine.settings)
    assert settings.sessions == {
        SessionKey("FIX.4.4:NYQUESTRO->C1"): SessionRisk(
            session=SessionKey("FIX.4.4:NYQUESTRO->C1"), limits=OrderLimits(max_qty=10),
            off=frozenset({RiskCheck.PRICE_BAND}),
        ),
    }  # fmt: skip
    finer = BASE.replace('tick_size = "0.01"\nmax_qty = 100', 'tick_size = "0.001"\nmax_qty = 5')
    kept = settings_of(parse_venue(finer, "b.toml"), engine.settings).instruments["AAPL"]
    assert (kept.tick_size, kept.max_qty) == (Decimal("0.01"), 100)


def test_not_live_lists_every_restart_only_change_and_throttles_change_live() -> None:
    running = parse_venue(BASE, "a.toml")
    new = parse_venue(
        BASE.replace("port = 9878", "port = 9999\norders_per_second = 5")
        .replace('"C2" }', '"C2", throttle_mode = "queue" }, { begin_string = "FIX.4.4", '
                 'target_comp_id = "C3" }')
        .replace('tick_size = "0.01"', 'tick_size = "0.05"')
        + '\n[instruments.MSFT]\ntick_size = "0.01"\n',
        "b.toml",
    )  # fmt: skip
    assert not_live(running, new) == [
        "fix.port: 9878 -> 9999",
        "fix.sessions: FIX.4.4/C3 added",
        "fix.sessions FIX.4.2/C2 throttle_mode: reject -> queue",
        "instruments.MSFT: added",
        "instruments.AAPL.tick_size: 0.01 -> 0.05",
    ]
    (changed,) = throttle_changes(running, new)  # C2 changes mode: not live
    assert (changed.target_comp_id, changed.orders_per_second) == ("C1", 5)
    assert not_live(running, running) == [] and throttle_changes(running, running) == []
