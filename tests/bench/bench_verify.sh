#!/usr/bin/env bash
# Benchmark of verification on real content (issue 10): the real CommonServerPython and
# demistomock of the shared corpus and ITEMS generated items that use them
# (tests/gen/verify_content.py), verified at the load level in an identical rebuild of the
# real-content image against the image itself (a good new image), warm images, the default
# two jobs. Prints:
#   - wall time for ITEMS/5 and ITEMS items, and the slope between them per item;
#   - the loop's own clock per item run inside the container, beside a bare
#     `python3 -c pass` in the same image, as a ratio;
#   - containers started, pulls, and old-image runs (0: the new image is good);
#   - the wall time of a 3,400-item bump extrapolated from the slope.
#
#   tests/bench/bench_verify.sh [ITEMS]        (default 500)
#
# Environment: DOCKERBUMP (the binary; default build/dev/dockerbump), DOCKERBUMP_SHARED (the
# shared folder with corpus/verify-real; default ../shared), the image variables of
# tests/images/build.sh. Needs a running docker engine and root for the image builder.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
n=${1:-500}
m=$((n / 5))
bin=${DOCKERBUMP:-$top/build/dev/dockerbump}
corpus=${DOCKERBUMP_SHARED:-$top/../shared}/corpus/verify-real
REAL=${DOCKERBUMP_TEST_IMAGE_REAL:-demisto/python3:3.11.2.200001}
REBUILD=${DOCKERBUMP_TEST_IMAGE_REAL_REBUILD:-demisto/python3:3.11.2.200002}
py=/usr/bin/python3
[ -x "$py" ] || py=python3

[ -x "$bin" ] || { echo "bench: build first ($bin is missing)" >&2; exit 1; }
[ -d "$corpus/Packs" ] || { echo "bench: no real-content corpus at $corpus" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "bench: no docker engine answers" >&2; exit 1; }
[ $((n % 20)) = 0 ] && [ "$n" -ge 100 ] || { echo "bench: ITEMS is a multiple of 20, at least 100" >&2; exit 2; }
bash "$top/tests/images/build.sh" real real-rebuild

T=$(mktemp -d "${TMPDIR:-/tmp}/dockerbump-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
"$py" "$top/tests/gen/verify_content.py" "$corpus" "$T/repo" --items "$n" --image "$REAL"

ms() { date +%s%3N; }
# run NAME PACKS...: a fresh verification of those packs; wall time in $T/NAME.ms.
run() {
	local name=$1 t0 t1
	shift
	export XDG_CACHE_HOME=$T/cache-$name
	t0=$(ms)
	"$bin" -q -C "$T/repo" verify --image "$REBUILD" --old-image "$REAL" --json "$@" \
		>"$T/$name.json"
	t1=$(ms)
	echo $((t1 - t0)) >"$T/$name.ms"
}
packs() { # packs COUNT: the first COUNT/20 generated packs
	local i
	for ((i = 1; i <= $1 / 20; i++)); do printf 'Packs/GenPack%02d ' "$i"; done
}

echo "bench: $n generated items on the real CommonServerPython ($(wc -c <"$corpus/Packs/Base/Scripts/CommonServerPython/CommonServerPython.py") bytes), $(nproc) cores" >&2
# shellcheck disable=SC2046 # one argument per pack
run small $(packs "$m")
# shellcheck disable=SC2046
run full $(packs "$n")

# A bare interpreter in the same image: the floor of any fresh-process design.
bare=$(docker run --rm --network none --entrypoint python3 "$REBUILD" -c '
import subprocess, time
for _ in range(3):
    subprocess.run(["python3", "-c", "pass"])
t = time.time()
for _ in range(40):
    subprocess.run(["python3", "-c", "pass"])
print("%.1f" % ((time.time() - t) / 40 * 1000))')

"$py" - "$n" "$m" "$(cat "$T/small.ms")" "$(cat "$T/full.ms")" "$bare" "$T/full.json" <<'PY'
import json, sys
n, m, small, full = (int(x) for x in sys.argv[1:5])
bare = float(sys.argv[5])
doc = json.load(open(sys.argv[6]))
st, items = doc["stats"], doc["items"]
bad = [i["name"] for i in items if i["new"]["outcome"] != "ok"]
runs = [i["new"]["duration_ms"] for i in items]
loop_ms = sum(runs) / float(len(runs))
warm = sum(1 for i in items if i["new"]["outcome"] == "ok")
slope = (full - small) / float(n - m)
extra = full + (3400 - n) * slope
print("items                                   %d (%d ok; not ok: %s)" % (len(items), warm, bad[:5] or "none"))
print("containers started, pulls, old runs     %d, %d, %d" % (st["containers_started"], st["pulls"], st["old_runs"]))
print("wall, %4d items                         %.2f s" % (m, small / 1000.0))
print("wall, %4d items                         %.2f s" % (n, full / 1000.0))
print("wall per item (slope %d..%d)           %.1f ms  (target <= 60)" % (m, n, slope))
print("per item run, the loop's own clock      %.1f ms" % loop_ms)
print("bare 'python3 -c pass' in the image     %.1f ms" % bare)
print("item run / bare interpreter             %.2f" % (loop_ms / bare))
print("wall per item / bare interpreter        %.2f" % (slope / bare))
print("3,400 items, extrapolated               %.0f s  (target <= 300): %d-item wall + %d x slope," % (extra / 1000.0, n, 3400 - n))
print("                                        one container, one pull of the new image (not timed here), 0 old runs")
PY
