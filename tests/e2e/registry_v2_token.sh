#!/usr/bin/env bash
# The Bearer token flow for real: docker-registry in its `auth: token` mode, trusting a small
# token service (tests/stubs/tokenserver.py, RS256 JWTs) that wants Basic credentials.
. "$(dirname "$0")/lib/netstub.bash"

python3 -c 'import cryptography' 2>/dev/null || {
	echo "skip: python3-cryptography is not installed (tests/packages.txt)"
	exit 77
}
mkdir -p "$tmp/tok"
python3 "$stubs/tokenserver.py" --dir "$tmp/tok" --port-file "$tmp/tok.port" --log "$tmp/tok.log" \
	--user bot --password 'tok-pass-123' --lifetime 900 2>"$tmp/tok.err" &
started_pids+=($!)
wait_for_file "$tmp/tok.port" 20
tok_url="http://127.0.0.1:$(cat "$tmp/tok.port")"

start_registry reg "auth:
  token:
    realm: $tok_url/token
    service: dockerbump-test
    issuer: dockerbump-test-issuer
    rootcertbundle: $tmp/tok/cert.pem"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$reg_url/v2/")" = 401 ] || fail "the registry is not behind auth"

registry_tag_names 200 >"$tmp/names.txt"
digest=$(python3 "$stubs/regseed.py" --url "$reg_url" --image demisto/python3 --tags-file "$tmp/names.txt" \
	--user bot --password 'tok-pass-123')
python3 -c 'import json,sys; json.dump([l.strip() for l in open(sys.argv[1]) if l.strip()], open(sys.argv[2], "w"))' \
	"$tmp/names.txt" "$tmp/truth.json"
pass "seeded behind token auth"

# Without credentials: the token service refuses; exit 1 with a clear message.
run_db "$tmp/out" "$tmp/err" tags --no-cache --registry-api v2 --registry-url "$reg_url" demisto/python3
expect_rc 1 "anonymous"
expect_grep "refused anonymous access" "$tmp/err" "anonymous refusal"
expect_grep "$tok_url/token" "$tmp/err" "the token URL in the message"

# Wrong password: refused, and the password is never printed.
DOCKERBUMP_REGISTRY_USER=bot DOCKERBUMP_REGISTRY_PASSWORD='wrong-pass-456' \
	run_db "$tmp/out" "$tmp/err" -v tags --no-cache --registry-api v2 --registry-url "$reg_url" demisto/python3
expect_rc 1 "wrong password"
expect_grep "refused the credentials" "$tmp/err" "credential refusal"
! grep -q 'wrong-pass-456' "$tmp/err" || fail "the password reached the log"
pass "refusals"

# Right credentials: 401 challenge, one token, the listing, and manifest HEADs reusing the token.
: >"$tmp/tok.log"
DOCKERBUMP_REGISTRY_USER=bot DOCKERBUMP_REGISTRY_PASSWORD='tok-pass-123' \
	run_db "$tmp/out" "$tmp/err" -v tags --no-cache --registry-api v2 --registry-url "$reg_url" demisto/python3 --json --digest
expect_rc 0 "bearer flow"
check_tags_json "$tmp/out" "$tmp/truth.json"
python3 - "$tmp/out" "$digest" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert set(d["digests"].values()) == {sys.argv[2]}, d["digests"]
PY
! grep -q 'tok-pass-123' "$tmp/err" || fail "the password reached the log"
n=$(grep -c '"status": 200' "$tmp/tok.log")
[ "$n" = 1 ] || fail "want one token for the listing and the HEADs, the token service issued $n"
pass "bearer flow: one token, reused for the manifest HEADs"
