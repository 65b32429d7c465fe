"""quickfix on the other side of a pack, as a process of its own until SIGTERM:

    python -m tests.cert.quickfix_peer acceptor PORT DIR
        a bare acceptor (no venue behind it) for `cert run --target`: sessions CLIENT1 and
        CLIENT2 -> NYQUESTRO in FIX 4.2 and 4.4
    python -m tests.cert.quickfix_peer initiator PORT DIR
        the engine under test of `cert serve`: CLIENT1 -> NYQUESTRO in FIX 4.4, logging on
        with ResetSeqNumFlag and reconnecting a second after every disconnect

The application is the FIX benchmark's bare one; the packs send it no orders, so only
quickfix's session layer acts.
"""

import signal
import sys
import threading
from pathlib import Path

import quickfix as fix

from benchmarks.bare_acceptor import EchoApplication

DICTIONARIES = Path(sys.prefix) / "share" / "quickfix"
COMMON = ["StartTime=00:00:00", "EndTime=00:00:00", "UseDataDictionary=Y", "SocketNodelay=Y"]


def acceptor_settings(port: int, directory: Path) -> list[str]:
    lines = ["[DEFAULT]", "ConnectionType=acceptor", f"SocketAcceptPort={port}",
             "SenderCompID=NYQUESTRO", f"FileStorePath={directory / 'store'}", *COMMON]  # fmt: skip
    for version, dictionary in (("FIX.4.2", "FIX42.xml"), ("FIX.4.4", "FIX44.xml")):
        for comp_id in ("CLIENT1", "CLIENT2"):
            lines += ["[SESSION]", f"BeginString={version}", f"TargetCompID={comp_id}",
                      f"DataDictionary={DICTIONARIES / dictionary}"]  # fmt: skip
    return lines


def initiator_settings(port: int, directory: Path) -> list[str]:
    return [
        "[DEFAULT]", "ConnectionType=initiator", "ReconnectInterval=1", "HeartBtInt=30",
        f"FileStorePath={directory / 'store'}", "ResetOnLogon=Y", *COMMON,
        "[SESSION]", "BeginString=FIX.4.4", "SenderCompID=CLIENT1", "TargetCompID=NYQUESTRO",
        f"DataDictionary={DICTIONARIES / 'FIX44.xml'}", "SocketConnectHost=127.0.0.1",
        f"SocketConnectPort={port}",
    ]  # fmt: skip


def main(kind: str, port: int, directory: Path) -> None:
    path = directory / f"{kind}.cfg"
    settings_of = acceptor_settings if kind == "acceptor" else initiator_settings
    path.write_text("\n".join(settings_of(port, directory)) + "\n")
    settings = fix.SessionSettings(str(path))
    connector = fix.SocketAcceptor if kind == "acceptor" else fix.SocketInitiator
    running = connector(EchoApplication(), fix.FileStoreFactory(settings), settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    running.start()
    stop.wait()
    running.stop()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]))
