"""Build of the compiled engine core; all other metadata lives in pyproject.toml.

`pip install .` and `pip install -e .` compile `nyquestro/domain`, `nyquestro/engine`,
`nyquestro/codec` and `nyquestro/gateways/itch` with mypyc (the mypy pinned in pyproject's
build requirements) and write `nyquestro/_build.json`, the SHA-256 of every source
compiled. At import the package compares that manifest with the sources and refuses to
load a core built from other sources (see `nyquestro/__init__.py`): an editable install
would otherwise keep running the old `.so` after an edit to its `.py`.

`NYQUESTRO_PURE=1 pip install -e .` builds nothing and deletes what an earlier compiled
build left in the source tree, so the package imports its `.py` files.
"""

import hashlib
import importlib.machinery
import json
import os
from pathlib import Path

from setuptools import setup

PACKAGE = Path("nyquestro")
# The same list as nyquestro.COMPILED_PACKAGES (a test checks): this file cannot import
# the package it builds.
COMPILED_PACKAGES = ("domain", "engine", "gateways/itch", "codec")
MANIFEST = PACKAGE / "_build.json"
# The mypyc runtime shared by all compiled modules, as an extension inside the package
# (a top-level one would be outside what an editable install maps onto the checkout).
GROUP = "nyquestro._core"


def compiled_sources() -> list[Path]:
    # The packages' __init__ files stay interpreted: mypyc derives a compiled package's
    # __path__ from where the shared runtime lies, which is wrong for a runtime inside
    # the package, and they only re-export names.
    return sorted(
        path
        for name in COMPILED_PACKAGES
        for path in (PACKAGE / name).glob("*.py")
        if path.name != "__init__.py"
    )


def remove_compiled_artifacts() -> None:
    """Every extension module an earlier compiled build left next to the sources."""
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        for name in COMPILED_PACKAGES:
            for path in (PACKAGE / name).glob(f"*{suffix}"):
                path.unlink()
        for path in PACKAGE.glob(f"_core__mypyc*{suffix}"):
            path.unlink()
    MANIFEST.unlink(missing_ok=True)


def write_manifest(sources: list[Path]) -> None:
    import mypy.version  # noqa: PLC0415  (only compiled builds need mypy)

    digests = {
        path.relative_to(PACKAGE).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sources
    }
    manifest = {"kind": "compiled", "mypy": mypy.version.__version__, "sources": digests}
    MANIFEST.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


def extensions() -> list[object]:
    # Whatever an earlier build left goes first, so that a renamed or deleted module's
    # extension cannot outlive its source.
    remove_compiled_artifacts()
    if os.environ.get("NYQUESTRO_PURE") == "1":
        return []
    from mypyc.build import mypycify  # noqa: PLC0415  (pure builds must not need mypyc)

    sources = compiled_sources()
    # Asserts stay: the engine asserts its invariants, and they narrow types for mypy.
    modules = mypycify([str(path) for path in sources], group_name=GROUP, opt_level="3")
    write_manifest(sources)
    return list(modules)


setup(ext_modules=extensions())
