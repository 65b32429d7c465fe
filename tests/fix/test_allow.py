"""`[fix] allow` through real sockets: a venue that admits only 127.0.0.1, clients connecting
from other loopback addresses (127.0.0.0/8 all reach the loopback interface on Linux)."""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fix.client import FixClient, Msg
from tests.fix.conftest import VERSIONS, Server, check_against_dictionary

ALLOWED = "127.0.0.1"
ALLOW = f'allow = ["{ALLOWED}"]\n'
TEXT = 58


def reason(source: str) -> str:
    """The Logout's Text for a refused peer (quickfix puts its prefix before ours)."""
    return f"Rejected Logon Attempt: peer {source} is not in [fix] allow"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("allow"), fix_settings=ALLOW)
    srv.start()
    yield srv
    srv.stop()


def client(port: int, comp_id: str, version: str, source: str) -> FixClient:
    made = FixClient(port, comp_id, version, source=source)
    made.validate = check_against_dictionary
    made.connect()
    return made


def send_logon(c: FixClient) -> None:
    c.seq = 0
    c.send("A", [(98, 0), (108, c.heartbeat), (141, "Y")])


def refused(c: FixClient) -> Msg:
    """The venue's answer to our Logon, which must be a Logout; then it hangs up."""
    logout = c.expect("5")
    assert c.hung_up(), f"{c.sender} from {c.source}: connection left open after {logout}"
    return logout


@pytest.mark.parametrize("version", VERSIONS, ids=["42", "44"])
def test_a_peer_outside_allow_gets_a_logout_naming_it_and_an_allowed_one_logs_on(
    server: Server, version: str
) -> None:
    stranger = client(server.port, "CLIENT1", version, "127.0.0.2")
    friend = client(server.port, "CLIENT1", version, ALLOWED)
    try:
        send_logon(stranger)
        assert refused(stranger)[TEXT] == reason("127.0.0.2")
        friend.logon()
        friend.logout()
    finally:
        stranger.close()
        friend.close()


def test_simultaneous_logons_each_get_the_answer_for_their_own_peer(server: Server) -> None:
    comp_ids = [f"CLIENT{n}" for n in range(1, 6)]
    sessions = [(comp_id, version) for comp_id in comp_ids for version in VERSIONS]
    for round_ in range(4):
        # Every round admits a different half, each stranger from an address of its own.
        sources = [
            ALLOWED if (i + round_) % 2 else f"127.0.{round_ + 1}.{i + 2}"
            for i in range(len(sessions))
        ]
        pairs = zip(sessions, sources, strict=True)
        clients = [client(server.port, comp_id, v, source) for (comp_id, v), source in pairs]
        try:
            # Every connection is open before the first Logon, and the Logons go out back
            # to back: the venue sees them all pending at once.
            for c in clients:
                send_logon(c)
            for c in clients:
                if c.source == ALLOWED:
                    c.expect("A")
                else:
                    assert c.source is not None
                    assert refused(c)[TEXT] == reason(c.source)
            for c in clients:
                if c.connected:
                    c.logout()
        finally:
            for c in clients:
                c.close()


def test_refusals_are_audited_counted_and_the_startup_log_says_who_may_log_on(
    tmp_path: Path,
) -> None:
    server = Server(tmp_path, fix_settings=ALLOW)
    server.start()
    try:
        stranger = client(server.port, "CLIENT2", "FIX.4.4", "127.0.0.3")
        send_logon(stranger)
        refused(stranger)
        friend = client(server.port, "CLIENT2", "FIX.4.4", ALLOWED)
        friend.logon()
        friend.logout()
    finally:
        server.stop()
    assert server.returncode == 0
    log = server.log.read_text(errors="replace")
    port = server.port
    assert f"listening on 0.0.0.0:{port} (all IPv4 interfaces" in log
    assert "Logons allowed from 127.0.0.1 (this machine only) ([fix] allow)" in log
    key = "FIX.4.4:NYQUESTRO->CLIENT2"
    assert f"logon of {key} refused: peer 127.0.0.3 is not in [fix] allow" in log
    assert "FIX logons: allowed 1, refused: peer not in [fix] allow 1" in log

    export = subprocess.run(
        [sys.executable, "-m", "nyquestro", "journal", "export", "--jsonl",
         "--db", str(server.root / "store1" / "nyquestro.db")],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    rows = [json.loads(line) for line in export.stdout.splitlines()]
    trail = [
        (r["kind"], str(r["payload"])) for r in rows
        if r["session"] == key
    ]  # fmt: skip
    logout = next(
        i for i, (kind, text) in enumerate(trail)
        if kind == "outbound" and "|35=5|" in text and "not in [fix] allow" in text
    )  # fmt: skip
    assert f"|58={reason('127.0.0.3')}|" in trail[logout][1]
    # The refused Logon came in just before its answer.
    assert trail[logout - 1][0] == "inbound" and "|35=A|" in trail[logout - 1][1]
