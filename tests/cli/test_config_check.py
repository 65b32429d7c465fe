"""`nyquestro config check` through the real entry point, environment overrides included."""

import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "nyquestro.toml"


def config_check(*args: str, **environ: str) -> subprocess.CompletedProcess[str]:
    # Only the variables a test gives: the suite's own environment must not leak in.
    env = {name: value for name, value in os.environ.items() if not name.startswith("NYQUESTRO_")}
    return subprocess.run(
        [sys.executable, "-m", "nyquestro", "config", "check", *args],
        capture_output=True, text=True, check=False, timeout=60, env={**env, **environ},
    )  # fmt: skip


def test_the_example_config_checks_clean() -> None:
    result = config_check("--config", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    assert f"{EXAMPLE}: OK: FIX NYQUESTRO on port 9878, 4 sessions" in result.stdout
    assert "2 instruments, 1 accounts with risk limits" in result.stdout
    assert result.stdout.rstrip().endswith("environment overrides: none")


def test_environment_overrides_apply_and_are_listed() -> None:
    result = config_check(
        "--config",
        str(EXAMPLE),
        NYQUESTRO_FIX__PORT="9999",
        NYQUESTRO_STORE__DB="postgresql+psycopg://postgres:secret@127.0.0.1/test",
        NYQUESTRO_CRASH_SEED="1",
    )
    assert result.returncode == 0, result.stderr
    assert "on port 9999" in result.stdout
    assert "journal postgresql+psycopg://postgres:***@127.0.0.1/test (group)" in result.stdout
    assert "secret" not in result.stdout
    assert "overrides: NYQUESTRO_FIX__PORT, NYQUESTRO_STORE__DB" in result.stdout


def test_without_config_the_shipped_venue_is_checked_with_overrides() -> None:
    result = config_check(NYQUESTRO_FIX__COMP_ID="VENUE2")
    assert result.returncode == 0, result.stderr
    assert "default venue: OK: FIX VENUE2 on port 9878, 8 sessions" in result.stdout


def test_a_bad_override_exits_2_naming_the_variable_value_and_expectation() -> None:
    result = config_check("--config", str(EXAMPLE), NYQUESTRO_FIX__PORT="70000")
    assert result.returncode == 2
    assert result.stdout == ""
    assert (
        "configuration error: fix.port (from NYQUESTRO_FIX__PORT): 70000 is not valid; "
        "expected an integer port number between 1 and 65535"
    ) in result.stderr


def test_a_misspelt_variable_exits_2() -> None:
    result = config_check("--config", str(EXAMPLE), NYQUESTRO_FIX_PORT="9999")
    assert result.returncode == 2
    assert "NYQUESTRO_FIX_PORT: '9999' is not valid; expected path segments" in result.stderr


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    result = config_check("--config", str(tmp_path / "absent.toml"))
    assert result.returncode == 2
    assert "absent.toml" in result.stderr and "a readable TOML file" in result.stderr
