#!/usr/bin/env bash
# Hardware counters (cycles, instructions, cache references and misses) of a running
# venue's processes, where this machine lets `perf stat` read them:
#   scripts/perfstat.sh PID [PID...] [-- SECONDS]
# PIDs: the venue's processes (`nyquestro serve`'s log names each: "core process started
# (pid N)", "fix process started (pid N)", ...). SECONDS: how long to count (default 10);
# run a load meanwhile (benchmarks/fix_bench.py, or scripts/profile.sh's).
# Says plainly, and exits 2, when perf is missing or the kernel or the VM keeps the
# counters from it.
set -euo pipefail

pids=()
seconds=10
while [ "$#" -gt 0 ]; do
    if [ "$1" = "--" ]; then
        seconds="${2:-10}"
        break
    fi
    pids+=("$1")
    shift
done
if [ "${#pids[@]}" -eq 0 ]; then
    echo "usage: scripts/perfstat.sh PID [PID...] [-- SECONDS]" >&2
    exit 2
fi
for pid in "${pids[@]}"; do
    if ! kill -0 "$pid" 2> /dev/null; then
        echo "no process $pid (or not ours to watch)" >&2
        exit 2
    fi
done
if ! command -v perf > /dev/null; then
    echo "perf is not installed here (Debian: apt-get install linux-perf): no hardware counters" >&2
    exit 2
fi
paranoid=$(cat /proc/sys/kernel/perf_event_paranoid 2> /dev/null || echo unknown)
if [ "$(id -u)" -ne 0 ] && [ "$paranoid" != "unknown" ] && [ "$paranoid" -gt 1 ]; then
    echo "kernel.perf_event_paranoid is $paranoid: only root may count another process's" \
        "events here (sudo, or sysctl kernel.perf_event_paranoid=1)" >&2
    exit 2
fi

events=cycles,instructions,cache-references,cache-misses,task-clock,context-switches
list=$(IFS=,; echo "${pids[*]}")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if ! perf stat -e "$events" -p "$list" --per-thread -o "$out" -- sleep "$seconds" 2> /dev/null; then
    echo "perf stat failed on pids $list: $(tail -n 3 "$out" 2> /dev/null)" >&2
    exit 2
fi
cat "$out"
if grep -q "<not supported>" "$out"; then
    echo >&2
    echo "<not supported>: this machine does not let perf read that counter (a VM often" \
        "hides the CPU's performance counters); the software counters (task-clock," \
        "context-switches) still count" >&2
fi
if grep -q "<not counted>" "$out"; then
    echo "<not counted>: that thread did not run while perf counted" >&2
fi
