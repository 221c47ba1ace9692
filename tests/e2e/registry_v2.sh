#!/usr/bin/env bash
# `dockerbump tags --registry-api v2` against a real registry (Debian's docker-registry, no
# auth), seeded over its HTTP API with a few hundred tags of demisto/python3.
. "$(dirname "$0")/lib/netstub.bash"

start_registry reg
registry_tag_names 300 >"$tmp/names.txt"
digest=$(python3 "$stubs/regseed.py" --url "$reg_url" --image demisto/python3 --tags-file "$tmp/names.txt")
python3 -c 'import json,sys; json.dump([l.strip() for l in open(sys.argv[1]) if l.strip()], open(sys.argv[2], "w"))' \
	"$tmp/names.txt" "$tmp/truth.json"
pass "seeded $(wc -l <"$tmp/names.txt") tags ($digest)"

run_db "$tmp/out" "$tmp/err" tags --registry-api v2 --registry-url "$reg_url" demisto/python3 --json --digest
expect_rc 0 "v2 listing"
check_tags_json "$tmp/out" "$tmp/truth.json"
python3 - "$tmp/out" "$digest" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert all(t["last_updated"] is None for t in d["tags"]), "v2 has no times"
assert set(d["digests"].values()) == {sys.argv[2]}, d["digests"]
assert d["registry"].startswith("http://127.0.0.1:")
PY
pass "v2 listing, order, picks and manifest digests"

# The cache answers within the TTL; a distribution registry sends no ETag for tags/list, so
# after the TTL the (single-page) list is read again: one request.
run_db "$tmp/out" "$tmp/err" -v tags --registry-api v2 --registry-url "$reg_url" demisto/python3 --json
expect_rc 0 "v2 cached"
expect_grep "0 requests" "$tmp/err" "v2 within the TTL"
printf 'cache: {ttl_s: 0}\n' >"$tmp/expired.yml"
run_db "$tmp/out" "$tmp/err" -v -c "$tmp/expired.yml" tags --registry-api v2 --registry-url "$reg_url" demisto/python3 --json
expect_rc 0 "v2 after the TTL"
expect_grep "'demisto/python3': 1 requests" "$tmp/err" "v2 after the TTL: one request"
check_tags_json "$tmp/out" "$tmp/truth.json" >/dev/null
pass "v2 cache"

# Unknown repository and unknown manifest.
run_db "$tmp/out" "$tmp/err" tags --no-cache --registry-api v2 --registry-url "$reg_url" demisto/nothing
expect_rc 1 "unknown repository"
expect_grep "image 'demisto/nothing' not found at '$reg_url/v2/demisto/nothing/tags/list'" "$tmp/err" "404 message"
pass "unknown repository"
