#!/usr/bin/env bash
# Benchmark: `dockerbump scan --json` on a generated repository at the real one's scale.
# Prints wall time, items/s and peak RSS for a cold scan (no scan cache) and a warm one.
#
#   tests/bench/bench_scan.sh [BUILD_DIR]     (default build/release, else build/dev)
# Environment: BENCH_PACKS (1200), BENCH_ITEMS (4500), BENCH_RUNS (5).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-}
[ -n "$build" ] || { [ -x "$top/build/release/dockerbump" ] && build=$top/build/release || build=$top/build/dev; }
bin=$build/dockerbump
[ -x "$bin" ] || { echo "no dockerbump in $build: cmake --preset release && cmake --build --preset release" >&2; exit 2; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME=$T/cache

python3 "$top/tests/bench/gen_content.py" "$T/repo" --packs "${BENCH_PACKS:-1200}" \
	--items "${BENCH_ITEMS:-4500}" --git -q
globs=(':(glob)Packs/*/Integrations/*.yml' ':(glob)Packs/*/Scripts/*.yml'
	':(glob)Packs/*/Integrations/*/*.yml' ':(glob)Packs/*/Scripts/*/*.yml')
items=$(cd "$T/repo" && git ls-files "${globs[@]}" | wc -l)
bytes=$(cd "$T/repo" && git ls-files -z "${globs[@]}" | xargs -0 cat | wc -c)
echo "repository: $items item YAMLs, $((bytes / 1024 / 1024)) MiB of YAML"

measure() { # measure LABEL ARGS...: best of BENCH_RUNS runs
	local label=$1 best= rss=0
	shift
	for _ in $(seq 1 "${BENCH_RUNS:-5}"); do
		[ "$label" = cold ] && rm -rf "$XDG_CACHE_HOME"
		/usr/bin/time -f '%e %U %S %M' -o "$T/time" "$bin" -C "$T/repo" -q "$@" >"$T/out" 2>/dev/null
		read -r wall user sys kb <"$T/time"
		if [ -z "$best" ] || awk "BEGIN{exit !($wall < $best)}"; then best=$wall cpu=$(awk "BEGIN{print $user + $sys}"); fi
		[ "$kb" -gt "$rss" ] && rss=$kb
	done
	python3 -c "import json,sys; d=json.load(open('$T/out')); assert len(d['items'])==$items, len(d['items'])"
	awk -v l="$label" -v w="$best" -v c="$cpu" -v n="$items" -v r="$rss" 'BEGIN{
		printf "%-5s wall %.3f s (cpu %.2f s)  %8.0f items/s  peak RSS %.1f MB\n", l, w, c, (w > 0 ? n / w : 0), r / 1024 }'
}
measure cold scan --offline --json
"$bin" -C "$T/repo" -q scan --offline --json >/dev/null 2>&1 # fill the cache
measure warm scan --offline --json
echo "targets: whole scan under 0.5 s and under 64 MB peak RSS"
