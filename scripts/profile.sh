#!/usr/bin/env bash
# A flamegraph of every process of a live venue under a FIX load, with py-spy:
#   scripts/profile.sh [--seconds 10] [--sessions 2] [--rate 0] [--out profiles] [--native]
# Starts the shipped venue on free ports in a temporary store, loads it, stops it, and
# prints where each process's flamegraph (an SVG) is. See benchmarks/profile_venue.py.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m benchmarks.profile_venue "$@"
