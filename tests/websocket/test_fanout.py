"""The fan-out writes at once while a connection takes messages, and keeps their order
through a backlog while it does not; a full backlog drops the client."""

from nyquestro.codec.prices import DecimalPrices
from nyquestro.config.instruments import default_instruments
from nyquestro.gateways.websocket.bridge import Fanout


def test_a_connection_behind_gets_a_backlog_in_order_and_is_dropped_when_it_is_full() -> None:
    fanout = Fanout(DecimalPrices({i.symbol: i for i in default_instruments()}), 3)
    written: list[bytes] = []
    takes = [True, True, False, True, True]  # the connection's answers, call by call
    closed: list[str] = []

    def write(data: bytes) -> bool:
        accepted = takes.pop(0) if takes else False
        if accepted:
            written.append(data)
        return accepted

    client = fanout.connect(closed.append, write)
    for n in range(1, 4):
        fanout.offer(client, f"m{n}")
    assert written == [b"m1", b"m2"] and list(client.backlog) == [b"m3"]
    assert client.waiting.is_set()
    # The connection would take m4 now, but m3 is still waiting: m4 goes behind it.
    fanout.offer(client, "m4")
    fanout.offer(client, "m5")
    assert written == [b"m1", b"m2"] and list(client.backlog) == [b"m3", b"m4", b"m5"]
    assert not client.dropped and not closed
    fanout.offer(client, "m6")  # a fourth waiting message: more than the limit of 3
    assert client.dropped and closed == ["slow client: 3 messages waiting"]
    assert client.id not in fanout.clients
    fanout.offer(client, "m7")  # a dropped client gets nothing more
    assert list(client.backlog) == [b"m3", b"m4", b"m5"]
