"""The FIX benchmark's baseline: a quickfix acceptor with no exchange behind it.

    python -m benchmarks.bare_acceptor --port P --store-dir DIR [--sessions 4]
        [--store file|memory] [--reports fields|string]

The same quickfix settings as `nyquestro serve` (rendered from the same templates,
sessions/acceptor.cfg and sessions/session.cfg: single-threaded SocketAcceptor,
SocketNodelay=Y, UseDataDictionary=Y with fixspec/FIX44.xml, ResetOnLogon=Y, FileStore by
default), FIX.4.4 sessions CLIENT1..CLIENTn. Its application answers each NewOrderSingle
with one ExecutionReport(New) and each OrderCancelRequest with one ExecutionReport(Canceled)
carrying the same fields as Nyquestro's, and keeps no state: what is left is quickfix's own
cost, the floor Nyquestro is measured against. By default it also uses the binding as
Nyquestro's gateway does (a call per field read, `setField(tag, str)` per field written);
`--reports string` reads and builds whole messages as strings instead, a lower floor.

Prints "bare acceptor listening on port P" to stderr once the port is open; SIGTERM or
SIGINT stops it (sessions logged out) with exit status 0.
"""

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from itertools import count
from pathlib import Path
from string import Template
from types import FrameType
from typing import NoReturn

import quickfix as fix

ROOT = Path(__file__).resolve().parents[1]
COMP_ID = "NYQUESTRO"
READY_TEXT = "bare acceptor listening on port"
LOGOUT_GRACE_SECONDS = 2.0

MSG_TYPE = 35
SOH = "\x01"
# Request fields a report needs, as (tag, the tag's text as it appears on the wire).
WANTED = tuple((tag, str(tag)) for tag in (11, 41, 1, 55, 54, 38, 40, 44, 59))
REPORT_MODES = ("fields", "string")


def render_settings(port: int, store_dir: Path, sessions: int) -> str:
    """quickfix settings from the templates `nyquestro serve` renders, FIX.4.4 sessions only."""
    head = Template((ROOT / "sessions" / "acceptor.cfg").read_text()).substitute(
        port=port, comp_id=COMP_ID, store_dir=store_dir.resolve(), reset_on_logon="Y"
    )
    block = Template((ROOT / "sessions" / "session.cfg").read_text())
    blocks = [
        block.substitute(
            begin_string="FIX.4.4",
            target_comp_id=f"CLIENT{n}",
            data_dictionary=ROOT / "fixspec" / "FIX44.xml",
        )
        for n in range(1, sessions + 1)
    ]
    return "\n".join([head, *blocks])


def fix_time(ns: int) -> str:
    return time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(ns // 1_000_000_000)) + (
        f".{(ns // 1_000_000) % 1000:03d}"
    )


class EchoApplication(fix.Application):  # type: ignore[misc]
    """One ExecutionReport per request; no book, no validation beyond quickfix's.

    `reports` says how the binding is used, since that is most of the cost:
    "fields" reads with `isSetField`/`getField` and builds with `setField(tag, str)`, one
    call per field, as Nyquestro's gateway does; "string" reads the whole request with one
    `toString()` and builds the report with one `setString()`: the cheapest use of the
    binding known, the floor a tuned gateway could approach.
    """

    def __init__(self, reports: str = "fields") -> None:
        super().__init__()
        if reports not in REPORT_MODES:
            raise ValueError(f"reports must be one of {REPORT_MODES}, got {reports!r}")
        self._by_string = reports == "string"
        self._ids = count(1)
        self.session_ids: list[fix.SessionID] = []

    def onCreate(self, sessionID: fix.SessionID) -> None:  # noqa: N802, N803 (quickfix API)
        self.session_ids.append(sessionID)

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
        if self._by_string:
            # Repeating groups would need more than a dict; D and F have none here.
            values = dict(f.split("=", 1) for f in message.toString().split(SOH) if f)
            msg_type = values.get("35")
        else:
            msg_type = message.getHeader().getField(MSG_TYPE)
            values = {key: message.getField(tag) for tag, key in WANTED if message.isSetField(tag)}
        if msg_type == "D":
            exec_type, leaves = "0", values.get("38", "0")
        elif msg_type == "F":
            exec_type, leaves = "4", "0"
        else:
            raise fix.UnsupportedMessageType()
        exec_id = str(next(self._ids))
        # Nyquestro's report fields, in its order. A cancel has no OrderID of its own here;
        # any value does for a baseline.
        fields = [(37, exec_id), (11, values.get("11", ""))]
        if msg_type == "F":
            fields.append((41, values.get("41", "")))
        fields += [
            (17, exec_id),
            (150, exec_type),
            (39, exec_type),
            # Account: Nyquestro defaults it to the sender's CompID.
            (1, values.get("1") or sessionID.getTargetCompID().getString()),
            (55, values.get("55", "")),
            (54, values.get("54", "")),
            (38, values.get("38", "0")),
            (40, values.get("40", "2")),
        ]
        if "44" in values:
            fields.append((44, values["44"]))
        fields += [
            (59, values.get("59", "0")),
            (151, leaves),
            (14, "0"),
            (6, "0"),
            (60, fix_time(time.time_ns())),
        ]
        report = fix.Message()
        if self._by_string:
            body = "".join(f"{tag}={value}{SOH}" for tag, value in fields)
            # Without validation quickfix keeps the fields as given; sendToTarget fills in
            # the rest of the header, BodyLength and CheckSum.
            report.setString(f"8=FIX.4.4{SOH}9=0{SOH}35=8{SOH}{body}10=000{SOH}", False)
        else:
            report.getHeader().setField(MSG_TYPE, "8")
            for tag, value in fields:
                report.setField(tag, value)
        fix.Session.sendToTarget(report, sessionID)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bare_acceptor", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--store-dir", type=Path, required=True)
    parser.add_argument("--sessions", type=int, default=4, help="CLIENT1..CLIENTn, FIX.4.4")
    parser.add_argument(
        "--store",
        choices=("file", "memory"),
        default="file",
        help="quickfix message store: FileStore (as nyquestro serve) or MemoryStore",
    )
    parser.add_argument(
        "--reports",
        choices=REPORT_MODES,
        default="fields",
        help="read requests and build reports a field per call (as Nyquestro) or as one string",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    args = parse_args(argv)
    args.store_dir.mkdir(parents=True, exist_ok=True)
    cfg_path = args.store_dir / "quickfix.cfg"
    cfg_path.write_text(render_settings(args.port, args.store_dir, args.sessions))
    settings = fix.SessionSettings(str(cfg_path))
    app = EchoApplication(args.reports)
    store = fix.FileStoreFactory(settings) if args.store == "file" else fix.MemoryStoreFactory()
    acceptor = fix.SocketAcceptor(app, store, settings)
    stopping = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    acceptor.start()
    print(
        f"{READY_TEXT} {args.port} ({args.store} store, reports by {args.reports})",
        file=sys.stderr,
        flush=True,
    )
    while not stopping.wait(0.2):
        pass
    for session_id in app.session_ids:
        session = fix.Session.lookupSession(session_id)
        if session is not None and session.isLoggedOn():
            session.logout("shutting down")
    deadline = time.monotonic() + LOGOUT_GRACE_SECONDS
    while acceptor.isLoggedOn() and time.monotonic() < deadline:
        time.sleep(0.05)
    # Not acceptor.stop(): in quickfix 1.16 it races the acceptor thread closing the
    # listening socket and crashes (SIGSEGV) about one time in six here. The sessions are
    # logged out and nothing else needs tearing down, so leave without it.
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
