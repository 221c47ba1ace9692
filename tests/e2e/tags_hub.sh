#!/usr/bin/env bash
# `dockerbump tags` against the Docker Hub stand-in: pagination, order, picks, the text and
# JSON outputs, usage errors and an unknown image; and the v2 client's Link pagination
# (relative and absolute), Basic auth and conditional requests, which the real registry used in
# registry_*.sh cannot show (it never paginates).
. "$(dirname "$0")/lib/netstub.bash"

start_hubstub hub --gen demisto/python3=250 --gen demisto/python=40
url="http://127.0.0.1:$hub_port"
curl -sf "$url/_control/tags?image=demisto/python3" >"$tmp/truth.json"

# Cold listing, three pages of 100, newest first.
run_db "$tmp/out" "$tmp/err" tags --no-cache --registry-url "$url" demisto/python3 --json
expect_rc 0 "hub listing"
check_tags_json "$tmp/out" "$tmp/truth.json"
[ "$(count_requests "$tmp/hub.log" page_size=100)" = 3 ] || fail "want 3 page requests"
expect_grep '"ordering=last_updated' <(grep -o '"query": "[^"]*' "$tmp/hub.log" | sed 's/.*page_size=100&/"/') "ordering"
grep -q '"latest"' "$tmp/out" || fail "the non-numeric tag 'latest' is missing"
python3 - "$tmp/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["image"] == "demisto/python3" and d["registry"].startswith("http://127.0.0.1:")
latest = [t for t in d["tags"] if t["name"] == "latest"][0]
assert latest["build"] is None and latest["last_updated"] is not None  # from tag_last_pushed
assert list(d["picks"]) == ["latest-build", "same-minor", "same-major"]
PY
pass "hub listing, order and picks"

# Picks relative to a current tag: same-minor stays on 3.10, same-major on 3.
run_db "$tmp/out" "$tmp/err" tags --no-cache --registry-url "$url" demisto/python3:3.10.1.90000 --json
expect_rc 0 "IMAGE:TAG"
python3 - "$tmp/out" "$tmp/truth.json" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1])); truth = json.load(open(sys.argv[2]))
num = [t["name"] for t in truth if re.match(r"^\d+(\.\d+)+$", t["name"])]
key = lambda n: (int(n.split(".")[-1]), [int(x) for x in n.split(".")])
want_minor = max((n for n in num if n.startswith("3.10.")), key=key)
assert d["picks"]["same-minor"] == want_minor, (d["picks"], want_minor)
assert d["picks"]["same-major"] == max(num, key=key)
PY
pass "picks relative to a current tag"

# --limit, the text table, --strategy marks its pick.
run_db "$tmp/out" "$tmp/err" tags --no-cache --registry-url "$url" demisto/python3 --limit 5 --strategy same-minor
expect_rc 0 "text output"
expect_grep "253 tags, 250 candidates, 3 other" "$tmp/out" "counts"
expect_grep "^\* same-minor" "$tmp/out" "strategy mark"
[ "$(grep -c '^3\.' "$tmp/out")" = 5 ] || fail "--limit 5 shows 5 tags"
run_db "$tmp/out" "$tmp/err" tags --no-cache --registry-url "$url" demisto/python3 --json --limit 7
[ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["tags"]))' "$tmp/out")" = 7 ] ||
	fail "--json --limit 7"
pass "text table, --limit, --strategy"

# Digests come from the hub listing.
run_db "$tmp/out" "$tmp/err" tags --no-cache --registry-url "$url" demisto/python --json --digest
expect_rc 0 "--digest on hub"
python3 - "$tmp/out" <<'PY'
import hashlib, json, sys
d = json.load(open(sys.argv[1]))
t = d["picks"]["latest-build"]
want = "sha256:" + hashlib.sha256(("demisto/python:" + t).encode()).hexdigest()
assert d["digests"][t] == want, d["digests"]
PY
pass "hub digests"

