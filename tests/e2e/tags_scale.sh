#!/usr/bin/env bash
# `dockerbump tags` on images far larger than any real one, end to end (HTTP, JSON, the
# cache): one hub page of 80,000 tags, 400,000 tags over hub pages and over v2 pages, and the
# warm run after the TTL that reads one page and merges it into 400,000 cached tags. Each run
# must list every tag; the times are printed, not asserted (test_tagscale holds the bound on
# the parsers, under its ctest timeout). The stand-in serves 80,000 tags a page whatever the
# client asks, as a registry that ignores page_size may.
. "$(dirname "$0")/lib/netstub.bash"

start_hubstub big --gen big/page=80000 --gen big/all=400000 --lean --page-size-fixed 80000
url="http://127.0.0.1:$big_port"
printf 'registry: {timeout_s: 60}\n' >"$tmp/cfg.yml"

# listing IMAGE COUNT WHAT [args...]: `tags` lists COUNT tags; prints the time
listing() {
	local image=$1 count=$2 what=$3 s
	shift 3
	s=$(now_us)
	run_db "$tmp/out" "$tmp/err" -v -c "$tmp/cfg.yml" tags --registry-url "$url" "$image" --limit 3 "$@"
	elapsed=$(secs_since "$s")
	expect_rc 0 "$what"
	expect_grep "^$image at $url ([a-z0-9]*): $count tags, $((count - 3)) candidates, 3 other" "$tmp/out" "$what: every tag"
	grep -q "AddressSanitizer\|runtime error" "$tmp/err" && fail "$what: sanitizer report"
	pass "$what: $count tags in ${elapsed}s ($(sed -n "s/.*: \([0-9]* requests in [0-9.]* s\).*/\1/p" "$tmp/err"))"
}

listing big/page 80003 "one hub page of 80,000 tags" --no-cache
listing big/all 400003 "400,000 tags over hub pages, cold"
curl -sf -X POST -d '{"image": "big/all", "count": 20}' "$url/_control/add" >/dev/null
before=$(count_requests "$tmp/big.log")
printf 'cache: {ttl_s: 0}\nregistry: {timeout_s: 60}\n' >"$tmp/cfg.yml" # past the TTL
listing big/all 400023 "20 new tags merged into 400,000 cached"
[ $(($(count_requests "$tmp/big.log") - before)) = 1 ] || fail "the warm run should read one page"
listing big/all 400023 "400,000 tags over v2 pages" --no-cache --registry-api v2
