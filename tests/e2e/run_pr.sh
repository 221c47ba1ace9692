# run --pr github against the GitHub stand-in, in a plain clone (origin/HEAD -> origin/main, no
# git.base): the first night opens the canary's pull request only, labelled, against the base
# branch by its name ("main", never "origin/main"), and every other group waits; a newer tag
# moves that same pull request in place; a 422 "already exists" is resolved by finding and
# updating the pull request; a 401 is a clear error naming the host; the token never appears
# in anything the runs wrote.
. "$(dirname "$0")/lib/content.bash"

token="ghp_dockerbumpTestToken0123456789abcdef"
export GITHUB_TOKEN=$token
python3 "$GEN" "$tmp/repo" --small --git --manifest "$tmp/manifest.json" -q
add_bare_remote "$tmp/repo" remote
[ "$(git -C "$tmp/repo" symbolic-ref refs/remotes/origin/HEAD)" = refs/remotes/origin/main ] ||
	fail "the clone's origin/HEAD is not origin/main"

gh_port_file=$tmp/gh.port
python3 "$stubs/ghstub.py" --port-file "$gh_port_file" --log "$tmp/gh.log" --repo demisto/content \
	--git-dir "$tmp/remote.git" --prefix /api/v3 --lifetime 600 >/dev/null 2>"$tmp/gh.err" &
started_pids+=($!)
wait_for_file "$gh_port_file" 15
gh="http://127.0.0.1:$(cat "$gh_port_file")"
# JadeNDR is the canary: it has demisto/python3 items to bump.
cat >"$tmp/config.yml" <<YAML
pull_request:
  provider: github
  api_url: "$gh/api/v3"
  repo: demisto/content
  labels: [docker-image-auto-update, dependencies]
rollout:
  canary_packs: [JadeNDR]
cache:
  ttl_s: 0
YAML

# Two tag sets of demisto/python3, each newer than every tag the repository uses: nothing is
# released yet (the canary runs neither), so only the canary may be proposed one.
python3 - "$tmp" <<'PY'
import json, sys
for n, tags in ((1, ["3.12.13.2000000"]), (2, ["3.12.13.2000000", "3.12.13.2100000"])):
    json.dump({"demisto/python3": [{"name": t, "last_updated": "2026-01-01T00:00:00Z"}
                                   for t in tags]}, open("%s/tags%d.json" % (sys.argv[1], n), "w"))
PY
start_hubstub hub1 --tags "$tmp/tags1.json"
start_hubstub hub2 --tags "$tmp/tags2.json"
pulls() { # pulls: "number head base | title | labels" per open pull request
	curl -sf "$gh/_stub/state" | python3 -c 'import json, sys
s = json.load(sys.stdin)
for p in s["repos"]["demisto/content"]["pulls"]:
    if p["state"] == "open":
        print(p["number"], p["head"]["ref"], p["base"]["ref"], "|", p["title"], "|",
              ",".join(sorted(l["name"] for l in p["labels"])))'
}
run() { # run N HUB [args]: a run with the config, logs as JSON lines at debug level
	local n=$1 port=$2
	shift 2
	run_db "$tmp/out$n" "$tmp/err$n" -c "$tmp/config.yml" --log-format json -v -C "$tmp/repo" run \
		--verify off --image demisto/python3 --registry-url "http://127.0.0.1:$port" \
		--report "$tmp/report$n.json" "$@"
}

# --- the first night: the canary's pull request only ----------------------------------------
run 1 "$hub1_port"
[ "$rc" = 0 ] || { cat "$tmp/err1" >&2; fail "first run: exit $rc"; }
pulls >"$tmp/pulls1"
cat "$tmp/pulls1"
[ "$(wc -l <"$tmp/pulls1")" = 1 ] || fail "the first night opened $(wc -l <"$tmp/pulls1") pull requests, want the canary's only"
grep -qE "^[0-9]+ dockerbump/canary main \| Update demisto/python3 to 3\.12\.13\.2000000 \(canary\) \| dependencies,docker-image-auto-update$" \
	"$tmp/pulls1" || fail "the canary's pull request: head, base 'main', title or labels"
python3 - "$tmp/gh.log" "$tmp/report1.json" <<'PY' || fail "the first night's requests or report"
import json, sys
log = [json.loads(l) for l in open(sys.argv[1])]
posts = [e for e in log if e["method"] == "POST" and e["path"] == "/repos/demisto/content/pulls"]
assert len(posts) == 1, posts
assert posts[0]["body"]["base"] == "main", posts[0]["body"]          # never "origin/main"
assert posts[0]["body"]["head"] == "dockerbump/canary", posts[0]["body"]
assert '"base":"main"' in posts[0]["body"]["body"], "the marker names the base"
r = json.load(open(sys.argv[2]))
by = {b["name"]: b for b in r["branches"]}
assert by["dockerbump/canary"]["pull_request"]["outcome"] == "created", by
others = [b for n, b in by.items() if n != "dockerbump/canary"]
assert all(b["pull_request"]["outcome"] == "waiting" for b in others), others
for it in r["items"]:
    if it["status"] == "bumped":
        assert it["pack"] == "JadeNDR" and it["branch"] == "dockerbump/canary", it
    if it["status"] == "waiting":
        assert "released by the canary" in it["reason"], it
