# docker/demo.sh runs to completion, and its output shows the created branch, the report and
# the diff. It builds the release preset and, with an engine, the test images.
# ctest-resource: docker
. "$(dirname "$0")/lib/content.bash"
env=()
[ "${DOCKERBUMP_TEST_NO_DOCKER:-0}" = 1 ] && env+=(DEMO_VERIFY=off)
env "${env[@]}" bash "$DOCKERBUMP_SOURCE_DIR/docker/demo.sh" >"$tmp/demo.out" 2>&1 || {
	tail -60 "$tmp/demo.out" >&2
	fail "docker/demo.sh failed"
}
branch=$(group_branch HelloWorld)
for want in "$branch" "run: 3 items: 2 bumped, 1 verify-failed" "refs/heads/$branch" \
	"+- Updated the Docker image to: *demisto/python3:" "dockerimage45: \"demisto/python3:3.11.9.100001\""; do
	grep -qF -- "$want" "$tmp/demo.out" || { tail -60 "$tmp/demo.out" >&2; fail "the demo output lacks '$want'"; }
done
if ! grep -q "verify off" "$tmp/demo.out"; then
	grep -q "verify-failed" "$tmp/demo.out" || fail "the demo shows no blocked bump"
fi
# The demo removes the registry-named tags it added to the engine's images.
port=$(sed -n 's/.*starting a registry on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/demo.out")
[ -n "$port" ] || fail "the demo output does not name its registry"
if [ "${DOCKERBUMP_TEST_NO_DOCKER:-0}" != 1 ] && docker info >/dev/null 2>&1; then
	left=$(docker images --format '{{.Repository}}:{{.Tag}}' | grep -F "127.0.0.1:$port/" || true)
	[ -z "$left" ] || fail "the demo left these tags behind: $left"
fi
echo "demo: ok"
