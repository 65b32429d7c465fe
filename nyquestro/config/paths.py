"""Where the repository's non-Python parts live: beside the package (editable install)."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SESSIONS_DIR = PROJECT_ROOT / "sessions"
FIXSPEC_DIR = PROJECT_ROOT / "fixspec"
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
DEFAULT_URL = "sqlite:///var/nyquestro.db"
"""The store of the shipped venue (`[store] dir` var), for commands given no --db."""
