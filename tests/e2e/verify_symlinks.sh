#!/usr/bin/env bash
# `verify` reads only regular files inside the repository (issue 13, item 1): in a symlink
# farm (an item's code, CommonServerPython, CommonServerUserPython, demistomock, a test file
# and a test data folder each a link to a host file, /proc/self/environ or a folder outside;
# an item folder that is a link out of the repository), each is refused with an error naming
# the path, the healthy items still run, and nothing of the host reaches the output, --json
# or --junit.
#
# Needs a running docker engine.
# ctest-resource: docker
. "$(dirname "$0")/lib/verify.bash"
T=$tmp
build_images new

secret="dockerbump-secret-$RANDOM$RANDOM"
export DOCKERBUMP_TEST_SECRET=$secret
outside=$T/outside
mkdir -p "$outside/Escape" "$outside/data"
printf 'TOKEN = "%s"\ndemisto.results(TOKEN)\n' "$secret" >"$outside/host_module.py"
printf '%s\n' "$secret" >"$outside/data/secret.json"
printf 'commonfields:\n  id: Escape\nname: Escape\nscript: "-"\ntype: python\nsubtype: python3\ndockerimage: %s\n' \
	"$NEW" >"$outside/Escape/Escape.yml"
printf 'demisto.results("%s")\n' "$secret" >"$outside/Escape/Escape.py"

REPO=$T/repo
farm() { # farm PACK: the items of the farm, under Packs/PACK
	local p=$1 d
	write_script "$REPO" "$p" Healthy "$NEW" 'demisto.results("healthy")'
	printf 'def test_ok():\n    assert True\n' >"$REPO/Packs/$p/Scripts/Healthy/Healthy_test.py"
	write_script "$REPO" "$p" CodeToHostFile "$NEW" ''
	ln -sf "$outside/host_module.py" "$REPO/Packs/$p/Scripts/CodeToHostFile/CodeToHostFile.py"
	write_script "$REPO" "$p" CodeToEnviron "$NEW" ''
	ln -sf /proc/self/environ "$REPO/Packs/$p/Scripts/CodeToEnviron/CodeToEnviron.py"
	write_script "$REPO" "$p" TestToEnviron "$NEW" 'demisto.results("code")'
	ln -sf /proc/self/environ "$REPO/Packs/$p/Scripts/TestToEnviron/TestToEnviron_test.py"
	write_script "$REPO" "$p" DataFolderOut "$NEW" 'demisto.results("code")'
	d=$REPO/Packs/$p/Scripts/DataFolderOut
	printf 'def test_ok():\n    assert True\n' >"$d/DataFolderOut_test.py"
	ln -sfn "$outside/data" "$d/test_data"
	mkdir -p "$REPO/Packs/$p/Scripts"
	ln -sfn "$outside/Escape" "$REPO/Packs/$p/Scripts/Escape"
}
farm Farm

# no_host_content FILE...: nothing of the host in what verify printed or wrote.
no_host_content() {
	local f
	for f in "$@"; do
		if grep -q -e "$secret" -e 'root:x:0:0' -e 'DOCKERBUMP_TEST_SECRET' "$f"; then
			grep -n -e "$secret" -e 'root:x:0:0' -e 'DOCKERBUMP_TEST_SECRET' "$f" | head -5 >&2
			fail "host content in '$f'"
		fi
	done
}

echo "== load: the linked code is refused by path, the healthy item runs"
expect_exit 1 -C "$REPO" verify --json --junit "$T/load.xml" Packs/Farm
no_host_content "$T/out" "$T/err" "$T/load.xml"
expect_outcome "$T/out" Healthy new "ok - ok"
for path in Packs/Farm/Scripts/CodeToHostFile/CodeToHostFile.py \
	Packs/Farm/Scripts/CodeToEnviron/CodeToEnviron.py; do
	assert_contains "$T/err" "'$path': a symbolic link on the way"
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["refused"]; sys.exit(0 if any(sys.argv[2] in x["error"] for x in r) else "not refused: " + sys.argv[2])' "$T/out" "$path"
done
# The linked folder out of the repository is no item of it.
grep -q Escape "$T/out" && fail "the item behind the linked folder was verified"

echo "== tests: a linked test file, a linked data folder"
expect_exit 1 -C "$REPO" verify --level tests --json --junit "$T/tests.xml" Packs/Farm
no_host_content "$T/out" "$T/err" "$T/tests.xml"
expect_outcome "$T/out" Healthy new "ok - ok"
assert_contains "$T/err" "'Packs/Farm/Scripts/TestToEnviron/TestToEnviron_test.py': a symbolic link on the way"
assert_contains "$T/err" "'Packs/Farm/Scripts/DataFolderOut/test_data': a symbolic link on the way"

echo "== an item folder that leads out of the repository"
expect_exit 2 -C "$REPO" verify --json Packs/Farm/Scripts/Escape
assert_contains "$T/err" "'Packs/Farm/Scripts/Escape' is outside the repository"
no_host_content "$T/out" "$T/err"

echo "== shared modules: each link refuses the run, naming the path"
for module in Packs/Base/Scripts/CommonServerPython/CommonServerPython.py \
	Packs/Base/Scripts/CommonServerUserPython/CommonServerUserPython.py \
	Tests/demistomock/demistomock.py; do
	mkdir -p "$REPO/$(dirname "$module")"
	ln -sf /proc/self/environ "$REPO/$module"
	expect_exit 1 -C "$REPO" verify --json --junit "$T/mod.xml" Packs/Farm/Scripts/Healthy
	assert_contains "$T/err" "'$module': a symbolic link on the way"
	no_host_content "$T/out" "$T/err"
	[ ! -e "$T/mod.xml" ] || no_host_content "$T/mod.xml"
	rm "$REPO/$module"
	# Its folder a link to a folder outside: the same.
	dir=$(dirname "$module")
	mkdir -p "$T/moved"
	printf 'TOKEN = "%s"\n' "$secret" >"$T/moved/$(basename "$module")"
	rm -rf "$REPO/$dir"
	ln -s "$T/moved" "$REPO/$dir"
	expect_exit 1 -C "$REPO" verify --json Packs/Farm/Scripts/Healthy
	assert_contains "$T/err" "'$module': a symbolic link on the way"
	no_host_content "$T/out" "$T/err"
	rm -rf "$REPO/$dir" "$T/moved"
done
expect_exit 0 -C "$REPO" verify --json Packs/Farm/Scripts/Healthy
assert_no_leftovers "the symlink farm"
echo "verify_symlinks: all checks passed"
