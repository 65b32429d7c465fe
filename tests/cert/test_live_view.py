"""`nyquestro cert run` on a terminal (a pseudo-terminal the test reads): the live table of
the running scenario's steps while they run, each scenario's final table left in the
scrollback, and the plain lines again when --plain or TTY_INTERACTIVE=0 asks for them."""

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.cert.test_cert_run import FAILING, RUN_TIMEOUT

ROWS, COLUMNS = 50, 160
RICH_VARIABLES = {"FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS",
                  "LINES", "TERM"}  # fmt: skip
PROBLEM = "me: tag 150 (ExecType) is '0', expected '5'"


def cert_on_a_terminal(tmp_path: Path, *args: str, **variables: str) -> tuple[int, str]:
    """The exit status and everything written to the terminal, escape sequences and all."""
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    environment = {k: v for k, v in os.environ.items() if k not in RICH_VARIABLES}
    proc = subprocess.Popen(
        [sys.executable, "-m", "nyquestro", "cert", "run", *args],
        cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=secondary, stderr=secondary,
        env={**environment, "TERM": "xterm-256color", **variables},
    )  # fmt: skip
    os.close(secondary)
    written = bytearray()
    deadline = time.monotonic() + RUN_TIMEOUT
    try:
        while time.monotonic() < deadline:
            if select.select([primary], [], [], 1.0)[0]:
                try:
                    chunk = os.read(primary, 65536)
                except OSError:  # EIO: the run has closed its end of the terminal
                    break
                if not chunk:
                    break
                written += chunk
        return proc.wait(10), written.decode()
    finally:
        os.close(primary)
        if proc.poll() is None:
            proc.kill()


def screen(written: str) -> list[str]:
    """The lines a terminal shows at the end, for the few controls Live sends: carriage
    return, newline, cursor up, erase line; colours are dropped."""
    lines, row, column = [""], 0, 0
    for control, argument, text in re.findall(r"(\x1b\[\??([0-9;]*)[A-Za-z])|([^\x1b]+)",
                                             written):  # fmt: skip
        if control.endswith("A"):
            row -= int(argument or 1)
        elif control.endswith("K"):
            lines[row] = ""
        for char in text:
            if char == "\r":
                column = 0
            elif char == "\n":
                row, column = row + 1, 0
                lines.extend([""] * (row + 1 - len(lines)))
            else:
                line = lines[row].ljust(column)
                lines[row] = line[:column] + char + line[column + 1 :]
                column += 1
    return [line.rstrip() for line in lines]


def test_the_live_view_shows_steps_running_then_leaves_each_scenario_with_its_outcomes(
    tmp_path: Path,
) -> None:
    (tmp_path / "wrong.toml").write_text(FAILING)
    status, written = cert_on_a_terminal(tmp_path, "wrong.toml")
    assert status == 1, written
    shown = screen(written)
    text = "\n".join(shown)
    # Every frame drawn, erased or not: while the first step ran, the others were pending
    # under it, with the counts below.
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", written)
    assert re.search(r"Logon exchange with ResetSeqNumFlag \(141=Y\) +running", drawn)
    assert re.search(r"the acknowledgement says Replaced +pending", drawn)
    assert "0 passed, 0 failed, 0 skipped, 1 running, 4 pending" in drawn
    # At the end the live area is gone: each scenario's table stays, then the summary.
    assert "running" not in text and "pending" not in text, text
    assert re.search(r"PASS +send 35=D +sent 35=D MsgSeqNum 2 +\d+\.\d\d s", text)
    failed = next(line for line in shown if "the acknowledgement says Replaced" in line)
    assert re.fullmatch(rf" +FAIL +the acknowledgement says Replaced +{re.escape(PROBLEM)} +"
                        r"\d+\.\d\d s", failed), failed  # fmt: skip
    assert re.search(r"SKIP +log out +an earlier step failed", text)
    assert text.count("an order expected to be replaced  (1/2)") == 1
    assert text.count("a scenario after the failure still runs  (2/2)") == 1
    assert "FAILED Wrong expectation against 127.0.0.1:" in text
    assert "1/2 scenarios; steps 3 passed, 1 failed, 1 skipped" in text


@pytest.mark.parametrize(
    ("flags", "variables"), [((), {"TTY_INTERACTIVE": "0"}), (("--plain",), {})],
    ids=["TTY_INTERACTIVE=0", "--plain"],
)  # fmt: skip
def test_a_terminal_gets_the_plain_lines_when_asked(
    tmp_path: Path, flags: tuple[str, ...], variables: dict[str, str]
) -> None:
    (tmp_path / "wrong.toml").write_text(FAILING)
    status, written = cert_on_a_terminal(tmp_path, "wrong.toml", *flags, **variables)
    assert status == 1, written
    text = "\n".join(screen(written))
    assert f"  FAIL the acknowledgement says Replaced\n       {PROBLEM}\n  SKIP log out" in text
    assert "running" not in written and "pending" not in written
