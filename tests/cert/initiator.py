"""A quickfix initiator as the engine under test of `nyquestro cert serve`:
`python -m tests.cert.initiator PORT DIR` logs on as CLIENT1 -> NYQUESTRO (FIX 4.4) with
ResetSeqNumFlag, and reconnects a second after every disconnect, until SIGTERM."""

import signal
import sys
import threading
from pathlib import Path

import quickfix as fix

from tests.cert.bare_acceptor import Quiet


def settings_text(port: int, directory: Path) -> str:
    dictionary = Path(sys.prefix) / "share" / "quickfix" / "FIX44.xml"
    return "\n".join([
        "[DEFAULT]", "ConnectionType=initiator", "ReconnectInterval=1", "HeartBtInt=30",
        f"FileStorePath={directory / 'store'}", "StartTime=00:00:00", "EndTime=00:00:00",
        "UseDataDictionary=Y", f"DataDictionary={dictionary}", "ResetOnLogon=Y",
        "[SESSION]", "BeginString=FIX.4.4", "SenderCompID=CLIENT1", "TargetCompID=NYQUESTRO",
        "SocketConnectHost=127.0.0.1", f"SocketConnectPort={port}",
    ]) + "\n"  # fmt: skip


def main(port: int, directory: Path) -> None:
    path = directory / "initiator.cfg"
    path.write_text(settings_text(port, directory))
    settings = fix.SessionSettings(str(path))
    initiator = fix.SocketInitiator(Quiet(), fix.FileStoreFactory(settings), settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    initiator.start()
    stop.wait()
    initiator.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
