"""The synthetic flow: the model alone against a stand-in venue, and `nyquestro flow`
against real venues (the same seed twice gives the same requests)."""

import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

from nyquestro.cert.launch import StartedVenue
from nyquestro.codec.fix_wire import Splitter, encode
from nyquestro.flowgen.model import FlowModel, Instrument

NOW = "20261207-12:00:00.000"
AAPL = Instrument("AAPL", Decimal("190.00"))


def acked(cl_ord_id: str, status: str, exec_type: str, orig: str | None = None) -> object:
    fields = [(35, "8"), (11, cl_ord_id), (150, exec_type), (39, status), (151, "100")]
    if orig is not None:
        fields.append((41, orig))
    (msg,) = Splitter().feed(encode("FIX.4.4", fields))
    return msg


def run_against_a_stand_in(seed: int, requests: int) -> list[tuple[str, tuple[object, ...]]]:
    """A venue that accepts every new order and replace and carries out every cancel,
    filling nothing: the model may only cancel or replace what it holds as live."""
    model = FlowModel(seed, [AAPL], ["A", "B"], accounts=5, id_prefix="X")
    live: set[str] = set()
    sent = []
    for _ in range(requests):
        session, request, kind = model.next_request(NOW)
        fields = dict(request.fields)
        sent.append((session, tuple(request.fields)))
        if request.msg_type in ("F", "G"):
            assert fields[41] in live, f"{kind} of {fields[41]}, which is not live"
            live.discard(fields[41])
        if request.msg_type == "F":
            model.observe(session, acked(fields[11], "4", "4", fields[41]))  # type: ignore[arg-type]
        elif fields.get(59) == "3":  # IOC: nothing to take here, cancelled at once
            model.observe(session, acked(fields[11], "4", "4"))  # type: ignore[arg-type]
        else:
            exec_type = "5" if request.msg_type == "G" else "0"
            model.observe(session, acked(fields[11], "0", exec_type, fields.get(41)))  # type: ignore[arg-type]
            live.add(fields[11])
    return sent


def test_a_seed_names_one_sequence_and_cancels_name_only_live_orders() -> None:
    first = run_against_a_stand_in(7, 2000)
    assert first == run_against_a_stand_in(7, 2000)
    assert first != run_against_a_stand_in(8, 2000)
    types = Counter(
        "marketable" if dict(fields).get(59) == "3" else "other" for _s, fields in first
    )
    assert types["marketable"] > 100  # about 15% of 2000
    accounts = {dict(fields).get(1) for _s, fields in first} - {None}
    assert len(accounts) == 5


def flow(port: int, log: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nyquestro", "flow", "--target", f"127.0.0.1:{port}",
         "--session", "CLIENT1", "--session", "CLIENT2", "--symbol", "AAPL=190.00",
         "--symbol", "IBM=150.00", "--count", "300", "--seed", "11", "--accounts", "8",
         "--id-prefix", "T", "--exact", "--log", str(log)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


def test_the_same_seed_sends_the_same_requests_to_two_fresh_venues(tmp_path: Path) -> None:
    outputs = []
    for run in range(2):
        with StartedVenue(directory=tmp_path / f"venue{run}") as venue:
            done = flow(venue.fix_address()[1], tmp_path / f"requests{run}.jsonl")
        assert done.returncode == 0, done.stdout + done.stderr
        outputs.append(done.stdout)
    first, second = ((tmp_path / f"requests{run}.jsonl").read_text() for run in range(2))
    assert first == second and len(first.splitlines()) == 300
    for output in outputs:
        assert "answer: acknowledged" in output and "answer: filled" in output
        assert "cancel rejected" not in output  # the model knew what was live
        assert "cancelled the" in output
