#!/usr/bin/env bash
# Where the registry credentials may go. A second stand-in plays "another server": it listens
# on loopback under another host name (localhost, where the registry is 127.0.0.1) and logs
# what it receives. It must never receive a credential:
#   - the Docker Hub login answered with 307 to the other server is not posted again there;
#   - a v2 token realm on the other server over plain http gets no Basic credentials;
# while a realm on the registry's own host does get them, and the flow works.
. "$(dirname "$0")/lib/netstub.bash"

user=bot password='pw-Secret-789'
start_hubstub other --gen demisto/python3=10
other_url="http://localhost:$other_port"

# assert_nothing_secret LOG WHAT: no request in LOG carried an Authorization header or a body
# with a secret in it.
assert_nothing_secret() {
	python3 - "$1" "$2" <<'PY'
import json, sys
bad = []
for line in open(sys.argv[1]):
    e = json.loads(line)
    keys = set(e.get("body_keys") or [])
    if e.get("auth") or keys & {"secret", "password", "identifier", "username"}:
        bad.append(e)
assert not bad, "%s: the other server received credentials: %r" % (sys.argv[2], bad)
PY
}

# --- the hub login, redirected ---
start_hubstub hub --gen demisto/python3=150 --user "$user" --password "$password" \
	--fault "/v2/auth/token=redirect:to=$other_url"
hub_url="http://127.0.0.1:$hub_port"
DOCKERBUMP_REGISTRY_USER=$user DOCKERBUMP_REGISTRY_PASSWORD=$password \
	run_db "$tmp/out" "$tmp/err" tags --no-cache --registry-url "$hub_url" demisto/python3 --json
expect_rc 1 "a login redirected to another server"
expect_grep "error: '$hub_url/v2/auth/token': redirected to '$other_url/v2/auth/token' on another server; the credentials are not sent there" \
	"$tmp/err" "the refusal names both URLs"
[ "$(count_requests "$tmp/hub.log" /v2/auth/token)" = 1 ] || fail "the login was posted once, to the registry"
[ "$(count_requests "$tmp/other.log")" = 0 ] || fail "the other server was contacted: $(cat "$tmp/other.log")"
assert_nothing_secret "$tmp/other.log" "login redirect"
! grep -q "$password" "$tmp/err" "$tmp/out" || fail "the password reached the output"
pass "a login answered with 307 to another host is not posted there"

# The same stand-in without the fault: the login works (the test can tell the two apart).
curl -sf -X POST -d '[]' "$hub_url/_control/faults" >/dev/null
DOCKERBUMP_REGISTRY_USER=$user DOCKERBUMP_REGISTRY_PASSWORD=$password \
	run_db "$tmp/out" "$tmp/err" tags --no-cache --registry-url "$hub_url" demisto/python3 --json
expect_rc 0 "the login without the redirect"
pass "the login and listing without the redirect"

# --- a v2 token realm on another host, plain http ---
start_hubstub v2off --gen demisto/python3=20 --user "$user" --password "$password" \
	--v2-realm "$other_url/token"
v2off_url="http://127.0.0.1:$v2off_port"
: >"$tmp/other.log"
DOCKERBUMP_REGISTRY_USER=$user DOCKERBUMP_REGISTRY_PASSWORD=$password \
	run_db "$tmp/out" "$tmp/err" tags --no-cache --registry-api v2 --registry-url "$v2off_url" demisto/python3
expect_rc 1 "an offsite plain-http realm"
expect_grep "error: '$v2off_url': the token realm '$other_url/token' is plain http on another host: the credentials are not sent there" \
	"$tmp/err" "the refusal names the realm"
assert_nothing_secret "$tmp/other.log" "offsite realm"
[ "$(count_requests "$tmp/other.log")" = 0 ] || fail "the offsite realm was contacted"
pass "an offsite plain-http token realm gets no credentials"

# Anonymous: nothing secret to protect, so the realm is asked (and refuses: no token).
run_db "$tmp/out" "$tmp/err" tags --no-cache --registry-api v2 --registry-url "$v2off_url" demisto/python3
expect_rc 1 "anonymous, offsite realm"
[ "$(count_requests "$tmp/other.log" /token)" = 1 ] || fail "the anonymous token request did not reach the realm"
assert_nothing_secret "$tmp/other.log" "anonymous"
pass "without credentials the offsite realm is asked anonymously"

# --- a realm on the registry's own host: the Bearer flow works with the credentials ---
start_hubstub v2own --gen demisto/python3=20 --user "$user" --password "$password" --v2-realm /token
v2own_url="http://127.0.0.1:$v2own_port"
# v2 listings carry no times: the truth is the names alone
curl -sf "$v2own_url/_control/tags?image=demisto/python3" |
	python3 -c 'import json, sys; json.dump([t["name"] for t in json.load(sys.stdin)], sys.stdout)' >"$tmp/truth.json"
DOCKERBUMP_REGISTRY_USER=$user DOCKERBUMP_REGISTRY_PASSWORD=$password \
	run_db "$tmp/out" "$tmp/err" tags --no-cache --registry-api v2 --registry-url "$v2own_url" demisto/python3 --json
expect_rc 0 "a realm on the registry's host"
check_tags_json "$tmp/out" "$tmp/truth.json" >/dev/null
python3 - "$tmp/v2own.log" <<'PY'
import json, sys
tok = [e for e in map(json.loads, open(sys.argv[1])) if e["path"] == "/token"]
assert len(tok) == 1 and tok[0]["auth"] and tok[0]["status"] == 200, tok
PY
DOCKERBUMP_REGISTRY_USER=$user DOCKERBUMP_REGISTRY_PASSWORD=wrong-pass \
	run_db "$tmp/out" "$tmp/err" tags --no-cache --registry-api v2 --registry-url "$v2own_url" demisto/python3
expect_rc 1 "a wrong password"
expect_grep "refused the credentials" "$tmp/err" "the realm refuses a wrong password"
pass "a realm on the registry's own host gets the credentials"
