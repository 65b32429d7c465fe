"""The TUI's flows: the blotter follows orders, filters them and opens an order's
history; an order is cancelled and a symbol halted, each after a confirmation; and the
app says when the venue went away and when it is back."""

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Label, Static

from nyquestro.control import control_pb2 as pb
from nyquestro.tui.app import Confirm, History, NyquestroApp
from tests.control.conftest import ControlServer
from tests.fix.conftest import Venue
from tests.tui.conftest import OPERATOR, drive, until

BUY, SELL = "1", "2"
SIZE = (180, 50)


def blotter_ids(app: NyquestroApp) -> list[str]:
    table = app.query_one("#blotter", DataTable)
    return [str(key.value) for key in table.rows]


def ack_id(client: object, cl_ord_id: str) -> str:
    return str(client.expect("8", {11: cl_ord_id}, timeout=5)[37])  # type: ignore[attr-defined]


async def select(pilot: Pilot[object], app: NyquestroApp, order_id: str) -> None:
    table = app.query_one("#blotter", DataTable)
    await until(pilot, lambda: order_id in blotter_ids(app))
    table.focus()
    table.move_cursor(row=table.get_row_index(order_id))
    await pilot.pause()


def test_the_blotter_follows_filters_and_opens_an_orders_history(
    server: ControlServer, venue: Venue
) -> None:
    client = venue.client("CLIENT1", "FIX.4.4")
    aapl = client.new_order("AAPL", BUY, 11, "188.00")
    aapl_id = ack_id(client, aapl)

    async def scenario() -> None:
        app = NyquestroApp(server.control_address, OPERATOR)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: aapl_id in blotter_ids(app))
            # Live: an order sent now shows up without asking.
            msft_id = ack_id(client, client.new_order("MSFT", SELL, 12, "425.00"))
            await until(pilot, lambda: msft_id in blotter_ids(app))
            await pilot.press("slash")
            assert app.focused is app.query_one("#filter", Input)
            await pilot.press(*"symbol=MSFT", "enter")
            await until(pilot, lambda: aapl_id not in blotter_ids(app))
            assert msft_id in blotter_ids(app)
            await pilot.press("enter")  # the row under the cursor: its history
            await until(pilot, lambda: isinstance(app.screen, History))
            history = app.screen.query_one("#history", DataTable)
            await until(pilot, lambda: history.row_count >= 1)
            assert history.get_row_at(0)[2] == "accepted"
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, History))

    drive(scenario())


def test_cancel_and_halt_ask_first_and_then_act(server: ControlServer, venue: Venue) -> None:
    client = venue.client("CLIENT2", "FIX.4.2")
    order_id = ack_id(client, client.new_order("IBM", BUY, 13, "178.00"))

    async def scenario() -> None:
        app = NyquestroApp(server.control_address, OPERATOR)
        async with app.run_test(size=SIZE) as pilot:
            await select(pilot, app, order_id)
            await pilot.press("c")
            await until(pilot, lambda: isinstance(app.screen, Confirm))
            await pilot.press("n")  # changed my mind: nothing happens
            await until(pilot, lambda: not isinstance(app.screen, Confirm))
            await pilot.pause(0.5)
            assert app.blotter is not None
            assert app.blotter.orders[int(order_id)]["status"] == "new"
            await pilot.press("c")
            await until(pilot, lambda: isinstance(app.screen, Confirm))
            await pilot.press("y")
            await until(pilot, lambda: app.blotter.orders[int(order_id)]["status"] == "canceled")
            client.expect("8", {37: order_id, 150: "4"})

            await select(pilot, app, order_id)
            await pilot.press("h")
            await until(pilot, lambda: isinstance(app.screen, Confirm))
            await pilot.press("y")
            with server.client() as ops:

                def ibm_halted() -> bool:
                    listed = ops.stub.ListInstruments(pb.ListInstrumentsRequest(), **ops.call())
                    return next(i for i in listed.instruments if i.symbol == "IBM").state == (
                        pb.Instrument.HALTED
                    )

                await until(pilot, ibm_halted)
                await until(pilot, lambda: app._halted.get("IBM") is True)
                await pilot.press("h")  # now it resumes
                await until(pilot, lambda: isinstance(app.screen, Confirm))
                await pilot.press("y")
                await until(pilot, lambda: not ibm_halted())

    drive(scenario())


def test_the_app_says_when_the_venue_is_gone_and_when_it_is_back(tmp_path: Path) -> None:
    server = ControlServer(tmp_path)
    server.start()
    try:
        venue = Venue(server)
        client = venue.client("CLIENT3", "FIX.4.4")
        first = ack_id(client, client.new_order("AAPL", BUY, 5, "187.00"))

        async def scenario() -> None:
            app = NyquestroApp(server.control_address, OPERATOR)
            async with app.run_test(size=SIZE) as pilot:
                banner = app.query_one("#banner", Static)
                await until(pilot, lambda: first in blotter_ids(app))
                assert not banner.has_class("shown")
                client.close()
                server.kill()
                await until(pilot, lambda: banner.has_class("shown")
                            and "not answering" in str(banner.render()))  # fmt: skip
                server.start(fresh=False)
                await until(pilot, lambda: "reconnected" in str(banner.render()), timeout=30)
                again = Venue(server).client("CLIENT3", "FIX.4.4")
                second = ack_id(again, again.new_order("AAPL", BUY, 6, "187.00"))
                await until(pilot, lambda: second in blotter_ids(app))
                assert first in blotter_ids(app)

        drive(scenario())
    finally:
        server.stop()


def test_the_depth_title_says_a_phase_other_than_continuous(server: ControlServer) -> None:
    async def scenario() -> None:
        app = NyquestroApp(server.control_address, OPERATOR)
        async with app.run_test(size=SIZE) as pilot:
            title = app.query_one("#depth-title", Label)
            with server.client() as ops:
                try:
                    ops.stub.SetPhase(pb.SetPhaseRequest(phase="opening_auction"), **ops.call())
                    await until(pilot, lambda: "OPENING AUCTION" in str(title.render()))
                finally:
                    ops.stub.SetPhase(pb.SetPhaseRequest(phase="continuous"), **ops.call())
                await until(pilot, lambda: "AUCTION" not in str(title.render()))

    drive(scenario())
