#!/usr/bin/env bash
# The speed benchmark of issue 12, every figure in one run: the machine, the scan beside
# libyaml's own parse (bench_scan.sh) and the run of the whole plan (bench_run.sh), on one
# generated repository at the real one's scale (tests/bench/gen_content.py, 1,200 packs,
# 4,500 items). Numbers only, and ratios to references measured in the same run; it judges
# nothing.
#
#   tests/bench/bench_speed.sh [--quick] [BUILD_DIR]
#
# BUILD_DIR defaults to build/release (built when missing), which is what the figures are
# for. --quick uses the small generated repository and one run of each measure: a check that
# every script still runs (ctest runs it so), not a measurement.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
if [ "${1:-}" = --quick ]; then
	shift
	export BENCH_SMALL=1 BENCH_RUNS=1
fi
build=${1:-${BENCH_BUILD:-$top/build/release}}
if [ ! -x "$build/dockerbump" ] && [ "$build" = "$top/build/release" ]; then
	(cd "$top" && cmake --preset release >/dev/null && cmake --build --preset release -j "$(nproc)" >/dev/null)
fi
export BENCH_BUILD=$build
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

echo "== machine"
echo "cores: $(nproc); cpu: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo);" \
	"load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "build: $build ($(grep -m1 CMAKE_BUILD_TYPE: "$build/CMakeCache.txt" 2>/dev/null | cut -d= -f2))"

echo "== repository"
size=(--packs "${BENCH_PACKS:-1200}" --items "${BENCH_ITEMS:-4500}")
[ "${BENCH_SMALL:-0}" = 1 ] && size=(--small)
python3 "$here/gen_content.py" "$T/repo" "${size[@]}" --git -q --manifest "$T/manifest.json"
export BENCH_REPO=$T/repo BENCH_MANIFEST=$T/manifest.json
echo "generated: ${size[*]}"

echo "== scan (bench_scan.sh)"
"$here/bench_scan.sh"
echo "== run (bench_run.sh)"
"$here/bench_run.sh"
echo "== load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (a busy machine slows the wall times, not the CPU times)"
