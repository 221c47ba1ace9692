#!/usr/bin/env bash
# Benchmark: `dockerbump run --verify off --no-push` of the whole plan on a generated
# repository at the real one's scale: every eligible item bumped (about 3,700 items on 300
# branches), tags from the local Docker Hub stand-in with a warm tag cache. Prints the dry run
# (it warms the caches) and the run with wall time, CPU time and peak RSS, the time of each
# step from the run's log line "time: scan ..., commit ...", and the objects it wrote.
#
#   tests/bench/bench_run.sh [BUILD_DIR]     (default build/release, else build/dev)
# Environment: BENCH_RUNS (3; each run on a fresh copy of the repository), and those of lib.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init "$@"
bench_repo
bench_start_hub
runs=${BENCH_RUNS:-3}
args=(run --verify off --no-push --registry-url "$hub")

# The dry run writes nothing; it fills the tag and scan caches for the runs below.
bench_measure 1 "$bin" -C "$repo" "${args[@]}" --dry-run
printf '%-34s %6.2f s  cpu %5.2f s  RSS %4d MB\n' "run --dry-run (cold caches)" "$wall" "$cpu" "$rss"
bench_measure "$runs" "$bin" -C "$repo" "${args[@]}" --dry-run
printf '%-34s %6.2f s  cpu %5.2f s  RSS %4d MB\n' "run --dry-run (warm caches)" "$wall" "$cpu" "$rss"

# Each run commits onto a fresh copy, so that every one builds all the branches.
fresh='rm -rf "$T/work" && cp -a "$repo" "$T/work"'
bench_measure "$runs" --before "$fresh" "$bin" -C "$T/work" "${args[@]}" --report "$T/report.json"
[ "$status" = 0 ] || {
	tail -20 "$T/stderr.best" >&2
	exit 1
}
printf '%-34s %6.2f s  cpu %5.2f s  RSS %4d MB  (median %.2f s)\n' "run --verify off --no-push" \
	"$wall" "$cpu" "$rss" "$median"
# The steps of the fastest run, and what the last one wrote.
grep '^time:' "$T/stderr.best" | sed 's/^/  fastest run: /' || echo "  (no 'time:' line in the log)"
bumped=$(python3 -c "import json; print(sum(i['status']=='bumped' for i in json.load(open('$T/report.json'))['items']))")
branches=$(git -C "$T/work" for-each-ref refs/heads/dockerbump/ | wc -l)
objects=$(git -C "$T/work" count-objects -v | awk '/^count:/ {l=$2} /^packs:/ {p=$2} END {print l " loose objects, " p " packs"}')
echo "  $bumped items bumped on $branches branches; the repository now has $objects"
echo "  ratio to the target (1.5 s): $(ratio "$wall" 1.5)"
echo "before (issue 12): commit of ~300 branches 2.2-3.6 s (loose objects and trees one by one)"

# A scheduled night with nothing new: the branches are committed already and the caches warm.
# Within the tag cache's TTL no registry request is made; past it (ttl_s: 0), one per image.
images=$(python3 -c "import json; print(len(json.load(open('$T/report.json'))['images']))")
reqs() { [ -f "$T/hub.log" ] && wc -l <"$T/hub.log" || echo 0; }
before=$(reqs)
bench_measure "$runs" "$bin" -C "$T/work" "${args[@]}"
printf '%-34s %6.2f s  cpu %5.2f s  RSS %4d MB  %s registry requests for %s images\n' \
	"run, nothing new (within the TTL)" "$wall" "$cpu" "$rss" "$(( ($(reqs) - before) / runs ))" "$images"
grep -q 'up to date: nothing written' "$T/stderr.best" || echo "  (the run wrote something: $(grep '^run' "$T/stderr.best"))"
printf 'cache: {ttl_s: 0}\n' >"$T/ttl0.yml"
before=$(reqs)
bench_measure "$runs" "$bin" -C "$T/work" -c "$T/ttl0.yml" "${args[@]}"
printf '%-34s %6.2f s  cpu %5.2f s  RSS %4d MB  %s registry requests for %s images\n' \
	"run, nothing new (TTL expired)" "$wall" "$cpu" "$rss" "$(( ($(reqs) - before) / runs ))" "$images"
echo "  ratio to the target (0.3 s): $(ratio "$wall" 0.3); target: at most 1 request per image"
