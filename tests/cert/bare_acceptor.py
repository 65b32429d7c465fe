"""A bare quickfix acceptor with no venue behind it, for running packs with --target at
"any FIX acceptor": `python -m tests.cert.bare_acceptor PORT DIR` serves sessions CLIENT1
and CLIENT2 -> NYQUESTRO in FIX 4.2 and 4.4 until SIGTERM."""

import signal
import sys
import threading
from pathlib import Path

import quickfix as fix

COMP_IDS = ("CLIENT1", "CLIENT2")
VERSIONS = {"FIX.4.2": "FIX42.xml", "FIX.4.4": "FIX44.xml"}


class Quiet(fix.Application):  # type: ignore[misc]
    """Takes every message and does nothing with it: only quickfix's session layer acts."""

    def onCreate(self, sessionID: fix.SessionID) -> None:  # noqa: N802, N803 (quickfix API)
        pass

    def onLogon(self, sessionID: fix.SessionID) -> None:  # noqa: N802, N803
        pass

    def onLogout(self, sessionID: fix.SessionID) -> None:  # noqa: N802, N803
        pass

    def toAdmin(self, message: fix.Message, sessionID: fix.SessionID) -> None:  # noqa: N802, N803
        pass

    def fromAdmin(self, message: fix.Message, sessionID: fix.SessionID) -> None:  # noqa: N802, N803
        pass

    def toApp(self, message: fix.Message, sessionID: fix.SessionID) -> None:  # noqa: N802, N803
        pass

    def fromApp(self, message: fix.Message, sessionID: fix.SessionID) -> None:  # noqa: N802, N803
        pass


def settings_text(port: int, directory: Path) -> str:
    share = Path(sys.prefix) / "share" / "quickfix"
    lines = [
        "[DEFAULT]", "ConnectionType=acceptor", f"SocketAcceptPort={port}",
        "SenderCompID=NYQUESTRO", f"FileStorePath={directory / 'store'}",
        "StartTime=00:00:00", "EndTime=00:00:00", "UseDataDictionary=Y", "SocketNodelay=Y",
    ]  # fmt: skip
    for version, dictionary in VERSIONS.items():
        for comp_id in COMP_IDS:
            lines += ["[SESSION]", f"BeginString={version}", f"TargetCompID={comp_id}",
                      f"DataDictionary={share / dictionary}"]  # fmt: skip
    return "\n".join(lines) + "\n"


def main(port: int, directory: Path) -> None:
    path = directory / "bare.cfg"
    path.write_text(settings_text(port, directory))
    settings = fix.SessionSettings(str(path))
    acceptor = fix.SocketAcceptor(Quiet(), fix.FileStoreFactory(settings), settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    acceptor.start()
    stop.wait()
    acceptor.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