# Unknown image: exit 1, the error names the image and URL. Usage errors: exit 2.
run_db "$tmp/out" "$tmp/err" tags --no-cache --registry-url "$url" demisto/nothing
expect_rc 1 "unknown image"
expect_grep "image 'demisto/nothing' not found at 'http://127.0.0.1:$hub_port/v2/namespaces/demisto/repositories/nothing/tags'" "$tmp/err" "404 message"
for bad in "Demisto/Python3" "demisto/../x" "a//b" "demisto/python3:../../x"; do
	run_db "$tmp/out" "$tmp/err" tags --no-cache --registry-url "$url" "$bad"
	expect_rc 2 "invalid image '$bad'"
done
run_db "$tmp/out" "$tmp/err" tags --registry-api v3 demisto/python3
expect_rc 2 "bad --registry-api"
run_db "$tmp/out" "$tmp/err" tags --registry-url ftp://x demisto/python3
expect_rc 2 "ftp registry URL"
run_db "$tmp/out" "$tmp/err" tags --help
expect_rc 0 "--help"
expect_grep "same-minor" "$tmp/out" "help text"
pass "errors and usage"

# v2 through the stand-in: pages of 100, relative Link headers.
start_hubstub v2 --gen demisto/python3=250 --page-size-max 100
curl -sf "http://127.0.0.1:$v2_port/_control/tags?image=demisto/python3" >"$tmp/truth2.json"
run_db "$tmp/out" "$tmp/err" tags --no-cache --registry-api v2 --registry-url "http://127.0.0.1:$v2_port" demisto/python3 --json
expect_rc 0 "v2 relative links"
python3 - "$tmp/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert all(t["last_updated"] is None for t in d["tags"])
PY
# v2 has no times: compare names only
python3 -c 'import json,sys; json.dump([t["name"] for t in json.load(open(sys.argv[1]))], open(sys.argv[2],"w"))' "$tmp/truth2.json" "$tmp/names2.json"
check_tags_json "$tmp/out" "$tmp/names2.json"
[ "$(count_requests "$tmp/v2.log" /tags/list)" = 3 ] || fail "want 3 v2 pages"
pass "v2 Link pagination (relative)"

start_hubstub v2abs --gen demisto/python3=250 --page-size-max 100 --v2-absolute-links --v2-basic --user bot --password 's3cr3t-pw'
u2="http://127.0.0.1:$v2abs_port"
run_db "$tmp/out" "$tmp/err" tags --no-cache --registry-api v2 --registry-url "$u2" demisto/python3 --json
expect_rc 1 "v2 basic without credentials"
expect_grep "refused" "$tmp/err" "401 message"
expect_grep "DOCKERBUMP_REGISTRY_USER" "$tmp/err" "hint at the credentials"
DOCKERBUMP_REGISTRY_USER=bot DOCKERBUMP_REGISTRY_PASSWORD='s3cr3t-pw' \
	run_db "$tmp/out" "$tmp/err" -v tags --registry-api v2 --registry-url "$u2" demisto/python3 --json
expect_rc 0 "v2 absolute links + basic auth"
check_tags_json "$tmp/out" "$tmp/names2.json"
! grep -q 's3cr3t-pw' "$tmp/err" || fail "the password reached the log"
# Warm run after the TTL: one conditional request, answered 304.
printf 'cache: {ttl_s: 0}\n' >"$tmp/ttl0.yml"
: >"$tmp/v2abs.log"
DOCKERBUMP_REGISTRY_USER=bot DOCKERBUMP_REGISTRY_PASSWORD='s3cr3t-pw' \
	run_db "$tmp/out" "$tmp/err" -c "$tmp/ttl0.yml" tags --registry-api v2 --registry-url "$u2" demisto/python3 --json
expect_rc 0 "v2 conditional"
check_tags_json "$tmp/out" "$tmp/names2.json"
grep -q '"status": 304' "$tmp/v2abs.log" || fail "no 304 on the warm v2 run"
[ "$(grep -c '"status": 304' "$tmp/v2abs.log")" = 1 ] && [ "$(grep -c '"status": 200' "$tmp/v2abs.log")" = 0 ] ||
	fail "the warm v2 run should need one conditional request (after the 401 challenge)"
pass "v2 absolute links, Basic auth, conditional refresh"
