#!/usr/bin/env bash
# A verify container killed from outside while an item runs (SPEC §5): the item runs again in
# a new container; killed twice it is an error ("could not verify", exit 1), never a
# regression blamed on the image, in `verify` and in `run`. Meanwhile another run on the same
# engine goes on undisturbed, and no container of either is left.
#
# Needs a running docker engine; kills and looks at only the containers it started itself.
# ctest-resource: docker
. "$(dirname "$0")/lib/verify.bash"
T=$tmp
build_images old new

# kill_own IMAGE N AFTER: kills the first N containers of this test that run IMAGE, each
# AFTER seconds after it started; prints how many it killed. Bounded: 120 s.
kill_own() {
	local image=$1 want=$2 after=$3 killed=0 seen=" " name img end=$((SECONDS + 120))
	while [ "$killed" -lt "$want" ] && [ "$SECONDS" -lt "$end" ]; do
		while read -r name; do
			[[ $seen == *" $name "* ]] && continue
			img=$("$real_docker" inspect --format '{{.Config.Image}}' "$name" 2>/dev/null) ||
				continue
			seen+="$name "
			[ "$img" = "$image" ] || continue
			sleep "$after"
			"$real_docker" kill "$name" >/dev/null 2>&1 && killed=$((killed + 1))
			[ "$killed" -ge "$want" ] && break
		done < <(sort -u "$tmp/containers")
		sleep 0.1
	done
	echo "$killed"
}

# A: the item the killer gets at twice. C: a bystander on the same engine at the same time.
write_script "$T/a" Slow Sleeper "$OLD" 'import time
time.sleep(20)
demisto.results("woke up")'
for i in $(seq 1 12); do
	write_script "$T/c" Quick "Quick$i" "$OLD" "demisto.results('quick $i')"
done
write_script "$T/c" Quick Slowish "$OLD" 'import time
time.sleep(6)
demisto.results("slowish")'

echo "== killed twice: retried, then error (exit 1); a run beside it is not disturbed"
"$DOCKERBUMP" -C "$T/c" verify --image "$OLD" --json Packs >"$T/c.out" 2>"$T/c.err" &
c_pid=$!
"$DOCKERBUMP" -C "$T/a" verify --image "$NEW" --old-image "$OLD" --timeout 60 \
	--json --junit "$T/a.xml" Packs >"$T/a.out" 2>"$T/a.err" &
a_pid=$!
killed=$(kill_own "$NEW" 2 2)
rc=0
wait "$a_pid" || rc=$?
[ "$rc" = 1 ] || { cat "$T/a.err" >&2; fail "killed twice: exit $rc, want 1"; }
rc=0
wait "$c_pid" || rc=$?
[ "$rc" = 0 ] || { cat "$T/c.err" >&2; fail "the run beside it: exit $rc, want 0"; }
[ "$killed" = 2 ] || fail "the killer killed $killed containers, want 2"
expect_outcome "$T/a.out" Sleeper new "error - ok"
expect_outcome "$T/a.out" Sleeper old "not-run - ok"
[[ $(field "$T/a.out" Sleeper 'i["why"]') == "could not verify in '$NEW': "*"ended from outside twice"* ]] ||
	fail "why: $(field "$T/a.out" Sleeper 'i["why"]')"
[ "$(field "$T/a.out" Sleeper 'i["blocked"]')" = True ] || fail "an unverified bump must not pass"
[ "$(stat "$T/a.out" retries)" = 1 ] || fail "retries: $(stat "$T/a.out" retries)"
[ "$(stat "$T/a.out" containers_started)" = 2 ] ||
	fail "containers: $(stat "$T/a.out" containers_started), want 2"
assert_contains "$T/a.xml" 'errors="1"'
assert_contains "$T/a.xml" 'failures="0"'
for i in $(seq 1 12); do
	expect_outcome "$T/c.out" "Quick$i" new "ok - ok"
done
expect_outcome "$T/c.out" Slowish new "ok - ok"
[ "$(stat "$T/c.out" retries)" = 0 ] || fail "the run beside it was disturbed"
[ "$(stat "$T/c.out" containers_started)" = 1 ] || fail "the run beside it restarted containers"
assert_no_leftovers "the killed run and the one beside it"

echo "== killed once: the item runs again in a new container and passes"
write_script "$T/b" Nap Napper "$OLD" 'import time
time.sleep(5)
demisto.results("napped")'
"$DOCKERBUMP" -C "$T/b" verify --image "$NEW" --json Packs >"$T/b.out" 2>"$T/b.err" &
b_pid=$!
killed=$(kill_own "$NEW" 1 2)
rc=0
wait "$b_pid" || rc=$?
[ "$rc" = 0 ] || { cat "$T/b.err" >&2; fail "killed once: exit $rc, want 0"; }
[ "$killed" = 1 ] || fail "the killer killed $killed containers, want 1"
expect_outcome "$T/b.out" Napper new "ok - ok"
[ "$(stat "$T/b.out" retries)" = 1 ] || fail "retries: $(stat "$T/b.out" retries)"
assert_contains "$T/b.err" "ended from outside"
assert_no_leftovers "the run killed once"

echo "== run: a bump whose new container is killed twice is an error, not verify-failed"
content=$T/content
write_script "$content" Demo Sleeper "${OLD}" 'import time
time.sleep(20)
demisto.results("woke up")'
write_script "$content" Demo Hello "${OLD}" 'demisto.results("hello")'
printf '{\n    "name": "Demo",\n    "currentVersion": "1.0.0"\n}\n' >"$content/Packs/Demo/pack_metadata.json"
make_repo "$T/repo" "$content"
python3 -c 'import json,sys; json.dump({sys.argv[1]: [{"name": t, "last_updated": "2026-01-01T00:00:00Z"} for t in sys.argv[2:4]]}, open(sys.argv[4], "w"))' \
	"${OLD%:*}" "${OLD#*:}" "${NEW#*:}" "$T/tags.json"
start_hubstub hub --tags "$T/tags.json"
"$DOCKERBUMP" -C "$T/repo" run --no-push --registry-url "http://127.0.0.1:$hub_port" \
	--report "$T/r.json" >"$T/r.out" 2>"$T/r.err" &
r_pid=$!
killed=$(kill_own "$NEW" 2 2)
rc=0
wait "$r_pid" || rc=$?
[ "$rc" = 1 ] || { cat "$T/r.err" >&2; fail "run with a killed verification: exit $rc, want 1"; }
python3 - "$T/r.json" <<'EOF'
import json, sys
items = {i["name"]: i for i in json.load(open(sys.argv[1]))["items"]}
s = items["Sleeper"]
assert s["status"] == "error", s
assert "could not verify" in s["reason"] and "from outside" in s["reason"], s["reason"]
assert s["verify"]["regressed"] is False, s["verify"]
assert items["Hello"]["status"] == "bumped", items["Hello"]
EOF
assert_contains "$T/r.err" "1 item in error"
assert_no_leftovers "the run"
echo "verify_kill: all checks passed"
