# Shared by the verification end-to-end tests (sourced, not run): everything of content.bash,
# the test images, items written in one line, readers of `verify --json`, and a container
# runtime that records every container the test's dockerbump starts.
#
# The engine is shared with other runs (other tests, other people), so a test looks only at
# its own containers: `docker` on PATH is a wrapper that appends the --name of every
# `docker run` to $tmp/containers, and the test checks, counts and removes exactly those.
. "$(dirname "${BASH_SOURCE[0]}")/content.bash"

[ "${DOCKERBUMP_TEST_NO_DOCKER:-0}" = 1 ] && skip "DOCKERBUMP_TEST_NO_DOCKER=1"
real_docker=$(command -v docker) || skip "no docker client"
"$real_docker" info >/dev/null 2>&1 || fail "no docker engine answers (tests/run.sh starts one)"

OLD=${DOCKERBUMP_TEST_IMAGE_OLD:-demisto/python3:3.11.9.100001}
NEW=${DOCKERBUMP_TEST_IMAGE_NEW:-demisto/python3:3.11.10.100002}
BROKEN=${DOCKERBUMP_TEST_IMAGE_BROKEN:-demisto/python3:3.12.1.100003}
PY2=${DOCKERBUMP_TEST_IMAGE_PY2:-demisto/python:2.7.18.100004}
REAL=${DOCKERBUMP_TEST_IMAGE_REAL:-demisto/python3:3.11.2.200001}
REAL_REBUILD=${DOCKERBUMP_TEST_IMAGE_REAL_REBUILD:-demisto/python3:3.11.2.200002}
REAL_NOYAML=${DOCKERBUMP_TEST_IMAGE_REAL_NOYAML:-demisto/python3:3.11.2.200003}
REAL_NODATEPARSER=${DOCKERBUMP_TEST_IMAGE_REAL_NODATEPARSER:-demisto/python3:3.11.2.200004}
export DOCKERBUMP_TEST_IMAGE_OLD=$OLD DOCKERBUMP_TEST_IMAGE_NEW=$NEW
export DOCKERBUMP_TEST_IMAGE_BROKEN=$BROKEN DOCKERBUMP_TEST_IMAGE_PY2=$PY2
export DOCKERBUMP_TEST_IMAGE_REAL=$REAL DOCKERBUMP_TEST_IMAGE_REAL_REBUILD=$REAL_REBUILD
export DOCKERBUMP_TEST_IMAGE_REAL_NOYAML=$REAL_NOYAML
export DOCKERBUMP_TEST_IMAGE_REAL_NODATEPARSER=$REAL_NODATEPARSER

# build_images TARGET...: tests/images/build.sh, quiet unless it fails.
build_images() {
	bash "$DOCKERBUMP_SOURCE_DIR/tests/images/build.sh" "$@" >"$tmp/images.log" 2>&1 ||
		{ cat "$tmp/images.log" >&2; fail "building the test images ($*)"; }
}

mkdir -p "$tmp/bin"
cat >"$tmp/bin/docker" <<EOF
#!/bin/sh
if [ "\$1" = run ]; then
	prev=
	for a in "\$@"; do
		[ "\$prev" = --name ] && echo "\$a" >>"$tmp/containers"
		prev=\$a
	done
fi
exec "$real_docker" "\$@"
EOF
chmod +x "$tmp/bin/docker"
export PATH="$tmp/bin:$PATH"
: >"$tmp/containers"

# own_leftovers: the ids of containers this test started that still exist.
own_leftovers() {
	local name
	sort -u "$tmp/containers" | while read -r name; do
		"$real_docker" ps -aq --filter "name=^/$name\$"
	done
}
assert_no_leftovers() {
	local left
	left=$(own_leftovers)
	[ -z "$left" ] || fail "containers left behind after $1: $left"
}
verify_cleanup() {
	own_leftovers | xargs -r "$real_docker" rm -f >/dev/null 2>&1 || true
	# DOCKERBUMP_TEST_KEEP=DIR keeps the test's files there, to look at a failure.
	[ -z "${DOCKERBUMP_TEST_KEEP:-}" ] || cp -a "$tmp/." "$DOCKERBUMP_TEST_KEEP/" || true
	cleanup
}
trap verify_cleanup EXIT

# write_script DIR PACK NAME IMAGE CODE: a split script in the repository DIR.
write_script() {
	local dir=$1/Packs/$2/Scripts/$3
	mkdir -p "$dir"
	printf 'commonfields:\n  id: %s\n  version: -1\nname: %s\nscript: '"'-'"'\ntype: python\nsubtype: python3\ndockerimage: %s\n' \
		"$3" "$3" "$4" >"$dir/$3.yml"
	printf '%s\n' "$5" >"$dir/$3.py"
}
# write_integration DIR PACK NAME IMAGE CODE: a split integration likewise.
write_integration() {
	local dir=$1/Packs/$2/Integrations/$3
	mkdir -p "$dir"
	printf 'commonfields:\n  id: %s\n  version: -1\nname: %s\ndisplay: %s\ncategory: Utilities\nconfiguration: []\nscript:\n  script: '"'-'"'\n  type: python\n  subtype: python3\n  dockerimage: %s\n' \
		"$3" "$3" "$3" "$4" >"$dir/$3.yml"
	printf '%s\n' "$5" >"$dir/$3.py"
}

# outcome FILE NAME SIDE: "outcome exception_type regressed|ok" of an item in --json output.
outcome() {
	python3 - "$1" "$2" "$3" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
for item in doc["items"]:
    if item["name"] == sys.argv[2]:
        side = item[sys.argv[3]] or {"outcome": "not-run"}
        print(side["outcome"], side.get("exception_type") or "-", "regressed" if item["regressed"] else "ok")
        break
else:
    sys.exit("no item %s" % sys.argv[2])
EOF
}
# stat FILE KEY: a number of the --json output's stats.
stat() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["stats"][sys.argv[2]])' "$1" "$2"; }
# expect_outcome FILE NAME SIDE WANT...: the item's line matches one of the WANT patterns.
expect_outcome() {
	local got want
	got=$(outcome "$1" "$2" "$3")
	for want in "${@:4}"; do
		# shellcheck disable=SC2053 # WANT is a pattern
		[[ $got == $want ]] && return 0
	done
	python3 -c 'import json,sys; [print(json.dumps(i, indent=1)[:6000]) for i in json.load(open(sys.argv[1]))["items"] if i["name"] == sys.argv[2]]' "$1" "$2" >&2
	fail "$2 ($3): got '$got', want one of: ${*:4}"
}
# field FILE NAME EXPR: a Python expression on the item `i` of the --json output.
field() {
	python3 -c 'import json,sys
i = [i for i in json.load(open(sys.argv[1]))["items"] if i["name"] == sys.argv[2]][0]
print(eval(sys.argv[3]))' "$1" "$2" "$3"
}

# engine_starts SINCE SESSION: containers of that session the engine saw start since SINCE
# (seconds, with a fraction).
engine_starts() {
	"$real_docker" events --since "$1" --until "$(date +%s.%N)" \
		--filter "label=dockerbump.verify.session=$2" --filter event=start \
		--format '{{.ID}}' | wc -l
}
