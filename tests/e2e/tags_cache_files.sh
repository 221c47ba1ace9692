#!/usr/bin/env bash
# What can sit at a cache path instead of a cache file: a FIFO (reading it would wait forever
# for a writer), a directory, a symlink to /dev/zero (endless). Each is ignored with a warning
# naming the path, the tags are listed from the registry, and the run finishes; a config file
# of those kinds is a usage error (exit 2). Every run is bounded by `timeout`, so a hang fails
# the test instead of holding it.
. "$(dirname "$0")/lib/netstub.bash"

start_hubstub hub --gen demisto/python3=150 --gen demisto/python=50 --gen demisto/other=30
url="http://127.0.0.1:$hub_port"
cachedir="$XDG_CACHE_HOME/dockerbump/tags"

# bounded IMAGE [args...]: `tags --json` under a 60 s timeout; the status is in $rc
bounded() {
	local image=$1
	shift
	rc=0
	timeout 60 "$DOCKERBUMP" "$@" tags --registry-url "$url" "$image" --json >"$tmp/out" 2>"$tmp/err" || rc=$?
	[ "$rc" != 124 ] || fail "'tags $image' hung (killed after 60 s)"
}
listed() { # listed IMAGE: the output is the stand-in's tag set
	curl -sf "$url/_control/tags?image=$1" >"$tmp/truth.json"
	check_tags_json "$tmp/out" "$tmp/truth.json" >/dev/null
}

for image in demisto/python3 demisto/python demisto/other; do
	bounded "$image"
	expect_rc 0 "cold $image"
done
file_of() { grep -l "\"image\":\"$1\"" "$cachedir"/*.json; }
fifo=$(file_of demisto/python3)
dir=$(file_of demisto/python)
zero=$(file_of demisto/other)
rm -f "$fifo" "$dir" "$zero"
mkfifo "$fifo"
mkdir "$dir"
ln -s /dev/zero "$zero"
pass "cache files replaced by a FIFO, a directory and a symlink to /dev/zero"

bounded demisto/python3
expect_rc 0 "a FIFO in the cache"
listed demisto/python3
expect_grep "warn: ignoring the tag cache: '$fifo': is a FIFO, not a regular file" "$tmp/err" "FIFO warning"
[ -f "$fifo" ] && [ ! -p "$fifo" ] || fail "the FIFO was not replaced by a cache file"
pass "a FIFO is ignored with a warning, and replaced"

bounded demisto/python
expect_rc 0 "a directory in the cache"
listed demisto/python
expect_grep "warn: ignoring the tag cache: '$dir': is a directory, not a regular file" "$tmp/err" "directory warning"
expect_grep "warn: the tag cache was not written: '$dir'" "$tmp/err" "directory: not written"
[ -d "$dir" ] || fail "the directory is gone"
pass "a directory is ignored with a warning"

bounded demisto/other
expect_rc 0 "a symlink to /dev/zero in the cache"
listed demisto/other
expect_grep "warn: ignoring the tag cache: '$zero': is a character device, not a regular file" "$tmp/err" "/dev/zero warning"
[ -f "$zero" ] && [ ! -L "$zero" ] || fail "the symlink was not replaced by a cache file"
pass "a symlink to /dev/zero is ignored with a warning, and replaced"

# A second run reads the rewritten files: no request within the TTL.
before=$(count_requests "$tmp/hub.log")
bounded demisto/python3
expect_rc 0 "the rewritten cache"
[ "$(count_requests "$tmp/hub.log")" = "$before" ] || fail "the rewritten cache file was not used"
pass "the rewritten cache answers the next run"

# The config: a directory, /dev/zero, a FIFO are usage errors naming the file.
mkdir "$tmp/cfgdir"
mkfifo "$tmp/cfg.fifo"
for cfg in "$tmp/cfgdir:a directory" "/dev/zero:a character device" "$tmp/cfg.fifo:a FIFO"; do
	bounded demisto/python3 -c "${cfg%%:*}"
	expect_rc 2 "config ${cfg%%:*}"
	expect_grep "error: config: '${cfg%%:*}': is ${cfg#*:}, not a regular file" "$tmp/err" "config ${cfg#*:}"
done
pass "a config that is a directory, /dev/zero or a FIFO: exit 2 naming it"
