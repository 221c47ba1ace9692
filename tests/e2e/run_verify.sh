# run with verification in a real container engine: a bump to an image that lacks a module the
# item imports is refused (not committed, exit 3) while the other items of the group are
# committed; the same item is committed when the new image is good; code that fails the same
# way in both images is no regression; with no engine at all, nothing is committed (exit 1).
# ctest-resource: docker
. "$(dirname "$0")/lib/verify.bash"
old=${OLD#*:} new=${NEW#*:} broken=${BROKEN#*:}
build_images old new broken

# A content repository: four items on the old image.
c=$tmp/content
mkdir -p "$c/Packs/Base/Scripts/CommonServerPython"
cp "$DOCKERBUMP_SOURCE_DIR/docker/demo/content/Packs/Base/Scripts/CommonServerPython/CommonServerPython.py" \
	"$c/Packs/Base/Scripts/CommonServerPython/"
item() { # item NAME KIND CODE
	local d=$c/Packs/Demo/Scripts/$1
	[ "$2" = integration ] && d=$c/Packs/Demo/Integrations/$1
	mkdir -p "$d"
	if [ "$2" = integration ]; then
		printf 'commonfields:\n  id: %s\nname: %s\nconfiguration: []\nscript:\n  script: "-"\n  type: python\n  subtype: python3\n  dockerimage: demisto/python3:%s\nfromversion: 6.0.0\n' "$1" "$1" "$old" >"$d/$1.yml"
	else
		printf 'commonfields:\n  id: %s\nname: %s\nscript: "-"\ntype: python\nsubtype: python3\ndockerimage: demisto/python3:%s\nfromversion: 6.0.0\n' "$1" "$1" "$old" >"$d/$1.yml"
	fi
	printf '%s\n' "$3" >"$d/$1.py"
}
hdr='import demistomock as demisto
from CommonServerPython import *'
item ParseYaml script "$hdr
import yaml
return_results(yaml.safe_load('a: 1'))"
item SayHello script "$hdr
return_results('hello ' + (demisto.args().get('name') or 'world'))"
item AlwaysBroken script "$hdr
return_results(undefined_name)"
item HelloIntegration integration "$hdr
if demisto.command() == 'test-module':
    return_results('ok')"
printf '{\n    "name": "Demo",\n    "currentVersion": "1.0.0"\n}\n' >"$c/Packs/Demo/pack_metadata.json"
make_repo "$tmp/repo" "$c"

tags() { # tags FILE NAME...: a hub tag list for demisto/python3
	local f=$1
	shift
	python3 -c 'import json,sys; json.dump({"demisto/python3": [{"name": n, "last_updated": "2026-01-01T00:00:00Z"} for n in sys.argv[2:]]}, open(sys.argv[1], "w"))' "$f" "$@"
}
status_of() { python3 -c 'import json,sys; print({i["name"]: i["status"] for i in json.load(open(sys.argv[1]))["items"]}[sys.argv[2]])' "$@"; }
verify_of() { python3 -c 'import json,sys; v={i["name"]: i["verify"] for i in json.load(open(sys.argv[1]))["items"]}[sys.argv[2]]; print(v["old"], v["new"], v["regressed"])' "$@"; }
demo_branch=$(group_branch Demo)
on_branch() { git -C "$tmp/repo" show "$demo_branch:$1" | grep -c "demisto/python3:$2" || true; }

# --- the newest tag is the broken image ------------------------------------------------------
tags "$tmp/t1.json" "$old" "$broken"
start_hubstub hub1 --tags "$tmp/t1.json"
expect_exit 3 -C "$tmp/repo" run --no-push --registry-url "http://127.0.0.1:$hub1_port" \
	--report "$tmp/r1.json" --junit "$tmp/j1.xml"
[ "$(status_of "$tmp/r1.json" ParseYaml)" = verify-failed ] || fail "ParseYaml was not blocked"
[ "$(verify_of "$tmp/r1.json" ParseYaml)" = "ok exception True" ] || fail "ParseYaml outcomes: $(verify_of "$tmp/r1.json" ParseYaml)"
for n in SayHello AlwaysBroken HelloIntegration; do
	[ "$(status_of "$tmp/r1.json" $n)" = bumped ] || fail "$n: $(status_of "$tmp/r1.json" $n)"
done
[ "$(verify_of "$tmp/r1.json" AlwaysBroken)" = "exception exception False" ] || fail "AlwaysBroken is called a regression"
# Lazy: the old image ran only where the new one was not clean.
[ "$(verify_of "$tmp/r1.json" SayHello)" = "not-run ok False" ] || fail "SayHello: $(verify_of "$tmp/r1.json" SayHello)"
python3 -c 'import json,sys; r={i["name"]: i["reason"] for i in json.load(open(sys.argv[1]))["items"]}["ParseYaml"]; sys.exit(0 if "ModuleNotFoundError" in r and "yaml" in r else "reason: %s" % r)' "$tmp/r1.json"
[ "$(on_branch Packs/Demo/Scripts/ParseYaml/ParseYaml.yml "$broken")" = 0 ] || fail "the blocked bump was committed"
[ "$(on_branch Packs/Demo/Scripts/SayHello/SayHello.yml "$broken")" = 1 ] || fail "SayHello was not committed"
git -C "$tmp/repo" log -1 --format=%B "$demo_branch" | grep -q "Blocked: Packs/Demo/Scripts/ParseYaml" ||
	fail "the commit message does not name the blocked item"
git -C "$tmp/repo" show "$demo_branch:Packs/Demo/ReleaseNotes/1_0_1.md" | grep -q ParseYaml &&
	fail "the release note lists the blocked item"
grep -q '<testcase' "$tmp/j1.xml" || fail "no JUnit testcases"
grep -q 'ParseYaml' "$tmp/j1.xml" || fail "JUnit lacks ParseYaml"

# --- a good newest image: everything is committed --------------------------------------------
tags "$tmp/t2.json" "$old" "$new"
start_hubstub hub2 --tags "$tmp/t2.json"
expect_exit 0 -C "$tmp/repo" run --no-push --registry-url "http://127.0.0.1:$hub2_port" --report "$tmp/r2.json"
[ "$(status_of "$tmp/r2.json" ParseYaml)" = bumped ] || fail "ParseYaml not bumped to the good image"
[ "$(on_branch Packs/Demo/Scripts/ParseYaml/ParseYaml.yml "$new")" = 1 ] || fail "ParseYaml not on the branch"

# --- no engine reachable: exit 1 before committing anything ----------------------------------
git -C "$tmp/repo" branch -D "$demo_branch" >/dev/null
run_db "$tmp/out" "$tmp/err" -C "$tmp/repo" run --no-push --no-cache --registry-url "http://127.0.0.1:$hub2_port" \
	--runtime docker
rc_ok=$rc
DOCKER_HOST=unix://$tmp/no-engine.sock run_db "$tmp/out" "$tmp/err" -C "$tmp/repo" run --no-push --no-cache \
	--registry-url "http://127.0.0.1:$hub2_port"
[ "$rc" = 1 ] || { cat "$tmp/err" >&2; fail "no engine: exit $rc, want 1"; }
grep -q -- "--verify off" "$tmp/err" || { cat "$tmp/err" >&2; fail "no hint to pass --verify off"; }
[ "$rc_ok" = 0 ] || fail "the run with an engine failed ($rc_ok)"
git -C "$tmp/repo" branch -D "$demo_branch" >/dev/null
DOCKER_HOST=unix://$tmp/no-engine.sock run_db "$tmp/out" "$tmp/err" -C "$tmp/repo" run --no-push --no-cache \
	--registry-url "http://127.0.0.1:$hub2_port"
[ -z "$(git -C "$tmp/repo" for-each-ref refs/heads/dockerbump/)" ] || fail "a branch was made without verification"
assert_no_leftovers "the runs"
echo "run_verify: ok"
