#!/usr/bin/env bash
# Verification on real content (issue 10): a content repository assembled at test time from
# the shared corpus (the real 397 KB CommonServerPython, demistomock, real items and their
# unit tests; third-party files, read from $DOCKERBUMP_SHARED and never copied into the
# project), run in an image with the Debian packages its imports need and in variants of it,
# at the load and tests levels:
#   - an identical rebuild of the image (another image id, the same files) blocks nothing;
#   - the image without yaml, and the one without dateparser, block exactly the items that
#     import the module (their code, and at the tests level their tests), found by reading
#     the code, and every verdict names the module and the exception.
#
# Skipped (77) without the corpus. Needs a running docker engine.
# ctest-resource: docker
. "$(dirname "$0")/lib/verify.bash"
T=$tmp
REAL_CORPUS=${DOCKERBUMP_SHARED}/corpus/verify-real
[ -d "$REAL_CORPUS/Packs" ] || skip "the real-content corpus is not at $REAL_CORPUS"
build_images real real-rebuild real-noyaml real-nodateparser

REPO=$T/repo
mkdir -p "$REPO"
cp -r "$REAL_CORPUS/Packs" "$REAL_CORPUS/Tests" "$REPO/"
chmod -R u+w "$REPO"
n_items=$(find "$REPO/Packs" -name '*.yml' | wc -l)
echo "real content: $n_items items, CommonServerPython of $(wc -c <"$REPO/Packs/Base/Scripts/CommonServerPython/CommonServerPython.py") bytes"

# importers MODULE LEVEL: the items whose code (and, at the tests level, whose test file)
# imports MODULE, read from the source with Python's own parser. An import inside a `try`
# that handles its failure (CommonServerPython's optional imports) is no dependency.
importers() {
	python3 - "$REPO" "$1" "$2" <<'EOF'
import ast, os, sys
repo, module, level = sys.argv[1:]

def imports(node, guarded=False):
    if isinstance(node, ast.Try) and node.handlers:
        for child in node.body:
            yield from imports(child, True)
        for child in node.handlers + node.orelse + node.finalbody:
            yield from imports(child, guarded)
        return
    if isinstance(node, ast.Import) and not guarded:
        yield from (a.name for a in node.names)
    elif isinstance(node, ast.ImportFrom) and not guarded:
        yield node.module or ""
    for child in ast.iter_child_nodes(node):
        yield from imports(child, guarded)

found = set()
for root, _, files in os.walk(os.path.join(repo, "Packs")):
    for f in files:
        if not f.endswith(".yml"):
            continue
        name = f[:-4]
        for src in [name + ".py"] + ([name + "_test.py"] if level == "tests" else []):
            path = os.path.join(root, src)
            if os.path.exists(path) and any(
                    n.split(".")[0] == module
                    for n in imports(ast.parse(open(path, "rb").read()))):
                found.add(name)
print(" ".join(sorted(found)))
EOF
}
# blocked FILE: the blocked items of a --json output; check_verdicts FILE MODULE: each
# blocked item's verdict names the module and the exception.
blocked() {
	python3 -c 'import json,sys; print(" ".join(sorted(i["name"] for i in json.load(open(sys.argv[1]))["items"] if i["blocked"])))' "$1"
}
check_verdicts() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
for i in json.load(open(sys.argv[1]))["items"]:
    if i["blocked"]:
        why = i["why"] or ""
        want = "ModuleNotFoundError: No module named '%s'" % sys.argv[2]
        assert i["regressed"] and want in why, (i["name"], why)
EOF
}

# run_real LEVEL IMAGE: verify every item at LEVEL in IMAGE against the real image.
run_real() {
	local level=$1 image=$2 t0
	t0=$(now_us)
	run_db "$T/out" "$T/err" -C "$REPO" verify --level "$level" --timeout 4 \
		--image "$image" --old-image "$REAL" --json --junit "$T/junit.xml" Packs
	echo "   $level, $image: exit $rc, $(secs_since "$t0") s, $(stat "$T/out" items_run) runs ($(stat "$T/out" old_runs) old), $(stat "$T/out" cache_hits) from the cache"
	[ "$rc" = 0 ] || [ "$rc" = 3 ] || { cat "$T/err" >&2; fail "verify $level $image: exit $rc"; }
	python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$T/junit.xml" ||
		fail "the JUnit file is not XML"
}

for level in load tests; do
	echo "== $level: an identical rebuild blocks nothing"
	run_real "$level" "$REAL_REBUILD"
	[ "$rc" = 0 ] || fail "the rebuild blocked: $(blocked "$T/out")"
	[ -z "$(blocked "$T/out")" ] || fail "the rebuild blocked: $(blocked "$T/out")"
	python3 - "$T/out" "$level" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
# The real CommonServerPython was imported once per container and shared: every item ran.
assert all(i["new"]["outcome"] != "error" for i in doc["items"]), doc["items"]
assert doc["stats"]["containers_started"] <= 2, doc["stats"]
EOF
	for module in yaml dateparser; do
		image=$REAL_NOYAML
		[ "$module" = dateparser ] && image=$REAL_NODATEPARSER
		want=$(importers "$module" "$level")
		echo "== $level: the image without $module blocks exactly its importers: ${want:-none}"
		run_real "$level" "$image"
		[ "$(blocked "$T/out")" = "$want" ] ||
			fail "without $module at $level: blocked '$(blocked "$T/out")', want '$want'"
		[ "$rc" = "$([ -n "$want" ] && echo 3 || echo 0)" ] || fail "exit $rc"
		check_verdicts "$T/out" "$module"
	done
done
[ -n "$(importers dateparser load)" ] || fail "the corpus has no item importing dateparser: nothing was shown"
assert_no_leftovers "the real content"
echo "verify_real: all checks passed"
