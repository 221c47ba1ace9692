# Shared by the benchmark scripts (sourced, bash): where the binaries are, the generated
# repository, and measuring a command. Nothing here judges a number; the scripts print them.
#
#   . "$(dirname "$0")/lib.sh"
#   bench_init "$@"                 # $bin, $floor, $T (a scratch directory, removed at exit)
#   bench_repo                      # $repo (and $manifest): $BENCH_REPO, or a new one in $T
#   bench_measure 5 "$bin" -C "$repo" scan --offline    # $wall $cpu $rss $median
#
# Environment: BENCH_BUILD (the build directory: default build/release, else build/dev),
# BENCH_FLOOR (yaml_floor; default: built on demand into build/bench, optimised),
# BENCH_REPO and BENCH_MANIFEST (a repository generated before, e.g. by bench_speed.sh),
# BENCH_PACKS (1200), BENCH_ITEMS (4500), BENCH_SMALL (1: gen_content.py --small).

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

bench_init() {
	local build=${1:-${BENCH_BUILD:-}}
	if [ -z "$build" ]; then
		build=$top/build/release
		[ -x "$build/dockerbump" ] || build=$top/build/dev
	fi
	bin=$build/dockerbump
	if [ ! -x "$bin" ]; then
		echo "no dockerbump in $build: cmake --preset release && cmake --build --preset release" >&2
		exit 2
	fi
	floor=${BENCH_FLOOR:-$top/build/bench/yaml_floor}
	if [ ! -x "$floor" ]; then
		cmake -S "$top/tests/bench" -B "$top/build/bench" -DCMAKE_BUILD_TYPE=Release >/dev/null &&
			cmake --build "$top/build/bench" >/dev/null || {
			echo "cannot build yaml_floor" >&2
			exit 2
		}
	fi
	T=$(mktemp -d)
	trap 'bench_cleanup' EXIT
	export XDG_CACHE_HOME=$T/cache
}

# Stops what bench_start_hub started and removes the scratch directory.
bench_cleanup() {
	[ -n "${hub_pid:-}" ] && kill "$hub_pid" 2>/dev/null
	rm -rf "$T"
}

bench_repo() {
	if [ -n "${BENCH_REPO:-}" ]; then
		repo=$BENCH_REPO
		manifest=${BENCH_MANIFEST:-}
		return
	fi
	repo=$T/repo
	manifest=$T/manifest.json
	local size=(--packs "${BENCH_PACKS:-1200}" --items "${BENCH_ITEMS:-4500}")
	[ "${BENCH_SMALL:-0}" = 1 ] && size=(--small)
	python3 "$top/tests/bench/gen_content.py" "$repo" "${size[@]}" --git -q --manifest "$manifest"
}

# The item YAMLs of $repo (the default include globs), as NUL-separated paths on stdout.
bench_items() {
	git -C "$repo" ls-files -z ':(glob)Packs/*/Integrations/*.yml' ':(glob)Packs/*/Scripts/*.yml' \
		':(glob)Packs/*/Integrations/*/*.yml' ':(glob)Packs/*/Scripts/*/*.yml'
}

# bench_measure RUNS [--before CMD] COMMAND...: runs COMMAND RUNS times (CMD before each run,
# unmeasured) with its stdout discarded, and sets $wall and $cpu (user + system) of the fastest
# run, $median (the median wall time) and $rss (the largest peak RSS, MB). $status is the
# fastest run's exit status and $T/stderr.best its stderr.
bench_measure() {
	local runs=$1 before= i w c r walls=()
	shift
	if [ "$1" = --before ]; then
		before=$2
		shift 2
	fi
	wall= cpu= rss=0
	for i in $(seq 1 "$runs"); do
		[ -n "$before" ] && eval "$before"
		/usr/bin/time -f '%e %U %S %M %x' -o "$T/time" "$@" >/dev/null 2>"$T/stderr" || true
		read -r w u s r x <"$T/time"
		c=$(awk "BEGIN{print $u + $s}")
		walls+=("$w")
		if [ -z "$wall" ] || awk "BEGIN{exit !($w < $wall)}"; then
			wall=$w cpu=$c status=$x
			cp "$T/stderr" "$T/stderr.best"
		fi
		r=$((r / 1024))
		[ "$r" -gt "$rss" ] && rss=$r
	done
	median=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}')
}

# ratio A B: A / B with two decimals ("-" when B is 0).
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else printf "-" }'
}

# Starts the Docker Hub stand-in on loopback with a newer numeric tag for every image the
# manifest uses, so that every eligible item is bumped; sets $hub (its URL).
bench_start_hub() {
	python3 - "$manifest" "$T/tags.json" <<'PY'
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
	python3 "$top/tests/stubs/hubstub.py" --tags "$T/tags.json" --port-file "$T/port" \
		--log "$T/hub.log" --lifetime 900 >/dev/null 2>&1 &
	hub_pid=$!
	for _ in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.1; done
	[ -s "$T/port" ] || {
		echo "the hub stand-in did not start" >&2
		exit 1
	}
	hub=http://127.0.0.1:$(cat "$T/port")
}
