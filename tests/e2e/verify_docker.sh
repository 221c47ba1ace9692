#!/usr/bin/env bash
# Verification with a real container engine (SPEC §5): differential outcomes in old, new and
# broken images, hostile code contained, container reuse and the outcome cache, a Python 2
# image, a failed pull, no engine at all, and podman as a second runtime when it is there.
#
# Needs a running docker engine (tests/run.sh starts one) and root for the image builder;
# DOCKERBUMP_TEST_NO_DOCKER=1 skips it. Looks only at the containers it started itself.
# ctest-resource: docker
. "$(dirname "$0")/lib/verify.bash"
T=$tmp
build_images old new broken py2

REPO=$T/repo
mkdir -p "$REPO"
# The config's verify section is honoured: a smaller memory limit makes the hog quick.
printf 'verify: {memory: 128m, pids: 128, cpus: "1"}\n' >"$REPO/.dockerbump.yml"

script() { write_script "$REPO" "$@"; }
integration() { write_integration "$REPO" "$@"; }

# The repository's own shared modules, as the server prepends them.
mkdir -p "$REPO/Packs/Base/Scripts/CommonServerPython"
cat >"$REPO/Packs/Base/Scripts/CommonServerPython/CommonServerPython.py" <<'EOF'
import sys
import demistomock as demisto
entryTypes = {'note': 1, 'error': 4}
def return_error(message):
    demisto.results({'Type': entryTypes['error'], 'ContentsFormat': 'text', 'Contents': message})
    sys.exit(0)
def return_results(result):
    demisto.results(result)
EOF

# Items that depend on the image: they import the module the broken image lacks.
script Regress UsesYaml "$OLD" 'import yaml
from CommonServerPython import *
return_results(yaml.safe_dump({"a": 1}))'
integration Regress YamlIntegration "$OLD" 'import demistomock as demisto
from CommonServerPython import *
def main():
    import yaml
    if demisto.command() == "test-module":
        return_results("ok")
if __name__ in ("__main__", "builtins"):
    main()'
# Failing the same way everywhere: never a regression.
script Regress AlreadyBroken "$OLD" 'undefined_function_of_this_item()'
script Regress MissingArg "$OLD" 'from CommonServerPython import *
if not demisto.args().get("value"):
    return_error("value is required")'
script Regress Plain "$OLD" 'import json
return_results(json.dumps({"fine": True}))'

# Hostile code: each must end as the given outcome, and the run must go on.
script Hostile InfiniteLoop "$OLD" 'while True:
    pass'
script Hostile WaitsForever "$OLD" 'import threading
threading.Event().wait()'
script Hostile ForkBomb "$OLD" 'import os
while True:
    try:
        os.fork()
    except OSError:
        pass'
script Hostile MemoryHog "$OLD" 'hog = []
while True:
    hog.append(bytearray(50 * 1024 * 1024))'
script Hostile Network "$OLD" 'import socket
socket.getaddrinfo("deb.debian.org", 80)'
script Hostile OnlyLoopback "$OLD" 'import socket
names = sorted(n for _, n in socket.if_nameindex())
assert names == ["lo"], names
demisto.results("only lo")'
script Hostile WritesUsr "$OLD" 'open("/usr/dockerbump-was-here", "w").write("x")'
script Hostile Garbage "$OLD" 'import os, sys
os.write(1, b"garbage\n{\"type\": \"completed\"}\n")
print("{not json")
sys.stdout.flush()
demisto.results("survived the garbage")'
script Hostile AfterAll "$OLD" 'demisto.results("the container still works")'

echo "== old vs new: nothing regresses, hostile code is contained"
expect_exit 0 -C "$REPO" verify --image "$NEW" --old-image "$OLD" --timeout 10 \
	--json --junit "$T/junit.xml" Packs/Regress Packs/Hostile
cp "$T/out" "$T/good.json"
# The new image first; the old one only where the new outcome is not clean.
for name in UsesYaml YamlIntegration Plain OnlyLoopback Garbage AfterAll; do
	expect_outcome "$T/good.json" "$name" new "ok - ok"
	expect_outcome "$T/good.json" "$name" old "not-run - ok"
done
for side in old new; do
	expect_outcome "$T/good.json" AlreadyBroken "$side" "exception NameError ok"
	expect_outcome "$T/good.json" MissingArg "$side" "error-entry - ok"
	expect_outcome "$T/good.json" InfiniteLoop "$side" "timeout - ok"
	expect_outcome "$T/good.json" WaitsForever "$side" "timeout - ok"
	expect_outcome "$T/good.json" ForkBomb "$side" "timeout - ok" "exception * ok" "crash - ok"
	expect_outcome "$T/good.json" MemoryHog "$side" "crash - ok" "exception MemoryError ok"
	expect_outcome "$T/good.json" Network "$side" "exception gaierror ok"
	expect_outcome "$T/good.json" WritesUsr "$side" "exception OSError ok"
done
[ "$(stat "$T/good.json" old_runs)" = 8 ] || fail "old-image runs: $(stat "$T/good.json" old_runs), want 8"
grep -q 'survived the garbage' "$T/good.json" || fail "the garbage item's result is missing"
python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$T/junit.xml" ||
	fail "the JUnit file is not XML"
assert_contains "$T/junit.xml" 'tests="28"'
assert_contains "$T/junit.xml" 'failures="0"'
assert_no_leftovers "the good run"

echo "== old vs broken: the yaml items regress, the others do not"
expect_exit 3 -C "$REPO" verify --image "$BROKEN" --old-image "$OLD" --timeout 10 \
	--json --junit "$T/junit-broken.xml" Packs/Regress
