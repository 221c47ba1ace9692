#!/usr/bin/env bash
# The tag cache against the Docker Hub stand-in: zero requests within the TTL, at most one
# request per image after it (the stop-early rule), new tags merged in, a corrupt or foreign
# cache file ignored with a warning, --no-cache reading and writing nothing.
. "$(dirname "$0")/lib/netstub.bash"

start_hubstub hub --gen demisto/python3=250 --gen demisto/python=120
url="http://127.0.0.1:$hub_port"
printf 'cache: {ttl_s: 0}\n' >"$tmp/expired.yml" # every run is past the TTL
cachedir="$XDG_CACHE_HOME/dockerbump/tags"

# run IMAGE [config]: tags --json; $new_requests: what the stand-in saw for this run
run() {
	local before
	before=$(count_requests "$tmp/hub.log")
	if [ -n "${2:-}" ]; then
		run_db "$tmp/out" "$tmp/err" -c "$2" tags --registry-url "$url" "$1" --json
	else
		run_db "$tmp/out" "$tmp/err" tags --registry-url "$url" "$1" --json
	fi
	expect_rc 0 "tags $1"
	new_requests=$(($(count_requests "$tmp/hub.log") - before))
	curl -sf "$url/_control/tags?image=$1" >"$tmp/truth.json"
	check_tags_json "$tmp/out" "$tmp/truth.json" >/dev/null
}

run demisto/python3
[ "$new_requests" = 3 ] || fail "cold: want 3 pages, saw $new_requests"
run demisto/python
[ "$new_requests" = 2 ] || fail "cold: want 2 pages, saw $new_requests"
pass "cold runs read every page"

run demisto/python3
[ "$new_requests" = 0 ] || fail "within the TTL: want 0 requests, saw $new_requests"
run demisto/python
[ "$new_requests" = 0 ] || fail "within the TTL: want 0 requests, saw $new_requests"
pass "within the TTL: no request"

run demisto/python3 "$tmp/expired.yml"
[ "$new_requests" = 1 ] || fail "after the TTL: want 1 request, saw $new_requests"
run demisto/python "$tmp/expired.yml"
[ "$new_requests" = 1 ] || fail "after the TTL: want 1 request, saw $new_requests"
pass "after the TTL: one request per image"

# Five new tags: still one page, and they are listed.
curl -sf -X POST -d '{"image": "demisto/python3", "count": 5}' "$url/_control/add" >/dev/null
run demisto/python3 "$tmp/expired.yml"
[ "$new_requests" = 1 ] || fail "5 new tags: want 1 request, saw $new_requests"
pass "new tags merged from one page"

# 150 new tags: page 1 is all new, page 2 reaches the known ones.
curl -sf -X POST -d '{"image": "demisto/python3", "count": 150}' "$url/_control/add" >/dev/null
run demisto/python3 "$tmp/expired.yml"
[ "$new_requests" = 2 ] || fail "150 new tags: want 2 requests, saw $new_requests"
pass "150 new tags: stops after the second page"

# A corrupt (truncated) cache file is ignored with a warning; the run lists everything again.
f=$(grep -l '"image":"demisto/python3"' "$cachedir"/*.json)
head -c 500 "$f" >"$f.cut" && mv "$f.cut" "$f"
run demisto/python3
expect_grep "warn: ignoring the tag cache '$f'" "$tmp/err" "corrupt cache warning"
[ "$new_requests" = 5 ] || fail "corrupt cache: want a full listing (5 pages), saw $new_requests"
pass "a truncated cache file is ignored"

# Garbage in the file, and a foreign one (another image's file under this image's name).
printf '\xff\xfenot json' >"$f"
run demisto/python3
expect_grep "ignoring the tag cache" "$tmp/err" "garbage cache warning"
g=$(grep -l '"image":"demisto/python"' "$cachedir"/*.json)
cp "$g" "$f"
run demisto/python3
expect_grep "written for another registry or image" "$tmp/err" "foreign cache warning"
[ "$new_requests" = 5 ] || fail "foreign cache: want a full listing, saw $new_requests"
pass "garbage and foreign cache files are ignored"

# A cache file with an invalid tag name is refused as a whole.
python3 - "$f" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["tags"][0]["name"] = "../../x"
json.dump(d, open(sys.argv[1], "w"))
PY
run demisto/python3
expect_grep "an invalid tag entry" "$tmp/err" "invalid name in the cache"
pass "a cache file with an invalid tag name is ignored"

# A fetch time in the future would keep a stale list forever: refused.
python3 - "$f" <<'PY'
import json, sys, time
d = json.load(open(sys.argv[1]))
d["fetched_at"] = int(time.time()) + 86400 * 365
json.dump(d, open(sys.argv[1], "w"))
PY
run demisto/python3
expect_grep "implausible fetch times" "$tmp/err" "future fetch time"
pass "a cache file from the future is ignored"

# --no-cache neither reads nor writes.
rm -rf "$XDG_CACHE_HOME"
before=$(count_requests "$tmp/hub.log")
run_db "$tmp/out" "$tmp/err" tags --no-cache --registry-url "$url" demisto/python --json
expect_rc 0 "--no-cache"
[ ! -e "$XDG_CACHE_HOME/dockerbump" ] || fail "--no-cache wrote the cache"
[ $(($(count_requests "$tmp/hub.log") - before)) = 2 ] || fail "--no-cache should read every page"
pass "--no-cache"
