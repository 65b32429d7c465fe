"""QuickFIX's server acceptance definitions, run against `nyquestro serve`.

The definitions are QuickFIX C++ v1.16.0's `test/definitions/server` (quickfixengine.org,
QuickFIX Software License 1.0), kept outside the repository in shared/quickfix-acceptance/
(or $NYQUESTRO_ACCEPTANCE_DIR). Each session-layer file gets a fresh venue: its own
process, store dir and port, from sessions/acceptance.toml. Files run one after another
(each waits on the acceptor's timers), so the suite takes a few minutes; the heartbeat
files (4a, 6) take longest.
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.acceptance import defs

ROOT = defs.acceptance_dir()
if not (ROOT / "fields.fmt").is_file():
    pytest.skip(
        f"QuickFIX acceptance definitions not found at {ROOT} (set {defs.ENV_DIR} to their folder)",
        allow_module_level=True,
    )

DEFINITIONS = defs.session_only_definitions(ROOT)
FORMATS = defs.load_field_formats(ROOT / "fields.fmt")
SOH = defs.SOH


@pytest.fixture
def venue(tmp_path: Path) -> Iterator[defs.VenueServer]:
    server = defs.VenueServer(tmp_path)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize(
    "definition", DEFINITIONS, ids=[f"{p.parent.name}/{p.stem}" for p in DEFINITIONS]
)
def test_definition(definition: Path, venue: defs.VenueServer) -> None:
    try:
        defs.DefinitionRun(definition, venue.port, FORMATS).run()
    except defs.StepFailure as failure:
        raise AssertionError(f"{failure}\n--- venue log (tail) ---\n{venue.log_tail()}") from None


def test_selection_is_the_readmes_43_fix42_and_44_fix44_files() -> None:
    # Guards against a definition silently missing from the shared folder.
    counts = {v: sum(p.parent.name == v for p in DEFINITIONS) for v in defs.VERSIONS}
    assert counts == {"fix42": 43, "fix44": 44}


# --- the runner's own reading of the format -----------------------------------------------


def test_parse_reads_connection_ids_and_skips_comments_and_crlf() -> None:
    text = "# c\r\n\r\ni1,CONNECT\r\nI2,8=FIX.4.2\x0135=0\x01\r\ne2,DISCONNECT\r\niDISCONNECT"
    steps = defs.parse_definition(text)
    assert [(s.line, s.kind, s.conn, s.text) for s in steps] == [
        (3, "connect", 1, ""),
        (4, "send", 2, "8=FIX.4.2\x0135=0\x01"),
        (5, "expect_disconnect", 2, ""),
        (6, "disconnect", 1, ""),
    ]


def test_parse_rejects_an_unknown_step() -> None:
    with pytest.raises(defs.DefinitionSyntaxError, match="line 1"):
        defs.parse_definition("iSLEEP")


def test_time_placeholders_become_utc_seconds_shifted_by_n() -> None:
    now = datetime(2024, 2, 29, 23, 59, 30, 123456, tzinfo=UTC)
    text = "52=<TIME>\x01122=<TIME+121>\x0160=<TIME-1>\x01"
    assert defs.substitute_time(text, now) == (
        "52=20240229-23:59:30\x01122=20240301-00:01:31\x0160=20240229-23:59:29\x01"
    )


def test_complete_adds_body_length_and_checksum() -> None:
    done = defs.complete("8=FIX.4.2\x0135=0\x0134=2\x01")
    body = "35=0\x0134=2\x01"
    head = f"8=FIX.4.2\x019={len(body)}\x01"
    assert done == f"{head}{body}10={sum((head + body).encode()) % 256:03d}\x01"


def test_complete_keeps_given_length_and_checksum_and_out_of_order_headers() -> None:
    wrong = "8=FIX.4.2\x019=99\x0135=0\x0110=256\x01"
    assert defs.complete(wrong) == wrong
    shuffled = "35=0\x018=FIX.4.2\x0134=2\x01"
    assert defs.complete(shuffled) == shuffled
    only_checksum = defs.complete("8=FIX.4.2\x0135=0\x0110=007\x01")
    assert only_checksum == "8=FIX.4.2\x019=5\x0135=0\x0110=007\x01"


def test_compare_uses_fields_fmt_patterns_and_literal_values_elsewhere() -> None:
    expected = "8=FIX.4.2\x019=5\x0152=00000000-00:00:00.000\x0158=x\x0110=0\x01"
    good = "8=FIX.4.2\x019=5\x0152=20240229-23:59:30.123\x0158=x\x0110=042\x01"
    assert defs.mismatch(expected, good, FORMATS) is None
    assert "58" in str(defs.mismatch(expected, good.replace("58=x", "58=y"), FORMATS))
    assert "52" in str(defs.mismatch(expected, good.replace("20240229-", "2024-02-29 "), FORMATS))
    assert "tag 58" in str(defs.mismatch(expected, good.replace("58=x", "59=x"), FORMATS))
    assert "fields" in str(defs.mismatch(expected, good + "11=1\x01", FORMATS))


def test_venue_exits_zero_on_sigterm_after_a_session(tmp_path: Path) -> None:
    # `nyquestro serve` promises to log sessions out and exit 0 on SIGTERM. The crash this
    # guards against is intermittent (a race inside quickfix 1.16's SocketAcceptor.stop()),
    # so the venue is started and stopped several times; the first bad exit ends the test.
    logon_logout = ROOT / "fix42" / "1a_ValidLogonWithCorrectMsgSeqNum.def"
    for attempt in range(10):
        workdir = tmp_path / str(attempt)
        workdir.mkdir()
        server = defs.VenueServer(workdir)
        server.start()
        try:
            defs.DefinitionRun(logon_logout, server.port, FORMATS).run()
        finally:
            code = server.stop()
        assert code == 0, (
            f"attempt {attempt + 1}: nyquestro serve exited with {code} on SIGTERM "
            f"(-11 = SIGSEGV)\n--- venue log (tail) ---\n{server.log_tail()}"
        )
