# run --pr github against the GitHub stand-in: the first run opens one pull request per branch
# with its labels; a newer tag updates the same pull requests; a 422 "already exists" is
# resolved by finding and updating the pull request; a 401 is a clear error naming the host;
# the token never appears in anything the runs wrote.
. "$(dirname "$0")/lib/content.bash"

token="ghp_dockerbumpTestToken0123456789abcdef"
export GITHUB_TOKEN=$token
python3 "$GEN" "$tmp/repo" --small --git --manifest "$tmp/manifest.json" -q
add_bare_remote "$tmp/repo" remote

gh_port_file=$tmp/gh.port
python3 "$stubs/ghstub.py" --port-file "$gh_port_file" --log "$tmp/gh.log" --repo demisto/content \
	--git-dir "$tmp/remote.git" --prefix /api/v3 --lifetime 600 >/dev/null 2>"$tmp/gh.err" &
started_pids+=($!)
wait_for_file "$gh_port_file" 15
gh="http://127.0.0.1:$(cat "$gh_port_file")"
# git.base is pinned: without it, run still names the remote-tracking branch ('origin/main') as
# the pull requests' base (issue 9), which GitHub, and so the stand-in, refuses with a 422.
cat >"$tmp/config.yml" <<YAML
git:
  base: main
pull_request:
  provider: github
  api_url: "$gh/api/v3"
  repo: demisto/content
  labels: [docker-image-auto-update, dependencies]
YAML

# Two tag sets: the second has a newer tag for every image.
python3 - "$tmp/manifest.json" "$tmp" <<'PY'
import json, re, sys
m = json.load(open(sys.argv[1]))
for n, bump in ((1, 5000000), (2, 6000000)):
    tags = {}
    for image, used in m["images"].items():
        numeric = [t for t in used if t and re.fullmatch(r"\d+(\.\d+)+", t)]
        best = max(numeric, key=lambda t: [int(x) for x in t.split(".")], default="1.0.0.1")
        p = best.split(".")
        names = sorted(set(t for t in used if t)) + [".".join(p[:-1] + [str(int(p[-1]) + bump)])]
        tags[image] = [{"name": t, "last_updated": "2026-01-01T00:00:00Z"} for t in names]
    json.dump(tags, open(f"{sys.argv[2]}/tags{n}.json", "w"))
PY
start_hubstub hub1 --tags "$tmp/tags1.json"
start_hubstub hub2 --tags "$tmp/tags2.json"
state() { curl -sf "$gh/_stub/state" >"$tmp/state.json"; }
pulls() { # pulls: "number head title labels" per open pull request
	state
	python3 -c 'import json,sys
s = json.load(open(sys.argv[1]))
for p in s["repos"]["demisto/content"]["pulls"]:
    if p["state"] == "open":
        print(p["number"], p["head"]["ref"] if isinstance(p["head"], dict) else p["head"], "|", p["title"], "|", ",".join(sorted(l["name"] if isinstance(l, dict) else l for l in p["labels"])))' "$tmp/state.json"
}
run() { # run N HUB [args]: a run with the config, logs as JSON lines at debug level
	local n=$1 port=$2
	shift 2
	run_db "$tmp/out$n" "$tmp/err$n" -c "$tmp/config.yml" --log-format json -v -C "$tmp/repo" run \
		--verify off --registry-url "http://127.0.0.1:$port" --report "$tmp/report$n.json" "$@"
}

# --- first run: one pull request per branch, labelled -------------------------------------
run 1 "$hub1_port"
[ "$rc" = 0 ] || { cat "$tmp/err1" >&2; fail "first run: exit $rc"; }
nbranches=$(python3 -c "import json; print(len(json.load(open('$tmp/report1.json'))['branches']))")
[ "$nbranches" -ge 2 ] || fail "expected several branches, got $nbranches"
pulls >"$tmp/pulls1"
[ "$(wc -l <"$tmp/pulls1")" = "$nbranches" ] || { cat "$tmp/pulls1" >&2; fail "not one pull request per branch"; }
grep -v "dependencies,docker-image-auto-update$" "$tmp/pulls1" && fail "a pull request lacks its labels"
grep -qE "dockerbump/group-[0-9]+ \| Update demisto/python3? to " "$tmp/pulls1" || fail "title"
python3 -c "
import json; r = json.load(open('$tmp/report1.json'))
assert all(b['pull_request'] and b['pull_request']['number'] for b in r['branches']), r['branches']" ||
	fail "the report lacks the pull requests"
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

# --- a newer tag: the same pull requests are updated, none is opened -----------------------
run 2 "$hub2_port"
[ "$rc" = 0 ] || { cat "$tmp/err2" >&2; fail "second run: exit $rc"; }
pulls >"$tmp/pulls2"
[ "$(cut -d' ' -f1-2 "$tmp/pulls1")" = "$(cut -d' ' -f1-2 "$tmp/pulls2")" ] || fail "pull requests were not reused"
cmp -s "$tmp/pulls1" "$tmp/pulls2" && fail "the titles did not follow the newer tag"
posts2=$(grep -c '"method": "POST", "path": "/repos/demisto/content/pulls"' "$tmp/gh.log" || true)
[ "$posts1" = "$posts2" ] || fail "the second run opened pull requests ($posts1 -> $posts2)"
grep -q '"method": "PATCH"' "$tmp/gh.log" || fail "no pull request was updated"

# --- a 422 "already exists": found and updated, not duplicated ------------------------------
curl -sf -X POST "$gh/_stub/reset" >/dev/null
curl -sf -X POST -H 'Content-Type: application/json' "$gh/_stub/faults" \
	-d '{"method": "POST", "path": "/repos/demisto/content/pulls", "kind": "exists", "times": 1}' >/dev/null
run 3 "$hub2_port"
[ "$rc" = 0 ] || { cat "$tmp/err3" >&2; fail "the 422 run: exit $rc"; }
pulls >"$tmp/pulls3"
[ "$(wc -l <"$tmp/pulls3")" = "$nbranches" ] || { cat "$tmp/pulls3" >&2; fail "422: not one pull request per branch"; }

# --- 401: a clear error naming the host --------------------------------------------------------
curl -sf -X POST -H 'Content-Type: application/json' "$gh/_stub/faults" \
	-d '{"method": "*", "path": ".*", "kind": "401", "times": -1}' >/dev/null
run 4 "$hub1_port"
[ "$rc" = 1 ] || { cat "$tmp/err4" >&2; fail "401: exit $rc, want 1"; }
grep -q "127.0.0.1" "$tmp/err4" || { cat "$tmp/err4" >&2; fail "401: the error does not name the host"; }
grep -q "401" "$tmp/err4" || fail "401: the error does not say 401"

# --- the token appears nowhere --------------------------------------------------------------
git -C "$tmp/repo" log --all --format='%B' >"$tmp/messages"
if grep -rl -- "$token" "$tmp"/out* "$tmp"/err* "$tmp"/report*.json "$tmp/messages" "$tmp/gh.log" \
	"$XDG_CACHE_HOME" 2>/dev/null; then
	fail "the token was written out"
fi
echo "run_pr: ok"
