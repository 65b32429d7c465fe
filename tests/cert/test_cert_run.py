"""`nyquestro cert run` through its command line: the built-in packs pass against a venue
it starts, a failing pack says which step and tag, a pack restarts the venue in its
middle, and the session pack runs against a bare quickfix acceptor."""

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest

from nyquestro.cert.launch import free_port
from nyquestro.cert.pack import find_pack, load_pack

EXAMPLES = Path(__file__).parents[2] / "examples" / "cert"
RUN_TIMEOUT = 300


def cert(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nyquestro", "cert", "run", *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False,
    )  # fmt: skip


def junit(path: Path) -> ElementTree.Element:
    return ElementTree.parse(path).getroot()


@pytest.mark.parametrize("pack", ["session", "orders"])
def test_a_built_in_pack_passes_against_a_venue_the_run_starts(tmp_path: Path, pack: str) -> None:
    done = cert(tmp_path, pack, "--junit", "out/junit.xml", "--html", "out/report.html")
    assert done.returncode == 0, done.stdout + done.stderr
    suite = junit(tmp_path / "out" / "junit.xml")
    scenarios = len(load_pack(find_pack(pack)).scenarios)
    assert (suite.get("tests"), suite.get("failures")) == (str(scenarios), "0")
    assert suite.find("testcase/failure") is None
    assert "PASSED" in (tmp_path / "out" / "report.html").read_text()
    assert f"{scenarios}/{scenarios} scenarios" in done.stdout


FAILING = """
name = "Wrong expectation"
[clients.me]
sender = "CLIENT1"
target = "NYQUESTRO"
fix = "FIX.4.4"
[[scenario]]
name = "an order expected to be replaced"
[[scenario.step]]
logon = true
[[scenario.step]]
send = "D"
fields = [[11, "w-${run}"], [21, 1], [55, "AAPL"], [54, 1], [38, 10], [40, 2], [44, "180.00"],
          [60, "${now}"]]
[[scenario.step]]
name = "the acknowledgement says Replaced"
expect = "8"
fields = { 150 = "5", 11 = "w-${run}" }
[[scenario.step]]
logout = true
[[scenario]]
name = "a scenario after the failure still runs"
[[scenario.step]]
logon = true
"""


def test_a_failing_pack_names_the_step_and_the_tag(tmp_path: Path) -> None:
    (tmp_path / "wrong.toml").write_text(FAILING)
    done = cert(tmp_path, "wrong.toml", "--junit", "junit.xml", "--html", "report.html")
    assert done.returncode == 1, done.stdout + done.stderr
    problem = "tag 150 (ExecType) is '0', expected '5'"
    assert "FAIL the acknowledgement says Replaced" in done.stdout
    assert problem in done.stdout
    assert "SKIP log out" in done.stdout
    assert "1/2 scenarios" in done.stdout
    failure = junit(tmp_path / "junit.xml").find("testcase/failure")
    assert failure is not None
    assert failure.get("message") == f"the acknowledgement says Replaced: me: {problem}"
    report = (tmp_path / "report.html").read_text()
    assert (
        "FAILED" in report and "Messages during <b>the acknowledgement says Replaced</b>" in report
    )
    exchange = report.split("Messages during", 1)[1]
    assert "|35=8|" in exchange and "|150=0|" in exchange


def test_a_pack_that_is_wrong_is_refused_naming_the_key(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text(
        FAILING.replace('expect = "8"', 'expect = "8"\ncolour = 1')
    )
    done = cert(tmp_path, "broken.toml")
    assert done.returncode == 2
    assert (
        "scenario 'an order expected to be replaced' step 3: unknown key(s) colour" in done.stderr
    )


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.toml")))
def test_the_examples_pass_including_a_venue_restart_in_the_middle(
    tmp_path: Path, example: str
) -> None:
    done = cert(tmp_path, str(EXAMPLES / example))
    assert done.returncode == 0, done.stdout + done.stderr
    if example == "restart.toml":
        assert "venue killed (SIGKILL) and started again on the same store" in done.stdout


@pytest.fixture(scope="module")
def bare_acceptor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    directory = tmp_path_factory.mktemp("bare")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.cert.quickfix_peer", "acceptor", str(port), str(directory)],
        cwd=Path(__file__).parents[2],
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, "no bare acceptor"
            time.sleep(0.1)
    yield port
    proc.terminate()
    proc.wait(10)


def test_the_session_pack_passes_against_a_bare_quickfix_acceptor(
    tmp_path: Path, bare_acceptor: int
) -> None:
    done = cert(tmp_path, "session", "--target", f"127.0.0.1:{bare_acceptor}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"against 127.0.0.1:{bare_acceptor}" in done.stdout


def test_a_venue_step_without_a_control_plane_says_what_is_missing(
    tmp_path: Path, bare_acceptor: int
) -> None:
    (tmp_path / "halt.toml").write_text(
        FAILING.split("[[scenario]]", maxsplit=1)[0]
        + '[[scenario]]\nname = "halt"\n[[scenario.step]]\nvenue = "halt"\n'
        + 'args = { symbol = "AAPL" }\n'
    )
    done = cert(tmp_path, "halt.toml", "--target", f"127.0.0.1:{bare_acceptor}")
    assert done.returncode == 1
    assert '`venue = "halt"` needs the venue\'s control plane' in done.stdout


def test_cert_serve_plays_the_venue_for_a_real_engine(tmp_path: Path) -> None:
    """The built-in `engine` pack against quickfix as the engine under test: it asks for a
    resend after skipped numbers, ignores a PossDup, logs out on a MsgSeqNum too low."""
    port = free_port()
    serve = subprocess.Popen(
        [sys.executable, "-m", "nyquestro", "cert", "serve", "engine", "--port", str(port),
         "--junit", "junit.xml", "--html", "report.html"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    # Not a probe connection: cert serve would take it for the engine's first.
    assert serve.stdout is not None
    first = serve.stdout.readline()
    assert f"point the engine under test at 127.0.0.1:{port}" in first, first
    engine = subprocess.Popen(
        [sys.executable, "-m", "tests.cert.quickfix_peer", "initiator", str(port), str(tmp_path)],
        cwd=Path(__file__).parents[2],
    )
    try:
        rest, _ = serve.communicate(timeout=RUN_TIMEOUT)
        output = first + rest
    finally:
        engine.terminate()
        engine.wait(10)
    assert serve.returncode == 0, output
    assert "5/5 scenarios" in output
    assert "ResendRequest (35=2) from the first missing number" in output
    suite = junit(tmp_path / "junit.xml")
    assert (suite.get("tests"), suite.get("failures")) == ("5", "0")
