"""Nyquestro: a deterministic FIX exchange simulator.

Gateways translate, the engine decides, the journal remembers.

The engine core (`nyquestro.domain`, `nyquestro.engine`), the codecs (`nyquestro.codec`)
and the ITCH feed (`nyquestro.gateways.itch`) are compiled with mypyc by `pip install`
(see setup.py).
Importing this package decides which build runs:

- `NYQUESTRO_PURE=1` in the environment: the `.py` sources, whatever is built;
- else, if a compiled core is present, it, but only when the source manifest written at
  build time matches the sources on disk: otherwise `StaleBuild` is raised, because an
  edit to a `.py` would silently not run;
- else (a checkout nobody built, or `NYQUESTRO_PURE=1 pip install -e .`) the sources.

`BUILD_KIND` says which ("compiled" or "pure"); snapshots record it, since pickles of
compiled and of interpreted classes do not load into each other.
"""

import ast
import functools
import hashlib
import importlib.machinery
import importlib.util
import json
import os
import sys
import typing
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType
from typing import Any

__version__ = "0.1.0"

_HERE = Path(__file__).resolve().parent
COMPILED_PACKAGES = ("domain", "engine", "gateways/itch", "codec")
"""What mypyc compiles, as paths under the package (setup.py lists the same)."""
_MANIFEST = _HERE / "_build.json"
_REBUILD = (
    "rebuild it with `.venv/bin/python -m pip install -e .`, "
    "or run the sources with NYQUESTRO_PURE=1 in the environment"
)


class StaleBuild(ImportError):
    """The compiled engine core does not match the sources next to it."""


class _PureSources:
    """Meta-path finder that loads the compiled packages from their `.py` files.

    The default path finder prefers an extension module to a source file of the same
    name, so without this a built `.so` would always win.
    """

    @classmethod
    def find_spec(
        cls,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        parts = fullname.split(".")
        if not _in_compiled_package(parts):
            return None
        for entry in path or ():
            module = Path(entry) / f"{parts[-1]}.py"
            if module.is_file():
                return importlib.util.spec_from_file_location(fullname, module)
        return None


def _in_compiled_package(parts: list[str]) -> bool:
    """Whether the module named by `parts` (a dotted name, split) is one mypyc compiles."""
    return parts[0] == __name__ and "/".join(parts[1:-1]) in COMPILED_PACKAGES


def _compiled_modules() -> set[str]:
    """The compiled modules present, as paths like 'engine/book.py' of their sources."""
    found = set()
    for name in COMPILED_PACKAGES:
        for path in (_HERE / name).iterdir():
            # The most specific suffix comes first ('.cpython-311-x86_64-linux-gnu.so'
            # before '.so'): the module name is what precedes the first that matches.
            for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                if path.name.endswith(suffix):
                    found.add(f"{name}/{path.name.removesuffix(suffix)}.py")
                    break
    return found


def _stale_sources(recorded: dict[str, str]) -> list[str]:
    stale = []
    for name, digest in sorted(recorded.items()):
        source = _HERE / name
        if not source.is_file() or hashlib.sha256(source.read_bytes()).hexdigest() != digest:
            stale.append(name)
    return stale


def _choose_build() -> str:
    if os.environ.get("NYQUESTRO_PURE") == "1":
        sys.meta_path.insert(0, _PureSources)
        return "pure"
    compiled = _compiled_modules()
    if not compiled:
        return "pure"
    try:
        recorded: dict[str, str] = json.loads(_MANIFEST.read_text())["sources"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StaleBuild(
            f"the compiled engine core in {_HERE} has no readable build manifest "
            f"({_MANIFEST.name}: {exc}); {_REBUILD}"
        ) from None
    stale = _stale_sources(recorded)
    if stale:
        raise StaleBuild(
            f"the compiled engine core in {_HERE} was built from other sources than "
            f"{', '.join(stale)}; {_REBUILD}"
        )
    missing = sorted(set(recorded) - compiled)
    if missing:
        raise StaleBuild(f"the compiled engine core lacks {', '.join(missing)}; {_REBUILD}")
    # A module renamed or removed since the build would still import from its `.so`.
    unrecorded = sorted(compiled - set(recorded))
    if unrecorded:
        raise StaleBuild(
            f"compiled modules {', '.join(unrecorded)} are not in the build manifest; {_REBUILD}"
        )
    return "compiled"


BUILD_KIND = _choose_build()


def declared_hints(cls: type) -> dict[str, Any]:
    """`typing.get_type_hints(cls)` as the source declares them, in either build.

    mypyc keeps a compiled class's plain annotations but replaces the others (`Px | None`,
    `tuple[str, ...]`) by `type`, and the codecs read them to convert fields. For a
    compiled class each annotation is therefore read from its module's source and
    evaluated in the compiled module's namespace, so the hints name the very classes
    the compiled module holds.
    """
    if BUILD_KIND == "pure":
        return typing.get_type_hints(cls)
    hints: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if _in_compiled_package(klass.__module__.split(".")):
            hints.update(_source_annotations(klass))
        elif klass is not object:
            hints.update(typing.get_type_hints(klass))
    return hints


@functools.cache
def _source_annotations(klass: type) -> dict[str, Any]:
    source = _HERE.joinpath(*klass.__module__.split(".")[1:]).with_suffix(".py")
    body = next(
        node.body
        for node in ast.parse(source.read_text()).body
        if isinstance(node, ast.ClassDef) and node.name == klass.__name__
    )
    namespace = vars(sys.modules[klass.__module__])
    annotations: dict[str, Any] = {}
    for statement in body:
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            # Our own source text, in its own module's namespace, as Python evaluates it.
            value = eval(ast.unparse(statement.annotation), namespace)
            if isinstance(value, str):  # a forward reference, such as "Settings"
                value = eval(value, namespace)
            annotations[statement.target.id] = value
    return annotations
