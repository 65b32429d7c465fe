"""The `nyquestro` command and its subcommands."""

import argparse
import sys
from pathlib import Path

from rich.console import Console

from nyquestro import __version__
from nyquestro.cli.engine_run import run_lines
from nyquestro.cli.serve import serve_command
from nyquestro.config.instruments import ConfigError, default_instruments, load_instruments


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
    run.add_argument(
        "--instruments", type=Path, help="instruments TOML (default: the shipped demo set)"
    )
    serve = commands.add_parser(
        "serve",
        help="run the exchange: FIX acceptor on 127.0.0.1:9878 unless --config says otherwise",
    )
    serve.add_argument("--config", type=Path, help="venue TOML (default: the shipped demo venue)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    if args.command == "serve":
        return serve_command(args.config, errors)
    try:
        instruments = (
            default_instruments()
            if args.instruments is None
            else load_instruments(args.instruments)
        )
    except ConfigError as exc:
        errors.print(f"configuration error: {exc}", markup=False)
        return 2
    if args.file == "-":
        return run_lines(sys.stdin, instruments, sys.stdout, errors)
    try:
        with open(args.file, encoding="utf-8") as stream:
            return run_lines(stream, instruments, sys.stdout, errors)
    except OSError as exc:
        errors.print(f"cannot read {args.file}: {exc.strerror}", markup=False)
        return 2
