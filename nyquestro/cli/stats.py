"""`nyquestro stats [--config FILE] [--plot FILE.png]`: the order path's latency, stage by
stage, as the venue on this store measured it (runtime/latency.py): a table of count,
p50, p99, p99.9 and max; `--plot` draws each stage's percentile curve (matplotlib, the
`plot` extra)."""

from collections.abc import Mapping
from pathlib import Path

from hdrh.histogram import HdrHistogram
from rich.console import Console
from rich.table import Table

from nyquestro.cli.loading import CONFIG_ERROR_STATUS, load_or_report
from nyquestro.runtime.latency import LATENCY_FILE, read_latency, summary

_PLOTTED = (50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99)


def stats_command(
    path: Path | None, environ: Mapping[str, str], plot: Path | None, out: Console,
    errors: Console,
) -> int:  # fmt: skip
    config = load_or_report(path, environ, errors)
    if config is None:
        return CONFIG_ERROR_STATUS
    histograms = read_latency(config.store_dir)
    if histograms is None:
        errors.print(
            f"no latency figures in {config.store_dir / LATENCY_FILE}: the venue writes them "
            "every second while it runs with [metrics] in its config",
            markup=False,
        )
        return 1
    table = Table(title="The order path's latency (µs), FIX requests answered")
    for column in ("stage", "requests", "p50", "p99", "p99.9", "max"):
        table.add_column(column, justify="left" if column == "stage" else "right")
    for stage, histogram in histograms.items():
        table.add_row(stage, *(f"{figure:,}" for figure in summary(histogram)))
    out.print(table)
    if plot is not None:
        return _plot(histograms, plot, out, errors)
    return 0


def _plot(
    histograms: Mapping[str, HdrHistogram], target: Path, out: Console, errors: Console
) -> int:
    try:
        import matplotlib  # noqa: PLC0415 (an optional extra: only --plot needs it)

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        errors.print("--plot needs matplotlib: pip install -e '.[plot]'", markup=False)
        return 2
    figure, axes = plt.subplots(figsize=(9, 5))
    for stage, histogram in histograms.items():
        if histogram.get_total_count():
            values = [histogram.get_value_at_percentile(p) for p in _PLOTTED]
            axes.plot([str(p) for p in _PLOTTED], values, marker="o", label=stage)
    axes.set_xlabel("percentile")
    axes.set_ylabel("µs")
    axes.set_yscale("log")
    axes.set_title("Nyquestro: the order path's latency by stage")
    axes.legend()
    figure.tight_layout()
    try:
        figure.savefig(target)
    except OSError as exc:
        errors.print(f"--plot {target}: {exc.strerror}", markup=False)
        return 2
    out.print(f"plotted to {target}", markup=False)
    return 0
