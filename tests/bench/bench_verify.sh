#!/usr/bin/env bash
# Benchmark of verification (SPEC §5 "Cost"): 200 generated items verified in an old and a
# new image at the load level,
#   1. with container reuse (one container per image, the default),
#   2. without it (one `docker run` per item and image: the hidden --no-reuse),
#   3. the same code run by the local python, one process per item, outside any container,
# and prints containers started, wall time and the ratios.
#
#   tests/bench/bench_verify.sh [ITEMS]        (default 200)
#
# Environment: DOCKERBUMP (the binary; default build/dev/dockerbump), DOCKERBUMP_BENCH_PYTHON
# (the local python; default /usr/bin/python3, the Python of the test images), the image
# variables of tests/images/build.sh. Needs a running docker engine.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
n=${1:-200}
bin=${DOCKERBUMP:-$top/build/dev/dockerbump}
py=${DOCKERBUMP_BENCH_PYTHON:-/usr/bin/python3}
OLD=${DOCKERBUMP_TEST_IMAGE_OLD:-demisto/python3:3.11.9.100001}
NEW=${DOCKERBUMP_TEST_IMAGE_NEW:-demisto/python3:3.11.10.100002}

[ -x "$bin" ] || { echo "bench: build first ($bin is missing)" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "bench: no docker engine answers" >&2; exit 1; }
bash "$top/tests/images/build.sh" old new

T=$(mktemp -d "${TMPDIR:-/tmp}/dockerbump-bench.XXXXXX")
trap 'docker ps -aq --filter label=dockerbump.verify | xargs -r docker rm -f >/dev/null; rm -rf "$T"' EXIT
repo=$T/repo

# A CommonServerPython stand-in of realistic size (the real one is ~12k lines).
csp=$repo/Packs/Base/Scripts/CommonServerPython
mkdir -p "$csp"
{
	cat <<'PY'
import json
import re
import sys
import demistomock as demisto
entryTypes = {'note': 1, 'error': 4}
formats = {'json': 'json', 'text': 'text', 'markdown': 'markdown'}
def return_results(result):
    demisto.results(result)
def return_error(message):
    demisto.results({'Type': entryTypes['error'], 'ContentsFormat': 'text', 'Contents': message})
    sys.exit(0)
def tableToMarkdown(name, rows):
    rows = rows if isinstance(rows, list) else [rows]
    keys = sorted({k for r in rows for k in r})
    out = ['### ' + name, '|' + '|'.join(keys) + '|', '|' + '|'.join('-' for _ in keys) + '|']
    for r in rows:
        out.append('|' + '|'.join(str(r.get(k, '')) for k in keys) + '|')
    return '\n'.join(out)
PY
	for i in $(seq 1 1500); do
		printf 'def helper_%d(value, factor=%d):\n    """Helper %d."""\n    return [v * factor for v in value if v %% 3]\n\n' "$i" "$i" "$i"
	done
} >"$csp/CommonServerPython.py"

for i in $(seq 1 "$n"); do
	d=$repo/Packs/Bench/Scripts/Bench$i
	mkdir -p "$d"
	printf 'commonfields:\n  id: Bench%d\n  version: -1\nname: Bench%d\nscript: '"'-'"'\ntype: python\nsubtype: python3\ndockerimage: %s\n' \
		"$i" "$i" "$OLD" >"$d/Bench$i.yml"
	cat >"$d/Bench$i.py" <<PY
import demistomock as demisto
from CommonServerPython import *
rows = [{'n': n, 'square': n * n, 'tag': 'item-$i'} for n in range(200)]
text = json.dumps(rows)
numbers = [int(m) for m in re.findall(r'"square": (\d+)', text)]
return_results({'Type': entryTypes['note'], 'ContentsFormat': formats['markdown'],
                'Contents': tableToMarkdown('Bench$i', rows[:5]) + ' total %d' % sum(numbers)})
PY
done

ms() { date +%s%3N; }
field() { "$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["stats"][sys.argv[2]])' "$1" "$2"; }
mean_run_ms() {
	"$py" -c 'import json,sys
d = [s["duration_ms"] for i in json.load(open(sys.argv[1]))["items"] for s in (i["old"], i["new"]) if s]
print("%.1f" % (sum(d) / len(d)))' "$1"
}

run_verify() { # NAME [OPTIONS]
	local name=$1 t0 t1
	shift
	export XDG_CACHE_HOME=$T/cache-$name
	t0=$(ms)
	"$bin" -q -C "$repo" verify --image "$NEW" --old-image "$OLD" --json "$@" Packs/Bench \
		>"$T/$name.json" || [ $? = 3 ]
	t1=$(ms)
	echo $((t1 - t0)) >"$T/$name.ms"
}

echo "bench: $n items, old $OLD, new $NEW, $(nproc) cores" >&2
run_verify reuse
run_verify noreuse --no-reuse

# The same code under the local python: one fresh process per item, as in the container.
cat >"$T/local_run.py" <<'PY'
import sys, types
mock = types.ModuleType('demistomock')
mock.results = lambda r: None
mock.args = lambda: {}
sys.modules['demistomock'] = mock
sys.path.insert(0, sys.argv[2])
scope = {'__name__': '__main__', 'demisto': mock}
exec(open(sys.argv[1]).read(), scope)
PY
# Bytecode cached as the loop caches it (PYTHONDONTWRITEBYTECODE would stop an import from it).
"$py" -c 'import py_compile, sys; py_compile.compile(sys.argv[1], doraise=True)' \
	"$csp/CommonServerPython.py"
t0=$(ms)
for i in $(seq 1 "$n"); do
	"$py" "$T/local_run.py" "$repo/Packs/Bench/Scripts/Bench$i/Bench$i.py" "$csp"
done
t1=$(ms)
local_ms=$((t1 - t0))

reuse_ms=$(cat "$T/reuse.ms")
noreuse_ms=$(cat "$T/noreuse.ms")
"$py" - "$n" "$reuse_ms" "$noreuse_ms" "$local_ms" "$(field "$T/reuse.json" containers_started)" \
	"$(field "$T/noreuse.json" containers_started)" "$(mean_run_ms "$T/reuse.json")" <<'PY'
import sys
n, reuse, noreuse, local, c_reuse, c_noreuse, run_ms = sys.argv[1:]
n, reuse, noreuse, local, run_ms = int(n), int(reuse), int(noreuse), int(local), float(run_ms)
runs = 2 * n
print("%-34s %12s %12s" % ("", "reuse", "no reuse"))
print("%-34s %12s %12s" % ("containers started", c_reuse, c_noreuse))
print("%-34s %12.1f %12.1f" % ("wall time (s)", reuse / 1000.0, noreuse / 1000.0))
print("%-34s %12.1f %12.1f" % ("wall time per item run (ms)", reuse / runs, noreuse / runs))
print("reuse is %.1fx faster than one container per item and image (target >= 10x)"
      % (noreuse / float(reuse)))
print("local python, one process per item: %.1f ms per item" % (local / float(n)))
print("in the container, per item run (the loop's own clock): %.1f ms, %.2fx local (target <= 2x)"
      % (run_ms, run_ms / (local / float(n))))
print("in the container, wall time per item (old and new run side by side): %.1f ms, %.2fx local"
      % (reuse / float(n), (reuse / float(n)) / (local / float(n))))
PY
