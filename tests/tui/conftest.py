"""nyquestro-tui against a real venue: `nyquestro serve` with its control plane (the
control-plane tests' server), FIX clients over TCP, and the app driven by Textual's Pilot."""

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from textual.pilot import Pilot

from tests.control.conftest import OPERATOR, ControlServer, server, venue
from tests.store.conftest import db_engine

__all__ = ["OPERATOR", "ControlServer", "db_engine", "drive", "server", "until", "venue"]


async def until(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Let the app run until `condition()` holds (the test fails after `timeout` s)."""
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"not within {timeout}s: {condition}")


def drive(scenario: Coroutine[Any, Any, None]) -> None:
    asyncio.run(scenario)
