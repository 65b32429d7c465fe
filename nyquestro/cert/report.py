"""A run's results for people and for CI: step lines as they happen (rich), JUnit XML (one
testcase per scenario), and a one-page HTML report showing the messages of each failed
step."""

import html
from pathlib import Path
from xml.etree import ElementTree

from rich.console import Console
from rich.markup import escape

from nyquestro.cert.connection import Line
from nyquestro.cert.runner import PackResult, StepResult

_MARKS = {"passed": "[green]PASS[/]", "failed": "[bold red]FAIL[/]", "skipped": "[dim]SKIP[/]"}


class LiveReport:
    """Prints each step as it finishes, under its scenario's name."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._scenario: str | None = None

    def __call__(self, result: StepResult) -> None:
        if result.scenario != self._scenario:
            self._scenario = result.scenario
            self._console.print(f"\n[bold]{escape(result.scenario)}[/]")
        line = f"  {_MARKS[result.status]} {escape(result.step.name)}"
        if result.status == "failed":
            line += f"\n       [red]{escape(result.detail)}[/]"
        elif result.status == "passed":
            line += f" [dim]({escape(result.detail)}, {result.seconds:.2f} s)[/]"
        self._console.print(line, highlight=False)


def print_summary(console: Console, result: PackResult) -> None:
    counts = result.counts()
    failed = [s.scenario.name for s in result.scenarios if not s.passed]
    verdict = "[bold green]PASSED[/]" if result.passed else "[bold red]FAILED[/]"
    console.print(
        f"\n{verdict} {escape(result.pack.name)} against {result.target}: "
        f"{len(result.scenarios) - len(failed)}/{len(result.scenarios)} scenarios; steps "
        f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped"
    )
    for name in failed:
        console.print(f"  [red]failed:[/] {escape(name)}")


def junit_xml(result: PackResult) -> bytes:
    counts = {"tests": len(result.scenarios),
              "failures": sum(not s.passed for s in result.scenarios)}  # fmt: skip
    suite = ElementTree.Element(
        "testsuite",
        name=result.pack.name,
        tests=str(counts["tests"]),
        failures=str(counts["failures"]),
        errors="0",
        time=f"{sum(s.seconds for s in result.scenarios):.3f}",
    )
    ElementTree.SubElement(suite, "properties").append(
        ElementTree.Element("property", name="target", value=result.target)
    )
    for scenario in result.scenarios:
        case = ElementTree.SubElement(
            suite, "testcase", classname=result.pack.name, name=scenario.scenario.name,
            time=f"{scenario.seconds:.3f}",
        )  # fmt: skip
        steps = "\n".join(f"{s.status.upper():7} {s.step.name}: {s.detail}"
                          for s in scenario.steps)  # fmt: skip
        failure = next((s for s in scenario.steps if s.status == "failed"), None)
        if failure is not None:
            element = ElementTree.SubElement(
                case, "failure", message=f"{failure.step.name}: {failure.detail}",
                type="StepFailed",
            )  # fmt: skip
            element.text = steps + "\n\n" + _plain_exchange(failure.exchange)
        ElementTree.SubElement(case, "system-out").text = steps
    tree = ElementTree.ElementTree(suite)
    ElementTree.indent(tree)
    text: bytes = ElementTree.tostring(suite, encoding="utf-8", xml_declaration=True)
    return text


def _plain_exchange(lines: tuple[Line, ...]) -> str:
    arrows = {"sent": "->", "received": "<-", "note": "--"}
    return "\n".join(f"{line.at:9.3f} {line.client:>10} {arrows[line.direction]} {line.text}"
                     for line in lines)  # fmt: skip


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.5em; }
.passed { color: #1a7f37; } .failed { color: #cf222e; font-weight: bold; }
.skipped { color: #888; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; padding: 2px 8px; vertical-align: top; border-bottom: 1px solid #eee; }
pre { background: #f6f8fa; padding: 8px; overflow-x: auto; font-size: 0.85em; }
.sent { color: #0550ae; } .received { color: #6639ba; } .note { color: #888; }
"""


def html_report(result: PackResult) -> str:
    counts = result.counts()
    status = "passed" if result.passed else "failed"
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(result.pack.name)}: {status}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(result.pack.name)}: <span class='{status}'>{status.upper()}</span></h1>",
        f"<p>{html.escape(result.pack.description)}</p>",
        f"<p>Target {html.escape(result.target)}. Steps: {counts['passed']} passed, "
        f"{counts['failed']} failed, {counts['skipped']} skipped.</p>",
    ]
    for scenario in result.scenarios:
        mark = "passed" if scenario.passed else "failed"
        parts.append(f"<h2 class='{mark}'>{html.escape(scenario.scenario.name)}</h2><table>")
        for step in scenario.steps:
            parts.append(
                f"<tr><td class='{step.status}'>{step.status}</td>"
                f"<td>{html.escape(step.step.name)}</td><td>{html.escape(step.detail)}</td></tr>"
            )
        parts.append("</table>")
        for step in scenario.steps:
            if step.status == "failed":
                parts.append(f"<p>Messages during <b>{html.escape(step.step.name)}</b>:</p>")
                parts.append(_html_exchange(step.exchange))
    parts.append("</body></html>")
    return "\n".join(parts)


def _html_exchange(lines: tuple[Line, ...]) -> str:
    if not lines:
        return "<pre>(nothing crossed the wire)</pre>"
    arrows = {"sent": "&rarr;", "received": "&larr;", "note": "&middot;"}
    rows = [
        f"<span class='{line.direction}'>{line.at:9.3f} {html.escape(line.client):>10} "
        f"{arrows[line.direction]} {html.escape(line.text)}</span>"
        for line in lines
    ]
    return "<pre>" + "\n".join(rows) + "</pre>"


def write(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
