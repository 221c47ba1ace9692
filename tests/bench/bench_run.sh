#!/usr/bin/env bash
# Benchmark: `dockerbump run --verify off --no-push` on a generated repository at the real
# one's scale with every eligible item bumped, tags from the local Docker Hub stand-in with a
# warm tag cache. Prints wall time, peak RSS and the time of each step (from the run's log).
#
#   tests/bench/bench_run.sh [BUILD_DIR]     (default build/release, else build/dev)
# Environment: BENCH_PACKS (1200), BENCH_ITEMS (4500).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-}
[ -n "$build" ] || { [ -x "$top/build/release/dockerbump" ] && build=$top/build/release || build=$top/build/dev; }
bin=$build/dockerbump
[ -x "$bin" ] || { echo "no dockerbump in $build" >&2; exit 2; }
T=$(mktemp -d)
stub=
trap '[ -n "$stub" ] && kill "$stub" 2>/dev/null; rm -rf "$T"' EXIT
export XDG_CACHE_HOME=$T/cache

python3 "$top/tests/bench/gen_content.py" "$T/repo" --packs "${BENCH_PACKS:-1200}" \
	--items "${BENCH_ITEMS:-4500}" --git -q --manifest "$T/manifest.json"
python3 - "$T/manifest.json" "$T/tags.json" <<'PY'
import json, re, sys
m = json.load(open(sys.argv[1]))
tags = {}
for image, used in m["images"].items():
    numeric = [t for t in used if t and re.fullmatch(r"\d+(\.\d+)+", t)]
    best = max(numeric, key=lambda t: [int(x) for x in t.split(".")], default="1.0.0.1")
    p = best.split(".")
    names = sorted(set(t for t in used if t)) + [".".join(p[:-1] + [str(int(p[-1]) + 9000000)])]
    tags[image] = [{"name": n, "last_updated": "2026-01-01T00:00:00Z"} for n in names]
json.dump(tags, open(sys.argv[2], "w"))
PY
python3 "$top/tests/stubs/hubstub.py" --tags "$T/tags.json" --port-file "$T/port" --log "$T/hub.log" \
	--lifetime 600 >/dev/null 2>&1 &
stub=$!
for _ in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.1; done
args=(-C "$T/repo" run --verify off --no-push --registry-url "http://127.0.0.1:$(cat "$T/port")")

"$bin" -q "${args[@]}" --dry-run >/dev/null 2>&1 || true # warm the tag and scan caches
/usr/bin/time -f '%e %U %S %M' -o "$T/time" "$bin" "${args[@]}" --report "$T/report.json" >/dev/null 2>"$T/log" || {
	tail -20 "$T/log" >&2
	exit 1
}
read -r wall user sys kb <"$T/time"
bumped=$(python3 -c "import json; print(sum(i['status']=='bumped' for i in json.load(open('$T/report.json'))['items']))")
branches=$(git -C "$T/repo" for-each-ref refs/heads/dockerbump/ | wc -l)
echo "run --verify off --no-push: $bumped items bumped on $branches branches"
awk -v w="$wall" -v c="$(awk "BEGIN{print $user + $sys}")" -v r="$kb" \
	'BEGIN{printf "wall %.2f s (cpu %.2f s), peak RSS %.1f MB\n", w, c, r / 1024}'
grep '^time:' "$T/log"
echo "target: under 2 s and under 128 MB peak RSS"