assert any(it["status"] == "waiting" for it in r["items"])
ro = r["rollout"]["demisto/python3"]
assert ro["canary"] == "dockerbump/canary" and ro["target"] == "3.12.13.2000000", ro
assert ro["released"] is None, ro
PY
# every log line is JSON with time, level and message
python3 - "$tmp/err1" <<'PY' || fail "--log-format json"
import json, sys
n = 0
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert {"time", "level", "message"} <= set(o), o
    n += 1
assert n > 3, n
PY
posts1=$(grep -c '"method": "POST", "path": "/repos/demisto/content/pulls"' "$tmp/gh.log" || true)

# --- a newer tag: the canary's pull request moves in place ----------------------------------
run 2 "$hub2_port"
[ "$rc" = 0 ] || { cat "$tmp/err2" >&2; fail "second run: exit $rc"; }
pulls >"$tmp/pulls2"
[ "$(cut -d' ' -f1-3 "$tmp/pulls1")" = "$(cut -d' ' -f1-3 "$tmp/pulls2")" ] || fail "the pull request was not reused"
grep -q "to 3\.12\.13\.2100000 (canary)" "$tmp/pulls2" || fail "the title did not follow the newer tag"
posts2=$(grep -c '"method": "POST", "path": "/repos/demisto/content/pulls"' "$tmp/gh.log" || true)
[ "$posts1" = "$posts2" ] || fail "the second run opened pull requests ($posts1 -> $posts2)"
grep -q '"method": "PATCH", "path": "/repos/demisto/content/pulls/' "$tmp/gh.log" || fail "no pull request was updated"
[ "$(git -C "$tmp/remote.git" show dockerbump/canary:Packs/JadeNDR/pack_metadata.json | grep -c currentVersion)" = 1 ] ||
	fail "the canary's branch lacks its pack's version"

# --- a 422 "already exists": found and updated, not duplicated ------------------------------
curl -sf -X POST "$gh/_stub/reset" >/dev/null
curl -sf -X POST -H 'Content-Type: application/json' "$gh/_stub/faults" \
	-d '{"method": "POST", "path": "/repos/demisto/content/pulls", "kind": "exists", "times": 1}' >/dev/null
run 3 "$hub2_port"
[ "$rc" = 0 ] || { cat "$tmp/err3" >&2; fail "the 422 run: exit $rc"; }
pulls >"$tmp/pulls3"
[ "$(wc -l <"$tmp/pulls3")" = 1 ] || { cat "$tmp/pulls3" >&2; fail "422: not one pull request"; }
grep -q "dockerbump/canary main | Update demisto/python3 to 3\.12\.13\.2100000 (canary)" "$tmp/pulls3" ||
	fail "422: the pull request found was not brought up to date"

# --- 401: a clear error naming the host --------------------------------------------------------
curl -sf -X POST -H 'Content-Type: application/json' "$gh/_stub/faults" \
	-d '{"method": "*", "path": ".*", "kind": "401", "times": -1}' >/dev/null
run 4 "$hub1_port"
[ "$rc" = 1 ] || { cat "$tmp/err4" >&2; fail "401: exit $rc, want 1"; }
grep -q "127.0.0.1:$(cat "$gh_port_file")" "$tmp/err4" || { cat "$tmp/err4" >&2; fail "401: the error does not name the host"; }
grep -q "401" "$tmp/err4" || fail "401: the error does not say 401"
grep -q "GITHUB_TOKEN" "$tmp/err4" || fail "401: the error does not name the token's variable"

# --- the token appears nowhere --------------------------------------------------------------
git -C "$tmp/repo" log --all --format='%B' >"$tmp/messages"
git -C "$tmp/remote.git" log --all --format='%B' >>"$tmp/messages"
curl -sf "$gh/_stub/state" >"$tmp/state.json"
if grep -rl -- "$token" "$tmp"/out* "$tmp"/err* "$tmp"/report*.json "$tmp/messages" "$tmp/gh.log" \
	"$tmp/state.json" "$XDG_CACHE_HOME" 2>/dev/null; then
	fail "the token was written out"
fi
grep -q '"authorization": "\[expected token\]"' "$tmp/gh.log" || fail "the stand-in never saw the token (the check above proves nothing)"
echo "run_pr: ok"
