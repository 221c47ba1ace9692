# Shared by the registry end-to-end tests (sourced, not run: ctest only runs tests/e2e/*.sh).
#
# Gives each test a private temporary directory and cache, starts the Docker Hub stand-in
# (tests/stubs/hubstub.py) on a free loopback port, stops everything it started by PID on
# exit, and offers small assertion helpers. Every wait here is bounded.
set -euo pipefail

: "${DOCKERBUMP:?the dockerbump binary (set by ctest)}"
: "${DOCKERBUMP_SOURCE_DIR:?the source tree (set by ctest)}"
# The system interpreter: a version manager's shim (pyenv) costs a second per call.
if [ -x /usr/bin/python3 ]; then
	python3() { /usr/bin/python3 "$@"; }
else
	command -v python3 >/dev/null || { echo "skip: python3 is missing"; exit 77; }
fi

# now_us: microseconds since the epoch; secs_since US: seconds since then, two decimals.
now_us() { echo "${EPOCHREALTIME/./}"; }
secs_since() {
	local d=$(($(now_us) - $1))
	printf '%d.%02d' $((d / 1000000)) $((d % 1000000 / 10000))
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dockerbump-e2e.XXXXXX")
started_pids=()
cleanup() {
	local p
	for p in "${started_pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${started_pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
export XDG_CACHE_HOME="$tmp/cache"
unset DOCKERBUMP_REGISTRY_USER DOCKERBUMP_REGISTRY_PASSWORD
stubs="$DOCKERBUMP_SOURCE_DIR/tests/stubs"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
pass() { echo "ok: $*"; }

# wait_for_file FILE SECONDS
wait_for_file() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	fail "'$1' did not appear within $2 s"
}

# start_hubstub NAME [hubstub args...]: the port goes to $NAME_port, the request log to
# $tmp/NAME.log.
start_hubstub() {
	local name=$1
	shift
	python3 "$stubs/hubstub.py" --port-file "$tmp/$name.port" --log "$tmp/$name.log" \
		--lifetime 900 "$@" >/dev/null 2>"$tmp/$name.err" &
	started_pids+=($!)
	wait_for_file "$tmp/$name.port" 15
	printf -v "${name}_port" '%s' "$(cat "$tmp/$name.port")"
}

# count_requests LOG [PATH-SUBSTRING]: requests in a stub's JSON-lines log.
count_requests() {
	python3 - "$@" <<'PY'
import json, sys
n = 0
with open(sys.argv[1]) as f:
    for line in f:
        e = json.loads(line)
        if not e["path"].startswith("/_control") and (len(sys.argv) < 3 or sys.argv[2] in e["path"] + "?" + e["query"]):
            n += 1
print(n)
PY
}

# run_db OUT ERR [args...]: runs dockerbump, never failing the script; the status is in $rc.
run_db() {
	local out=$1 err=$2
	shift 2
	rc=0
	"$DOCKERBUMP" "$@" >"$out" 2>"$err" || rc=$?
	if [ "$rc" -ge 128 ]; then
		cat "$err" >&2
		fail "dockerbump died with signal $((rc - 128)): $*"
	fi
}

expect_rc() { # expect_rc WANT WHAT
	[ "$rc" = "$1" ] || {
		cat "$tmp/err" >&2 || true
		fail "$2: exit status $rc, want $1"
	}
}

expect_grep() { # expect_grep PATTERN FILE WHAT
	grep -q -- "$1" "$2" || {
		cat "$2" >&2
		fail "$3: '$1' not found"
	}
}

# check_tags_json JSON GROUND-TRUTH-JSON: the `tags --json` output lists exactly the ground
# truth's valid names, newest build first, non-numeric after with build null, with the right
# last_updated, and picks latest-build as the highest build.
check_tags_json() {
	python3 - "$1" "$2" <<'PY'
import json, re, sys
from datetime import datetime
got = json.load(open(sys.argv[1]))
truth = json.load(open(sys.argv[2]))
valid = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
def when(s):
    if s is None:
        return None
    base, _, frac = s.rstrip("Z").partition(".")
    return (datetime.strptime(base, "%Y-%m-%dT%H:%M:%S"), int((frac or "0").ljust(9, "0")))
want = {}
for t in truth:
    if isinstance(t, str):
        t = {"name": t, "last_updated": None}
    if valid.match(t["name"]):
        want[t["name"]] = when(t.get("last_updated") or t.get("tag_last_pushed"))
assert set(got) >= {"image", "registry", "tags", "picks"}, got.keys()
names = [t["name"] for t in got["tags"]]
assert len(names) == len(set(names)), "duplicate tags"
assert set(names) == set(want), ("tag sets differ", sorted(set(names) ^ set(want))[:10])
def build(n):
    if re.match(r"^\d+(\.\d+)+$", n):
        parts = [int(x) for x in n.split(".")]
        return parts[-1], parts
    return None
seen_other = False
prev = None
for t in got["tags"]:
    b = build(t["name"])
    if b is None:
        assert t["build"] is None, t
        seen_other = True
        continue
    assert not seen_other, "a numeric tag after a non-numeric one"
    assert t["build"] == b[0], t
    if prev is not None:
        assert prev >= b, ("order", prev, b)
    prev = b
    assert when(t["last_updated"]) == want[t["name"]], (t, want[t["name"]])
numeric = [n for n in names if build(n)]
best = max(numeric, key=build) if numeric else None
assert got["picks"]["latest-build"] == best, (got["picks"], best)
print("checked %d tags, latest-build %s" % (len(names), best))
PY
}

# free_port: a port that was free a moment ago (the registry takes its address from a file).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_registry NAME [AUTH-YAML]: Debian's docker-registry on a free loopback port, storage
# and config under $tmp/NAME; the URL goes to $NAME_url. Skips the test when it is missing.
start_registry() {
	local name=$1 auth=${2:-} port i code
	command -v docker-registry >/dev/null || {
		echo "skip: docker-registry is not installed (tests/packages.txt)"
		exit 77
	}
	port=$(free_port)
	mkdir -p "$tmp/$name/data"
	cat >"$tmp/$name/config.yml" <<YAML
version: 0.1
log: {level: warn, accesslog: {disabled: true}}
storage:
  filesystem: {rootdirectory: $tmp/$name/data}
  delete: {enabled: true}
http: {addr: "127.0.0.1:$port", secret: dockerbump-test-secret}
$auth
YAML
	docker-registry serve "$tmp/$name/config.yml" >"$tmp/$name.out" 2>&1 &
	started_pids+=($!)
	printf -v "${name}_url" 'http://127.0.0.1:%s' "$port"
	for ((i = 0; i < 150; i++)); do
		code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/" || true)
		case "$code" in 200 | 401) return 0 ;; esac
		sleep 0.1
	done
	cat "$tmp/$name.out" >&2
	fail "docker-registry did not answer on port $port within 15 s"
}

# registry_tag_names N: N generated tag names (builds from 6 to 7 digits, Python versions
# cycling) plus a few non-numeric ones, one per line.
registry_tag_names() {
	python3 - "$1" <<'PY'
import sys
n = int(sys.argv[1])
for i in range(n):
    minor = [9, 10, 11, 12][(i // 7) % 4]
    print("3.%d.%d.%d" % (minor, 1 + (i // 28) % 15, 90000 + i * 7919))
print("latest\n1.3-alpine\n0123abcd4567ef89")
PY
}
