#!/usr/bin/env bash
# Every network fault of SPEC §8 against the Docker Hub stand-in: each run ends with the right
# answer after retries, or a clear error naming the URL (exit 1); never a crash, a hang or an
# unbounded memory use.
. "$(dirname "$0")/lib/netstub.bash"

# Small waits: the backoff (not a server's Retry-After) is cut to 100 ms, timeouts to 2 s.
export DOCKERBUMP_TEST_RETRY_MS=100
printf 'registry: {timeout_s: 2, retries: 3, max_pages: 50}\n' >"$tmp/cfg.yml"

f() { printf -- '--gen\nfault/%s=120\n--fault\nrepositories/%s/=%s\n' "$1" "$1" "$2"; }
mapfile -t args < <(
	f r429 'status:code=429,retry_after=1,times=2'
	f x429 'status:code=429,x_retry_after=1,times=1'
	f s500 'status:code=500,times=2'
	f s502 'status:code=502,times=3'
	f s503always 'status:code=503'
	f hang 'hang:seconds=20,times=1'
	f hangalways 'hang:seconds=20'
	f truncate 'truncate'
	f cut 'cut:times=1'
	f huge 'huge:mb=100'
	f hugecl 'huge_cl:mb=100'
	f loop 'loop'
	f offsite 'offsite'
	f badnames 'badnames'
	f badutf8 'badutf8'
	f notjson 'notjson'
	f pagecap 'status:code=200,times=0'
	f nulname 'nulname'
	f slowloris 'slowloris:interval=1'
)
start_hubstub hub "${args[@]}" --gen fault/many=6000 \
	--gen fault/nulv2=120 --fault 'fault/nulv2/tags/list=nulname'
url="http://127.0.0.1:$hub_port"

# tags IMAGE: runs `tags --json` on fault/IMAGE with the time and peak memory measured.
tags() {
	local s
	s=$(now_us)
	rc=0
	/usr/bin/time -f '%M' -o "$tmp/rss" "$DOCKERBUMP" -c "$tmp/cfg.yml" tags --no-cache \
		--registry-url "$url" "fault/$1" --json >"$tmp/out" 2>"$tmp/err" || rc=$?
	elapsed=$(secs_since "$s")
	rss_kb=$(tail -1 "$tmp/rss")
	if [ "$rc" -ge 128 ] || grep -q "Command terminated by signal" "$tmp/rss"; then
		cat "$tmp/err" >&2
		fail "fault/$1: dockerbump died (status $rc)"
	fi
	grep -q "AddressSanitizer\|runtime error" "$tmp/err" && fail "fault/$1: sanitizer report"
	return 0
}
truth() { curl -sf "$url/_control/tags?image=fault/$1" >"$tmp/truth.json"; }
ok_case() { # ok_case IMAGE WHAT: success with the exact tag set
	tags "$1"
	expect_rc 0 "$2"
	truth "$1"
	check_tags_json "$tmp/out" "$tmp/truth.json" >/dev/null
	pass "$2 (${elapsed}s, at ${SECONDS}s)"
}
err_case() { # err_case IMAGE PATTERN WHAT: exit 1, the message names the URL and says what
	tags "$1"
	expect_rc 1 "$3"
	expect_grep "error: .*http://127.0.0.1:$hub_port/v2/namespaces/fault/repositories/$1/tags" "$tmp/err" "$3: URL in the message"
	expect_grep "$2" "$tmp/err" "$3"
	[ ! -s "$tmp/out" ] || fail "$3: something on stdout"
	pass "$3 (${elapsed}s): $(grep '^error:' "$tmp/err" | head -1)"
}
# hits IMAGE: requests the stand-in saw for it
hits() { count_requests "$tmp/hub.log" "repositories/$1/"; }

ok_case r429 "429 with Retry-After, twice, then OK"
[ "${elapsed%.*}" -ge 2 ] || fail "Retry-After: 1 (twice) was not honoured: ${elapsed}s"
[ "$(hits r429)" = 4 ] || fail "429: want 2 refusals + 2 pages, saw $(hits r429)"
ok_case x429 "429 with X-Retry-After, then OK"
ok_case s500 "500 twice, then OK"
ok_case s502 "502 three times, then OK"
err_case s503always "HTTP 503 after 4 attempts" "503 on every attempt"
[ "$(hits s503always)" = 4 ] || fail "503: want 4 attempts"
ok_case hang "a hang past the timeout, then OK"
err_case hangalways "timed out" "a hang on every attempt"
[ "${elapsed%.*}" -lt 20 ] || fail "the hang case took ${elapsed}s"
err_case truncate "malformed JSON" "truncated JSON"
ok_case cut "a connection cut mid-body, then OK"
err_case huge "larger than 16777216 bytes" "a 100 MB chunked body"
limit_kb=$((80 * 1024))
[ -n "${ASAN_OPTIONS:-}" ] && limit_kb=$((400 * 1024)) # ASan's shadow memory and quarantine
[ "$rss_kb" -lt "$limit_kb" ] || fail "100 MB body: peak RSS ${rss_kb} kB"
echo "   peak RSS ${rss_kb} kB"
err_case hugecl "larger than 16777216 bytes" "a 100 MB body with Content-Length"
err_case loop "the next-page links loop" "a next link pointing at itself"
err_case offsite "the next page is on another server" "a next link to another server"
err_case notjson "malformed JSON" "an HTML answer"

