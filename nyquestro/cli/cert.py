"""`nyquestro cert run PACK` and `nyquestro cert list`: certification packs from the
command line. Exit status: 0 every scenario passed, 1 one failed, 2 the pack or the
options are wrong (the message names the field), 3 the venue could not be started."""

from contextlib import AbstractContextManager, ExitStack, nullcontext
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from nyquestro.cert.connection import Dial, Listen
from nyquestro.cert.launch import StartedVenue
from nyquestro.cert.live import LiveView
from nyquestro.cert.pack import Pack, PackError, builtin_packs, find_pack, load_pack
from nyquestro.cert.report import LiveReport, html_report, junit_xml, print_summary, write
from nyquestro.cert.runner import Observer, PackResult, Runner
from nyquestro.cert.venue import ControlPlane, VenueControl
from nyquestro.control.client import ControlClient

USAGE_STATUS = 2
VENUE_STATUS = 3


def list_command(out: Console) -> int:
    for name, path in sorted(builtin_packs().items()):
        try:
            pack = load_pack(path)
        except PackError as exc:
            out.print(f"{name}: [red]{escape(str(exc))}[/]")
            continue
        out.print(f"[bold]{name}[/]  {escape(pack.name)}: {len(pack.scenarios)} scenarios")
    return 0


def run_command(
    pack_name: str,
    target: tuple[str, int] | None,
    control: str | None,
    token: str | None,
    venue_config: Path | None,
    junit: Path | None,
    html: Path | None,
    out: Console,
    errors: Console,
) -> int:
    try:
        pack = load_pack(find_pack(pack_name))
    except PackError as exc:
        errors.print(f"cert: {exc}", markup=False)
        return USAGE_STATUS
    with ExitStack() as stack:
        if target is None:
            started = StartedVenue(venue_config)
            out.print(f"starting a venue for the run in {started.directory} ...")
            try:
                venue: VenueControl = stack.enter_context(started)
            except RuntimeError as exc:
                errors.print(f"cert: could not start the venue: {exc}", markup=False)
                return VENUE_STATUS
        else:
            plane = None
            if control is not None:
                if token is None:
                    errors.print("cert: --control needs --token (or $NYQUESTRO_OPERATOR_TOKEN)")
                    return USAGE_STATUS
                plane = stack.enter_context(ControlClient(control, token))
            venue = ControlPlane(target, plane)
        out.print(f"[bold]{escape(pack.name)}[/] ({len(pack.scenarios)} scenarios)")
        observe = stack.enter_context(_progress(out, pack))
        result = Runner(pack, Dial(venue.fix_address), venue, observe).run()
    return _report(result, junit, html, out)


def serve_pack_command(
    pack_name: str, host: str, port: int, junit: Path | None, html: Path | None,
    out: Console, errors: Console,
) -> int:  # fmt: skip
    """Plays the venue's side of a pack for an engine under test that connects here."""
    try:
        pack = load_pack(find_pack(pack_name))
    except PackError as exc:
        errors.print(f"cert: {exc}", markup=False)
        return USAGE_STATUS
    try:
        listen = Listen(host, port)
    except OSError as exc:
        errors.print(f"cert: cannot listen on {host}:{port}: {exc.strerror}", markup=False)
        return USAGE_STATUS
    try:
        host, port = listen.address
        out.print(f"[bold]{escape(pack.name)}[/] ({len(pack.scenarios)} scenarios): "
                  f"point the engine under test at {host}:{port}")  # fmt: skip
        with _progress(out, pack) as observe:
            result = Runner(pack, listen, None, observe, accepting=True).run()
    finally:
        listen.close()
    return _report(result, junit, html, out)


def _progress(out: Console, pack: Pack) -> AbstractContextManager[Observer]:
    """The live view on a terminal. Anywhere else (a pipe, CI, captured output, a dumb
    terminal, TTY_INTERACTIVE=0) redrawing would leave every frame behind, so the steps
    come as plain lines."""
    if out.is_interactive:
        return LiveView(out, pack)
    return nullcontext(LiveReport(out))


def _report(result: PackResult, junit: Path | None, html: Path | None, out: Console) -> int:
    print_summary(out, result)
    if junit is not None:
        write(junit, junit_xml(result))
        out.print(f"JUnit XML: {junit}")
    if html is not None:
        write(html, html_report(result))
        out.print(f"HTML report: {html}")
    return 0 if result.passed else 1
