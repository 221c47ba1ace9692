#!/usr/bin/env bash
# Bounded pulls and disk (SPEC §5, issue 10): images come from a registry on loopback
# (Debian's docker-registry). The new image is pulled; the old one only when an item's new
# outcome is not clean; the images a run pulled are removed when it ends (prune_images), and
# a rerun finds its outcomes in the cache without pulling anything or starting a container.
#
# Needs a running docker engine that allows plain http to 127.0.0.0/8 (its default) and
# docker-registry (tests/packages.txt); skipped without the latter.
# ctest-resource: docker
. "$(dirname "$0")/lib/verify.bash"
T=$tmp
build_images old new
start_registry reg
host=${reg_url#http://}
# Tags of this test alone: removing them never touches another run's images.
tag=$RANDOM$RANDOM
REG_NEW=$host/demisto/python3:3.11.10.$tag
REG_OLD=$host/demisto/python3:3.11.9.$tag
present() { "$real_docker" image inspect "$1" >/dev/null 2>&1; }
for pair in "$NEW $REG_NEW" "$OLD $REG_OLD"; do
	set -- $pair
	"$real_docker" tag "$1" "$2"
	"$real_docker" push -q "$2" >"$T/push.log" 2>&1 || { cat "$T/push.log" >&2; fail "push $2"; }
	"$real_docker" image rm "$2" >/dev/null
	! present "$2" || fail "'$2' is still there"
done
trap '"$real_docker" image rm "$REG_NEW" "$REG_OLD" >/dev/null 2>&1 || true; verify_cleanup' EXIT

REPO=$T/repo
write_script "$REPO" Pull Clean "$OLD" 'demisto.results("clean")'
write_script "$REPO" Pull AlsoClean "$OLD" 'demisto.results("also clean")'

echo "== every new outcome clean: only the new image is pulled, and removed after"
expect_exit 0 -C "$REPO" verify --image "$REG_NEW" --old-image "$REG_OLD" --json Packs/Pull
[ "$(stat "$T/out" pulls)" = 1 ] || fail "pulls: $(stat "$T/out" pulls), want 1"
[ "$(stat "$T/out" old_runs)" = 0 ] || fail "old-image runs: $(stat "$T/out" old_runs)"
[ "$(stat "$T/out" images_removed)" = 1 ] || fail "removed: $(stat "$T/out" images_removed)"
! present "$REG_NEW" || fail "the pulled image was not removed"
! present "$REG_OLD" || fail "the old image was pulled"
expect_outcome "$T/out" Clean old "not-run - ok"

echo "== a rerun: outcomes from the cache, nothing pulled, no container"
expect_exit 0 -C "$REPO" verify --image "$REG_NEW" --old-image "$REG_OLD" --json Packs/Pull
[ "$(stat "$T/out" pulls)" = 0 ] || fail "the rerun pulled $(stat "$T/out" pulls)"
[ "$(stat "$T/out" containers_started)" = 0 ] || fail "the rerun started containers"
[ "$(stat "$T/out" cache_hits)" = 2 ] || fail "cache hits: $(stat "$T/out" cache_hits)"
! present "$REG_NEW" || fail "the rerun pulled the new image"

echo "== an item that fails in the new image: the old one is pulled too, both removed"
write_script "$REPO" Pull Fails "$OLD" 'raise KeyError("same in both")'
expect_exit 0 -C "$REPO" verify --image "$REG_NEW" --old-image "$REG_OLD" --json Packs/Pull
[ "$(stat "$T/out" pulls)" = 2 ] || fail "pulls: $(stat "$T/out" pulls), want 2"
[ "$(stat "$T/out" old_runs)" = 1 ] || fail "old-image runs: $(stat "$T/out" old_runs), want 1"
[ "$(stat "$T/out" images_removed)" = 2 ] || fail "removed: $(stat "$T/out" images_removed)"
expect_outcome "$T/out" Fails old "exception KeyError ok"
! present "$REG_NEW" && ! present "$REG_OLD" || fail "a pulled image was left"

echo "== prune_images false keeps what was pulled; an image that was there is never removed"
printf 'verify: {prune_images: false}\n' >"$T/keep.yml"
if "$DOCKERBUMP" -c "$T/keep.yml" config check >/dev/null 2>&1; then
	expect_exit 0 -c "$T/keep.yml" -C "$REPO" verify --no-cache --image "$REG_NEW" --json Packs/Pull/Scripts/Clean
	present "$REG_NEW" || fail "prune_images: false removed the image"
else
	echo "verify.prune_images is not a config key in this build; skipped that part"
	"$real_docker" pull -q "$REG_NEW" >/dev/null
fi
expect_exit 0 -C "$REPO" verify --no-cache --image "$REG_NEW" --json Packs/Pull/Scripts/Clean
[ "$(stat "$T/out" pulls)" = 0 ] || fail "an image that was there was pulled"
present "$REG_NEW" || fail "an image this run did not pull was removed"
assert_no_leftovers "the pulls"
echo "verify_pulls: all checks passed"
