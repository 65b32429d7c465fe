"""Which build of the engine core runs: compiled only when it matches its sources.

The scenarios run `import nyquestro` in a fresh interpreter over a copy of the package's
sources, with stand-in extension files (empty: the check runs before any is loaded, and
the pure-mode finder must never load one).
"""

import ast
import hashlib
import importlib.machinery
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import nyquestro
from nyquestro import declared_hints
from nyquestro.codec.jsonl import COMMAND_TYPES
from nyquestro.domain.commands import Configure, NewOrder
from nyquestro.domain.enums import PegType
from nyquestro.domain.events import Accepted, EventBase
from nyquestro.domain.ids import Px
from nyquestro.domain.instrument import Instrument
from nyquestro.engine import engine

PACKAGE = Path(nyquestro.__file__).parent
SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]
COMPILED = ("domain/events.py", "engine/book.py")


def _copy_sources(root: Path) -> Path:
    target = root / "nyquestro"
    target.mkdir()
    shutil.copy(PACKAGE / "__init__.py", target)
    for name in nyquestro.COMPILED_PACKAGES:
        shutil.copytree(PACKAGE / name, target / name, ignore=shutil.ignore_patterns("*.so"))
    return target


def _fake_build(package: Path, sources: tuple[str, ...] = COMPILED) -> None:
    digests = {}
    for name in sources:
        digests[name] = hashlib.sha256((package / name).read_bytes()).hexdigest()
        (package / name).with_suffix(SUFFIX).write_bytes(b"")
    (package / "_build.json").write_text(json.dumps({"kind": "compiled", "sources": digests}))


def _run(root: Path, code: str, pure: bool = False) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "NYQUESTRO_PURE"}
    if pure:
        env["NYQUESTRO_PURE"] = "1"
    env["PYTHONPATH"] = str(root)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_setup_compiles_the_packages_the_import_checks() -> None:
    """setup.py cannot import the package it builds, so it keeps its own list."""
    tree = ast.parse((PACKAGE.parent / "setup.py").read_text())
    (listed,) = [
        ast.literal_eval(node.value) for node in tree.body
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "COMPILED_PACKAGES"
    ]  # fmt: skip
    assert listed == nyquestro.COMPILED_PACKAGES


def test_a_build_matching_its_sources_is_the_compiled_one(tmp_path: Path) -> None:
    _fake_build(_copy_sources(tmp_path))
    result = _run(tmp_path, "import nyquestro; print(nyquestro.BUILD_KIND)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "compiled"


def test_an_edited_source_refuses_the_stale_build_and_says_what_to_run(tmp_path: Path) -> None:
    package = _copy_sources(tmp_path)
    _fake_build(package)
    with (package / "engine/book.py").open("a") as source:
        source.write("# an edit after the build\n")
    result = _run(tmp_path, "import nyquestro")
    assert result.returncode != 0
    assert "StaleBuild" in result.stderr
    assert "engine/book.py" in result.stderr and "domain/events.py" not in result.stderr
    assert "pip install -e ." in result.stderr and "NYQUESTRO_PURE=1" in result.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("no-manifest", "no readable build manifest"),
        ("removed-module", "lacks engine/book.py"),
        ("unrecorded-module", "engine/order.py are not in the build manifest"),
    ],
)
def test_extension_files_that_do_not_match_the_manifest_are_refused(
    tmp_path: Path, change: str, message: str
) -> None:
    package = _copy_sources(tmp_path)
    _fake_build(package)
    if change == "no-manifest":
        (package / "_build.json").unlink()
    elif change == "removed-module":
        (package / "engine/book.py").with_suffix(SUFFIX).unlink()
    else:
        (package / "engine/order.py").with_suffix(SUFFIX).write_bytes(b"")
    result = _run(tmp_path, "import nyquestro")
    assert result.returncode != 0
    assert message in result.stderr


def test_pure_mode_imports_the_sources_even_beside_a_stale_build(tmp_path: Path) -> None:
    package = _copy_sources(tmp_path)
    _fake_build(package)
    with (package / "domain/events.py").open("a") as source:
        source.write("EDITED = True\n")
    code = (
        "import nyquestro, nyquestro.domain.events as events, nyquestro.engine.book as book; "
        "print(nyquestro.BUILD_KIND, events.EDITED, events.__file__, book.__file__)"
    )
    result = _run(tmp_path, code, pure=True)
    assert result.returncode == 0, result.stderr
    kind, edited, events_file, book_file = result.stdout.split()
    assert (kind, edited) == ("pure", "True")
    assert events_file.endswith("domain/events.py") and book_file.endswith("engine/book.py")


def test_sources_without_any_build_run_pure(tmp_path: Path) -> None:
    _copy_sources(tmp_path)
    result = _run(tmp_path, "import nyquestro, nyquestro.engine; print(nyquestro.BUILD_KIND)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "pure"


def test_this_process_runs_the_build_it_reports() -> None:
    # The compiled engine module is an extension file, the pure one its source.
    running_compiled = not engine.__file__.endswith(".py")
    assert running_compiled == (nyquestro.BUILD_KIND == "compiled")
    assert (os.environ.get("NYQUESTRO_PURE") == "1") <= (nyquestro.BUILD_KIND == "pure")


def _subclasses(cls: type) -> list[type]:
    return [cls, *(sub for child in cls.__subclasses__() for sub in _subclasses(child))]


def test_declared_hints_are_the_sources_in_either_build() -> None:
    # A compiled class's own annotations lose every union and generic to `type`; the
    # journal and JSON codecs convert fields by these hints.
    assert declared_hints(NewOrder)["peg"] == PegType | None
    assert declared_hints(Accepted)["px"] == Px | None
    assert declared_hints(Configure)["instruments"] == tuple[Instrument, ...]
    for cls in [*COMMAND_TYPES.values(), *_subclasses(EventBase)]:
        assert type not in declared_hints(cls).values(), cls