cp "$T/out" "$T/broken.json"
expect_outcome "$T/broken.json" UsesYaml new "exception ModuleNotFoundError regressed"
expect_outcome "$T/broken.json" YamlIntegration new "exception ModuleNotFoundError regressed"
expect_outcome "$T/broken.json" AlreadyBroken new "exception NameError ok"
expect_outcome "$T/broken.json" MissingArg new "error-entry - ok"
expect_outcome "$T/broken.json" Plain new "ok - ok"
assert_contains "$T/junit-broken.xml" 'failures="2"'
assert_no_leftovers "the broken run"

echo "== reuse: 50 items in one image start one container; a rerun starts none"
for i in $(seq 1 50); do
	script Reuse "Item$i" "$NEW" "demisto.results('item $i')"
done
# Counted by the engine too, for this run's containers only (the engine is shared).
since=$(date +%s.%N)
expect_exit 0 -C "$REPO" verify --json Packs/Reuse
[ "$(stat "$T/out" containers_started)" = 1 ] || fail "containers_started: $(stat "$T/out" containers_started)"
[ "$(stat "$T/out" items_run)" = 50 ] || fail "items_run: $(stat "$T/out" items_run)"
started=$(engine_starts "$since" "$(stat "$T/out" session)")
[ "$started" = 1 ] || fail "the engine saw $started containers of the run start, want 1"
since=$(date +%s.%N)
expect_exit 0 -C "$REPO" verify --json Packs/Reuse
[ "$(stat "$T/out" containers_started)" = 0 ] || fail "the rerun started containers"
[ "$(stat "$T/out" cache_hits)" = 50 ] || fail "cache_hits: $(stat "$T/out" cache_hits)"
started=$(engine_starts "$since" "$(stat "$T/out" session)")
[ "$started" = 0 ] || fail "the engine saw $started containers start on the rerun"
assert_no_leftovers "the reuse runs"

echo "== Python 2 image"
script Py2 HelloTwo "$PY2" 'print "hello from python", 2
demisto.results(u"unicode ok")'
expect_exit 0 -C "$REPO" verify --json Packs/Py2
expect_outcome "$T/out" HelloTwo new "ok - ok"
assert_contains "$T/out" "hello from python 2"
# The same code does not compile under Python 3.
expect_exit 3 -C "$REPO" verify --level compile --image "$NEW" --json Packs/Py2
expect_outcome "$T/out" HelloTwo new "exception SyntaxError ok"
assert_no_leftovers "the Python 2 runs"

echo "== tests level: <Name>_test.py under pytest in the image; skipped without pytest"
script Tests Adder "$NEW" 'def add(a, b):
    return a + b'
printf 'from Adder import add\ndef test_add():\n    assert add(2, 3) == 5\n' \
	>"$REPO/Packs/Tests/Scripts/Adder/Adder_test.py"
script Tests Breaker "$NEW" 'def add(a, b):
    return a - b'
printf 'from Breaker import add\ndef test_add():\n    assert add(2, 3) == 5\n' \
	>"$REPO/Packs/Tests/Scripts/Breaker/Breaker_test.py"
expect_exit 3 -C "$REPO" verify --level tests --json Packs/Tests
expect_outcome "$T/out" Adder new "ok - ok"
expect_outcome "$T/out" Breaker new "exception TestsFailed ok"
expect_exit 0 -C "$REPO" verify --level tests --image "$PY2" --json \
	Packs/Tests/Scripts/Adder
expect_outcome "$T/out" Adder new "skipped - ok"
assert_no_leftovers "the tests level"

echo "== an image that cannot be pulled is an error for its items"
expect_exit 1 -C "$REPO" verify --image 127.0.0.1:9/demisto/python3:1.2.3.4 \
	--json Packs/Regress/Scripts/Plain
expect_outcome "$T/out" Plain new "error - ok"
assert_contains "$T/out" "127.0.0.1:9/demisto/python3:1.2.3.4"

echo "== no engine at all"
DOCKER_HOST=unix://$T/no-such-engine.sock expect_exit 1 -C "$REPO" verify \
	Packs/Regress/Scripts/Plain
assert_contains "$T/err" "--verify off"

echo "== a real item of the corpus, inline code of a unified file"
if [ -d "$CORPUS" ]; then
	expect_exit 3 -C "$CORPUS" verify --image "$NEW" --json \
		Scripts/GenerateRandomString.yml
	# No CommonServerPython in the corpus: the names it would prepend are missing.
	expect_outcome "$T/out" GenerateRandomString new "exception NameError ok" "exception KeyError ok"
fi

echo "== podman as the runtime"
if command -v podman >/dev/null && podman info >/dev/null 2>&1; then
	docker save "$NEW" | podman load -q >/dev/null
	trap 'podman rmi -f "$NEW" >/dev/null 2>&1 || true; verify_cleanup' EXIT
	expect_exit 3 -C "$REPO" verify --runtime podman --image "$NEW" --json \
		Packs/Regress/Scripts/Plain Packs/Hostile/Scripts/WritesUsr Packs/Hostile/Scripts/AfterAll
	expect_outcome "$T/out" Plain new "ok - ok"
	expect_outcome "$T/out" WritesUsr new "exception OSError ok"
	expect_outcome "$T/out" AfterAll new "ok - ok"
	[ -z "$(podman ps -aq --filter "label=dockerbump.verify.session=$(stat "$T/out" session)")" ] ||
		fail "podman containers left"
else
	echo "podman is not usable here; skipped that part"
fi
echo "verify_docker: all checks passed"