# Invalid names are skipped with a warning naming the URL; the rest is listed.
ok_case badnames "invalid tag names skipped"
for n in '"../../x"' '"3.10\n"' '"caf'; do
	grep -F "skipping the invalid tag name $n" "$tmp/err" >/dev/null || {
		cat "$tmp/err" >&2
		fail "no warning for $n"
	}
done
expect_grep "warn: 'http://127.0.0.1:$hub_port/v2/namespaces/fault/repositories/badnames/tags': skipping the invalid tag name \"999" "$tmp/err" "300 characters"
python3 - "$tmp/out" <<'PY'
import json, re, sys
for t in json.load(open(sys.argv[1]))["tags"]:
    assert re.match(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", t["name"]), t
PY
# One name holding \u0000: that name is skipped with a warning, the other 120 are listed (it
# used to make the whole page unreadable, and the image was lost).
ok_case nulname "a tag name holding \\u0000 (hub)"
expect_grep 'skipping the invalid tag name "3.10.\\u0000.1"' "$tmp/err" "NUL name warning"
run_db "$tmp/out" "$tmp/err" -c "$tmp/cfg.yml" tags --no-cache --registry-api v2 --registry-url "$url" fault/nulv2 --json
expect_rc 0 "a tag name holding \\u0000 (v2)"
truth nulv2
python3 -c 'import json, sys; json.dump([t["name"] for t in json.load(open(sys.argv[1]))], open(sys.argv[1], "w"))' "$tmp/truth.json"
check_tags_json "$tmp/out" "$tmp/truth.json" >/dev/null
expect_grep 'fault/nulv2/tags/list.: skipping the invalid tag name "3.10.\\u0000.1"' "$tmp/err" "NUL name warning (v2)"
pass "a tag name holding \\u0000 (v2)"
ok_case badutf8 "non-UTF-8 bytes in a tag name"
expect_grep "invalid UTF-8" "$tmp/err" "non-UTF-8 warning"
expect_grep "skipping the invalid tag name" "$tmp/err" "non-UTF-8 name skipped"

# 6000 tags are 60 pages: over max_pages (50).
tags many
expect_rc 1 "page cap"
expect_grep "more than 50 pages" "$tmp/err" "page cap message"
[ "$(hits many)" = 50 ] || fail "page cap: want 50 requests, saw $(hits many)"
pass "page cap (${elapsed}s)"

# An unreachable registry: connection refused, retried, then exit 1 naming the URL.
dead_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
run_db "$tmp/out" "$tmp/err" -c "$tmp/cfg.yml" tags --no-cache --registry-url "http://127.0.0.1:$dead_port" demisto/python3
expect_rc 1 "connection refused"
expect_grep "127.0.0.1:$dead_port.*after 2 attempts); check registry.url (or --registry-url), or use --offline" "$tmp/err" "refused message: two tries and the hint"
pass "connection refused"

# A slow-loris registry (one byte a second, never finishing): every attempt and every wait
# share the image's time budget (4 x timeout_s = 8 s), so ten retries do not make it 22 s.
printf 'registry: {timeout_s: 2, retries: 10, max_pages: 50}\n' >"$tmp/loris.yml"
s=$(now_us)
run_db "$tmp/out" "$tmp/err" -c "$tmp/loris.yml" tags --no-cache --registry-url "$url" fault/slowloris
elapsed=$(secs_since "$s")
expect_rc 1 "slow loris"
expect_grep "error: 'http://127.0.0.1:$hub_port/v2/namespaces/fault/repositories/slowloris/tags': .*the time budget is spent" "$tmp/err" "slow-loris message"
[ "${elapsed%.*}" -lt 15 ] || fail "the slow-loris registry held the image ${elapsed}s (budget 8 s)"
pass "slow loris bounded by the image's budget (${elapsed}s): $(grep '^error:' "$tmp/err" | head -1)"
