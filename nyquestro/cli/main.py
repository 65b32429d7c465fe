"""The `nyquestro` command and its subcommands.

Each subcommand's module is imported when that subcommand runs, not before: a probe such
as `nyquestro status` must answer within a second, and importing quickfix, SQLAlchemy and
alembic for every command would take about that long on its own.
"""

import argparse
import os
import sys
from pathlib import Path

from rich.console import Console

from nyquestro import __version__
from nyquestro.cli.addresses import host_port
from nyquestro.config.instruments import ConfigError, default_instruments, load_instruments
from nyquestro.config.paths import DEFAULT_URL
from nyquestro.config.venue import DURABILITY
from nyquestro.control import DEFAULT_ADDRESS, TOKEN_VARIABLE
from nyquestro.domain.enums import TradingPhase
from nyquestro.domain.instrument import Instrument


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nyquestro", description="FIX exchange simulator")
    parser.add_argument("--version", action="version", version=f"nyquestro {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    engine = commands.add_parser("engine", help="drive the matching engine directly")
    engine_commands = engine.add_subparsers(dest="engine_command", required=True)
    run = engine_commands.add_parser(
        "run",
        help="read commands as JSON lines, print events as JSON lines",
        description="One command per input line (see examples/); one event per output line.",
    )
    run.add_argument("file", nargs="?", default="-", help="JSON-lines file, or - for stdin")
    run.add_argument("--instruments", type=Path, help="instruments TOML (default: the demo set)")
    run.add_argument("--journal", help="journal every command into this database (path or URL)")
    run.add_argument(
        "--durability",
        choices=DURABILITY,
        default="group",
        help="journal commit policy (default: group)",
    )

    serve = commands.add_parser(
        "serve",
        help="run the exchange: FIX acceptor on port 9878, Logons from this machine only, "
        "unless --config says otherwise",
    )
    serve.add_argument("--config", type=Path, help="venue TOML (default: the shipped demo venue)")
    serve.add_argument(
        "--db", help="journal database, overriding the config (path, or a URL such as "
        "postgresql+psycopg://postgres@127.0.0.1:5432/test)",
    )  # fmt: skip

    status = commands.add_parser(
        "status",
        help="whether the venue on the config's store is running and its writer making "
        "progress: prints one line with its figures; exit status 0 ok, 1 stalled (work "
        "waiting and no progress for over a second), 3 not running",
    )
    status.add_argument("--config", type=Path, help="venue TOML (default: the shipped demo venue)")

    stats = commands.add_parser(
        "stats", help="the order path's latency by stage, as the running venue measured it"
    )
    stats.add_argument("--config", type=Path, help="venue TOML (default: the shipped demo venue)")
    stats.add_argument(
        "--plot", type=Path, metavar="FILE.png",
        help="also draw each stage's percentiles (needs the plot extra)",
    )  # fmt: skip

    config = commands.add_parser("config", help="check a venue config")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    check = config_commands.add_parser(
        "check",
        help="load the venue config as serve would (NYQUESTRO_ environment overrides "
        "included) and print a summary, or the error (exit status 2)",
    )
    check.add_argument("--config", type=Path, help="venue TOML (default: the shipped demo venue)")

    replay = commands.add_parser(
        "replay",
        help="re-run a journal through a fresh engine and check the event-stream hash",
    )
    replay.add_argument("--journal", required=True, help="journal database (path or URL)")
    replay.add_argument("--instruments", type=Path, help="instruments TOML (default: demo set)")
    replay.add_argument(
        "--config", type=Path,
        help="the venue config the journal was written with, for its FIX sessions and drop "
        "copy (default: the shipped venue); the messages a replay renders are compared with "
        "the audit trail's",
    )  # fmt: skip
    replay.add_argument(
        "--fix", action="store_true",
        help="instead: play the audit trail's inbound FIX messages again against a fresh "
        "venue started with --config, and compare every outbound message with the recorded "
        "one; the first difference is named (docs/replay.md)",
    )  # fmt: skip

    journal = commands.add_parser("journal", help="read the store's audit trail and journal")
    journal_commands = journal.add_subparsers(dest="journal_command", required=True)
    export = journal_commands.add_parser(
        "export",
        help="write the audit trail (inbound messages, decisions, outbound messages) as "
        "JSON lines, one object per row: id, seq, ts, session, kind, payload",
    )
    export.add_argument(
        "--jsonl", action="store_true", required=True,
        help="JSON lines (the one format; required so scripts say what they get)",
    )  # fmt: skip
    export.add_argument("--db", default=DEFAULT_URL, help=f"path or URL ({DEFAULT_URL})")
    export.add_argument("--out", type=Path, help="file to write (default: standard output)")
    export.add_argument("--after-seq", type=int, help="only rows of commands after this one")
    export.add_argument(
        "--commands", action="store_true",
        help="the journal's commands instead (seq, ts, command with prices in ticks, "
        "event_hash): the journal stores them as binary frames",
    )  # fmt: skip

    kill = commands.add_parser(
        "kill-switch",
        help="engage or release a kill switch in the running venue (cancels every open "
        "order in scope and refuses new ones until released)",
    )
    kill.add_argument("action", choices=("engage", "release"))
    kill.add_argument("--account", help="scope: one account")
    kill.add_argument("--session", help="scope: one FIX session, e.g. FIX.4.4:NYQUESTRO->CLIENT1")
    kill.add_argument("--reason", default="", help="said in every reject and cancel it causes")
    _operator_arguments(kill)

    for action, text in (
        ("halt", "halt a symbol in the running venue (only cancels are accepted)"),
        ("resume", "resume a halted symbol (also releases a tripped circuit breaker)"),
    ):
        trading = commands.add_parser(action, help=text)
        trading.add_argument("symbol")
        trading.add_argument("--reason", default="", help="said in the halt event")
        _operator_arguments(trading)

    phase = commands.add_parser(
        "phase",
        help="move a symbol (or every symbol) of the running venue to a trading phase; "
        "leaving an auction's call uncrosses its book",
    )
    phase.add_argument("phase", choices=[p.value for p in TradingPhase])
    phase.add_argument("--symbol", help="one symbol (default: every symbol)")
    _operator_arguments(phase)

    trade = commands.add_parser(
        "trade", help="bust or correct a trade of the running venue (FIX ExecType H / G)"
    )
    trade_commands = trade.add_subparsers(dest="trade_command", required=True)
    bust = trade_commands.add_parser(
        "bust", help="take a trade back: both orders lose the fill, positions follow"
    )
    correct = trade_commands.add_parser(
        "correct", help="change a trade's price, or lower its quantity (needs --token)"
    )
    for amend in (bust, correct):
        amend.add_argument(
            "trade_id",
            type=int,
            help="the trade's id (ListExecutions, the blotter, ITCH match number)",
        )
        amend.add_argument("--reason", default="", help="said to both sides in the reports")
        _operator_arguments(amend)
    correct.add_argument("--px", required=True, help="the corrected price, e.g. 101.25")
    correct.add_argument("--qty", type=int, required=True, help="the corrected quantity")

    clock = commands.add_parser(
        "clock", help='the running venue\'s virtual clock ([clock] mode = "virtual")'
    )
    clock_commands = clock.add_subparsers(dest="clock_command", required=True)
    clock_set = clock_commands.add_parser(
        "set",
        help="set it: commands are stamped with this time until the next set; never back",
    )
    clock_set.add_argument(
        "when",
        help="nanoseconds since the epoch, or an ISO 8601 time (UTC unless it says), e.g. "
        "2025-03-14T09:30:00.000125Z",
    )  # fmt: skip
    clock_set.add_argument(
        "--token", default=os.environ.get(TOKEN_VARIABLE),
        help=f"a [control.tokens] token that may act (default: ${TOKEN_VARIABLE})",
    )  # fmt: skip
    clock_set.add_argument(
        "--connect", default=DEFAULT_ADDRESS, metavar="HOST:PORT",
        help=f"the running venue's control plane ({DEFAULT_ADDRESS})",
    )  # fmt: skip

    cert = commands.add_parser("cert", help="run certification packs against a FIX venue")
    cert_commands = cert.add_subparsers(dest="cert_command", required=True)
    cert_commands.add_parser("list", help="the built-in packs")
    cert_run = cert_commands.add_parser(
        "run",
        help="run a pack's scenarios and report each step",
        description="Plays a pack (a built-in pack's name or a TOML file; docs/cert.md) "
        "with Nyquestro's own FIX client. Without --target it starts a venue for the run.",
    )
    cert_run.add_argument("pack", help="a built-in pack's name (`nyquestro cert list`) or a file")
    cert_run.add_argument(
        "--target",
        type=host_port,
        metavar="HOST:PORT",
        help="a running FIX acceptor (default: start one)",
    )
    cert_run.add_argument(
        "--control", metavar="HOST:PORT",
        help="the target's control plane, for the pack's venue steps (halt, kill switch, ...)",
    )  # fmt: skip
    cert_run.add_argument(
        "--token", default=os.environ.get(TOKEN_VARIABLE),
        help=f"a control-plane token that may act (default: ${TOKEN_VARIABLE})",
    )  # fmt: skip
    cert_run.add_argument(
        "--venue-config", type=Path,
        help="the config of the venue started for the run (default: the packs' own)",
    )  # fmt: skip
    cert_serve = cert_commands.add_parser(
        "serve",
        help="play the venue's side of a pack for an engine under test",
        description="Listens for the engine under test and plays the pack's sessions as "
        "the venue: the engine logs on, the pack answers, sends and expects (docs/cert.md).",
    )
    cert_serve.add_argument("pack", help="a built-in pack's name or a file")
    cert_serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    cert_serve.add_argument("--port", type=int, default=9878, help="port to listen on (9878)")
    for command in (cert_run, cert_serve):
        command.add_argument("--junit", type=Path, help="write JUnit XML here")
        command.add_argument("--html", type=Path, help="write a one-page HTML report here")
        command.add_argument(
            "--plain", action="store_true",
            help="one line per step, as in a pipe, instead of the live view on a terminal",
        )  # fmt: skip

    itch = commands.add_parser("itch", help="Nasdaq TotalView-ITCH 5.0 files")
    itch_commands = itch.add_subparsers(dest="itch_command", required=True)
    itch_replay = itch_commands.add_parser(
        "replay",
        help="replay an ITCH file's orders into a running venue over FIX",
        description="Each Add Order becomes a limit order of one FIX session; executions, "
        "cancels, deletes and replaces in the file follow it; other sessions' orders trade "
        "with them (docs/itch-replay.md).",
    )
    itch_replay.add_argument("file", type=Path, help="ITCH 5.0, length-prefixed as Nasdaq's files")
    itch_replay.add_argument(
        "--target",
        type=host_port,
        required=True,
        metavar="HOST:PORT",
        help="the venue's FIX port",
    )
    itch_replay.add_argument("--sender", required=True, help="the session's SenderCompID")
    itch_replay.add_argument(
        "--venue-comp-id", default="NYQUESTRO", help="TargetCompID (NYQUESTRO)"
    )
    itch_replay.add_argument("--fix", default="FIX.4.4", choices=("FIX.4.2", "FIX.4.4"))
    itch_replay.add_argument(
        "--speed", type=float,
        help="this many times the file's own pace (default: as fast as the venue answers)",
    )  # fmt: skip
    itch_replay.add_argument("--symbols", help="only these, comma-separated (default: all)")

    flow = commands.add_parser(
        "flow",
        help="seeded synthetic order flow into a running venue over FIX",
        description="A realistic mix (passive adds, cancels, replaces, marketable orders) "
        "from many accounts over FIX sessions, at a target rate; the same seed sends the "
        "same requests to a venue in the same state (docs/flow.md).",
    )
    flow.add_argument("--target", type=host_port, required=True, metavar="HOST:PORT",
                      help="the venue's FIX port")  # fmt: skip
    flow.add_argument("--session", action="append", required=True, metavar="SENDER",
                      help="a session's SenderCompID (repeat for more)")  # fmt: skip
    flow.add_argument("--symbol", action="append", required=True, metavar="SYMBOL=PRICE",
                      help="an instrument and its reference price (repeat for more)")  # fmt: skip
    flow.add_argument("--tick", default="0.01", help="the instruments' price step (0.01)")
    flow.add_argument("--venue-comp-id", default="NYQUESTRO", help="TargetCompID (NYQUESTRO)")
    flow.add_argument("--fix", default="FIX.4.4", choices=("FIX.4.2", "FIX.4.4"))
    flow.add_argument("--accounts", type=int, default=20, help="accounts to spread orders over")
    flow.add_argument("--seed", type=int, default=1)
    flow.add_argument("--rate", type=float, help="requests a second (default: as answered)")
    flow.add_argument("--count", type=int, help="stop after this many requests")
    flow.add_argument("--seconds", type=float, help="stop after this long (default: 10 s "
                      "when neither this nor --count is given)")  # fmt: skip
    flow.add_argument("--id-prefix", help="start every ClOrdID with this (default: random)")
    flow.add_argument("--log", type=Path, help="write every request here as JSON lines")
    flow.add_argument("--keep", action="store_true", help="leave the run's orders on the book")
    flow.add_argument("--exact", action="store_true",
                      help="each request waits for all that came of it (a status-request "
                      "barrier): the same seed then sends the same requests, at half the "
                      "rate")  # fmt: skip

    db = commands.add_parser("db", help="manage the store's schema")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_upgrade = db_commands.add_parser("upgrade", help="apply migrations up to the newest")
    db_upgrade.add_argument("--db", default=DEFAULT_URL, help=f"path or URL ({DEFAULT_URL})")
    return parser


def _operator_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--token", default=os.environ.get(TOKEN_VARIABLE),
        help=f"a [control.tokens] token that may act (default: ${TOKEN_VARIABLE}): go "
        "through the venue's control plane and wait until it is done; without one, queue "
        "the request in the store",
    )  # fmt: skip
    command.add_argument(
        "--connect", default=DEFAULT_ADDRESS, metavar="HOST:PORT",
        help=f"the running venue's control plane ({DEFAULT_ADDRESS})",
    )  # fmt: skip
    command.add_argument(
        "--db", default=DEFAULT_URL,
        help=f"the venue's store, where a request is queued without a token or while the "
        f"control plane is not answering ({DEFAULT_URL})",
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    if args.command == "serve":
        from nyquestro.cli.metrics_dir import prepare

        prepare(args.config, os.environ)  # before prometheus_client is imported
        from nyquestro.cli.serve import serve_command

        return serve_command(args.config, args.db, errors)
    if args.command == "config":
        from nyquestro.cli.config import config_check_command

        out = Console(highlight=False, soft_wrap=True)
        return config_check_command(args.config, os.environ, out, errors)
    if args.command == "status":
        from nyquestro.cli.status import status_command

        out = Console(highlight=False, soft_wrap=True)
        return status_command(args.config, os.environ, out, errors)
    if args.command == "stats":
        from nyquestro.cli.stats import stats_command

        out = Console(highlight=False, soft_wrap=True)
        return stats_command(args.config, os.environ, args.plot, out, errors)
    if args.command == "cert":
        from nyquestro.cli.cert import list_command, run_command, serve_pack_command

        # Not interactive, the report is plain lines (cli/cert.py `_progress`).
        plain = getattr(args, "plain", False)
        out = Console(highlight=False, soft_wrap=True, force_interactive=False if plain else None)
        if args.cert_command == "list":
            return list_command(out)
        if args.cert_command == "serve":
            return serve_pack_command(args.pack, args.host, args.port, args.junit, args.html, out,
                                 errors)  # fmt: skip
        return run_command(
            args.pack, args.target, args.control, args.token, args.venue_config, args.junit,
            args.html, out, errors,
        )  # fmt: skip
    if args.command == "itch":
        from nyquestro.cli.itch import itch_replay_command
        from nyquestro.itchreplay.player import Session

        out = Console(highlight=False, soft_wrap=True)
        if args.speed is not None and args.speed <= 0:
            errors.print("itch replay: --speed must be above 0", markup=False)
            return 2
        session = Session(args.sender, args.venue_comp_id, args.fix)
        return itch_replay_command(args.file, args.target, session, args.speed, args.symbols, out,
                              errors)  # fmt: skip
    if args.command == "flow":
        from nyquestro.cli.flow import FlowOptions, flow_command, parse_instruments

        out = Console(highlight=False, soft_wrap=True)
        try:
            flow_instruments = parse_instruments(args.symbol, args.tick)
        except ValueError as exc:
            errors.print(f"flow: {exc}", markup=False)
            return 2
        for name in ("accounts", "count", "rate", "seconds"):
            value = getattr(args, name)
            if value is not None and value <= 0:
                errors.print(f"flow: --{name} must be above 0, not {value}", markup=False)
                return 2
        seconds = 10.0 if args.seconds is None and args.count is None else args.seconds
        options = FlowOptions(args.seed, args.accounts, args.rate, args.count, seconds,
                              args.id_prefix, args.log, args.keep, args.exact)  # fmt: skip
        return flow_command(args.target, args.session, (args.venue_comp_id, args.fix),
                            flow_instruments, options, out, errors)  # fmt: skip
    if args.command == "db":
        from nyquestro.cli.journal import db_upgrade_command

        return db_upgrade_command(args.db, errors)
    if args.command in ("kill-switch", "halt", "resume"):
        from nyquestro.cli.operator import Through, kill_switch_command, trading_command

        through = Through(args.db, args.connect, args.token, errors)
        if args.command == "kill-switch":
            return kill_switch_command(
                args.action, args.account, args.session, args.reason, through
            )
        return trading_command(args.command, args.symbol, args.reason, through)
    if args.command == "phase":
        from nyquestro.cli.operator import Through, phase_command

        return phase_command(
            args.phase, args.symbol, Through(args.db, args.connect, args.token, errors)
        )
    if args.command == "trade":
        from nyquestro.cli.operator import Through, bust_command, correct_command

        through = Through(args.db, args.connect, args.token, errors)
        if args.trade_command == "bust":
            return bust_command(args.trade_id, args.reason, through)
        return correct_command(args.trade_id, args.px, args.qty, args.reason, through)
    if args.command == "clock":
        from nyquestro.cli.operator import Through, clock_command

        return clock_command(args.when, Through(DEFAULT_URL, args.connect, args.token, errors))
    if args.command == "journal":
        from nyquestro.cli.export import export_command

        return export_command(args.db, args.out, args.after_seq, errors, commands=args.commands)
    try:
        instruments = _instruments(args.instruments)
    except ConfigError as exc:
        errors.print(f"configuration error: {exc}", markup=False)
        return 2
    if args.command == "replay" and args.fix:
        from nyquestro.cli.fix_replay import fix_replay_command

        out = Console(highlight=False, soft_wrap=True)
        return fix_replay_command(args.journal, args.config, out, errors)
    if args.command == "replay":
        from nyquestro.cli.journal import replay_command
        from nyquestro.cli.loading import CONFIG_ERROR_STATUS, load_or_report

        venue = load_or_report(args.config, os.environ, errors)
        if venue is None:
            return CONFIG_ERROR_STATUS
        # The journal's first Configure names the instruments; these are the fallback.
        fallback = instruments if args.instruments is not None else list(venue.instruments)
        return replay_command(args.journal, fallback, venue, errors)
    from nyquestro.cli.engine_run import run_lines
    from nyquestro.store.database import create_db_engine, upgrade
    from nyquestro.store.journal import Durability, JournalWriter

    journal = None
    if args.journal is not None:
        engine = create_db_engine(args.journal)
        upgrade(engine)
        journal = JournalWriter(engine, Durability(args.durability))
    if args.file == "-":
        return run_lines(sys.stdin, instruments, sys.stdout, errors, journal)
    try:
        with open(args.file, encoding="utf-8") as stream:
            return run_lines(stream, instruments, sys.stdout, errors, journal)
    except OSError as exc:
        errors.print(f"cannot read {args.file}: {exc.strerror}", markup=False)
        return 2


def _instruments(path: Path | None) -> list[Instrument]:
    return default_instruments() if path is None else load_instruments(path)
