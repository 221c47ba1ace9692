#!/usr/bin/env bash
# Benchmark: the scan beside its floor, in one run, on a generated repository at the real
# one's scale. The reference is libyaml's own event parse of every item blob (yaml_floor, read
# from the git objects first), on one core and divided by the cores; then a cold scan with the
# scan cache and without it, a warm one, and a scan of one item of 100k nested `[` (issue 13),
# each with its wall time, CPU time, peak RSS and ratios: wall time to the reference, CPU time
# to libyaml's on one core. Best of BENCH_RUNS.
#
#   tests/bench/bench_scan.sh [BUILD_DIR]     (default build/release, else build/dev)
# Environment: BENCH_RUNS (5), and those of lib.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init "$@"
bench_repo
runs=${BENCH_RUNS:-5}
cores=$(nproc)

items=$(bench_items | tr -cd '\0' | wc -c)
bytes=$(cd "$repo" && bench_items | xargs -0 cat | wc -c)
printf 'repository: %d item YAMLs, %.1f MiB of YAML\n' "$items" "$(awk "BEGIN{print $bytes / 1048576}")"

# The floor: fields "key value ..." of yaml_floor's one line become f_key=value.
eval "$("$floor" "$repo" "$runs" "$cores" | awk '{for (i = 1; i < NF; i += 2) printf "f_%s=%s\n", $i, $(i + 1)}')"
ref=$(awk "BEGIN{print $f_parse1_s / $cores}")
[ "$f_blobs" = "$items" ] || echo "warning: yaml_floor read $f_blobs blobs, the scan lists $items" >&2
printf '%-38s %6.3f s  %5.0f MB/s          (yaml_floor)\n' "libyaml event parse, 1 core" "$f_parse1_s" \
	"$(awk "BEGIN{print $f_bytes / 1e6 / $f_parse1_s}")"
printf '%-38s %6.3f s                      = the reference\n' "libyaml event parse / $cores cores" "$ref"
printf '%-38s %6.3f s                      %s x reference\n' "libyaml event parse on $cores threads" \
	"$f_parseT_s" "$(ratio "$f_parseT_s" "$ref")"
printf '%-38s %6.3f s                      (read before the parse above)\n' \
	"blob reads (libgit2, 1 thread)" "$f_read_s"

# The wall time against the reference, and the CPU time against libyaml's own CPU time on one
# core: the second holds on a busy machine, where the wall times of both move with the load.
line() { # line LABEL: the last bench_measure
	printf '%-38s %6.3f s  cpu %5.2f s  RSS %4d MB  %s x reference, cpu %s x libyaml\n' "$1" \
		"$wall" "$cpu" "$rss" "$(ratio "$wall" "$ref")" "$(ratio "$cpu" "$f_parse1_cpu_s")"
}
bench_measure "$runs" --before 'rm -rf "$XDG_CACHE_HOME"' "$bin" -C "$repo" -q scan --offline --json
cold=$wall
line "scan, cold, scan cache on"
bench_measure "$runs" --before 'rm -rf "$XDG_CACHE_HOME"' "$bin" -C "$repo" -q scan --offline --json --no-cache
line "scan, cold, --no-cache"
printf '%-38s %s\n' "  scan cache on / --no-cache" "$(ratio "$cold" "$wall")"
printf '%-38s %s\n' "  cold / libyaml on $cores threads" "$(ratio "$wall" "$f_parseT_s") (both measured now, under the same load)"
"$bin" -C "$repo" -q scan --offline --json >"$T/out" 2>/dev/null # fill the cache, keep the output
python3 -c "import json,sys; d=json.load(open('$T/out')); assert len(d['items'])==$items, len(d['items'])"
bench_measure "$runs" "$bin" -C "$repo" -q scan --offline --json
line "scan, warm"

# Issue 13: one item of 100k nested [ took 23 s to scan.
git init -q "$T/deep"
mkdir -p "$T/deep/Packs/Deep/Scripts/D"
python3 -c "print('dockerimage: demisto/python3:3.10.13.1\nx: ' + '[' * 100000)" >"$T/deep/Packs/Deep/Scripts/D/D.yml"
git -C "$T/deep" add -A && git -C "$T/deep" -c user.name=b -c user.email=b@b commit -qm deep
bench_measure 3 "$bin" -C "$T/deep" -q scan --offline --json --no-cache
printf '%-38s %6.3f s  cpu %5.2f s  (issue 13: 23 s)\n' "scan, one item of 100k nested [" "$wall" "$cpu"
"$bin" -C "$T/deep" -q scan --offline --json --no-cache 2>/dev/null | grep -q 'nesting deeper than' ||
	echo "warning: the 100k-deep item was not refused for its nesting" >&2

echo "before (issue 12): cold scan 0.43 s wall / 0.66 s CPU, with the cache slower than without;" \
	"libyaml alone 0.39 s on one core"
echo "target: a cold scan at most 1.2 x the reference"
