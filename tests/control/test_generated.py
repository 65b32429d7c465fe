"""The checked-in control-plane modules are what `control.proto` generates today: a proto
edited without `python -m nyquestro.control.generate` fails here, not in a client."""

from pathlib import Path

import pytest

from nyquestro.control import generate


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("generated")
    generate.generate(out)
    return out / "nyquestro" / "control"


@pytest.mark.parametrize("name", generate.GENERATED)
def test_the_generated_module_is_current(name: str, fresh: Path) -> None:
    generated = (fresh / name).read_bytes()
    checked_in = (generate.ROOT / "nyquestro" / "control" / name).read_bytes()
    assert generated == checked_in, (
        f"nyquestro/control/{name} is stale: run python -m nyquestro.control.generate"
    )
