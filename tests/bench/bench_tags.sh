#!/usr/bin/env bash
# Benchmark of `dockerbump tags` on the Docker Hub stand-in: two images of 3,000 tags each.
# Prints requests made and wall time for a cold run (no cache), a warm run after the TTL
# (the stop-early rule: one request per image) and a warm run within the TTL (none), and the
# time per request. Numbers, not a pass/fail verdict.
#
#   tests/bench/bench_tags.sh [BUILD_DIR]     (default: build/dev)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export DOCKERBUMP_SOURCE_DIR=${DOCKERBUMP_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
export DOCKERBUMP=${DOCKERBUMP:-${1:-$DOCKERBUMP_SOURCE_DIR/build/dev}/dockerbump}
. "$DOCKERBUMP_SOURCE_DIR/tests/e2e/lib/netstub.bash"

images=(demisto/python3 demisto/python)
start_hubstub hub --gen demisto/python3=3000 --gen demisto/python=3000
url="http://127.0.0.1:$hub_port"
printf 'cache: {ttl_s: 0}\n' >"$tmp/expired.yml"

# measure LABEL [dockerbump global options]: runs `tags` for both images in one go
measure() {
	local label=$1 before start img total=0
	shift
	before=$(count_requests "$tmp/hub.log")
	: >"$tmp/err"
	start=$(now_us)
	for img in "${images[@]}"; do
		"$DOCKERBUMP" -v "$@" tags --registry-url "$url" "$img" --json >/dev/null 2>>"$tmp/err"
	done
	local us=$(($(now_us) - start)) n=$(($(count_requests "$tmp/hub.log") - before))
	local per="-"
	[ "$n" -gt 0 ] && per=$(printf '%d.%03d ms' $((us / n / 1000)) $((us / n % 1000)))
	# the time inside HTTP requests, as dockerbump counts it (its debug summary line)
	local in_http
	in_http=$(sed -n "s/.*': [0-9]* requests in \([0-9.]*\) s.*/\1/p" "$tmp/err" |
		awk '{ s += $1 } END { printf "%.3f", s }')
	printf '%-26s requests %3d (%s/image)  wall %d.%03d s  in HTTP %s s  wall/request %s\n' \
		"$label" "$n" "$(awk -v n="$n" -v i="${#images[@]}" 'BEGIN { printf "%.1f", n / i }')" \
		$((us / 1000000)) $((us % 1000000 / 1000)) "$in_http" "$per"
}

echo "dockerbump tags: ${#images[@]} images x 3,000 tags on the stand-in (page_size=100)"
measure "cold (no cache)" 
measure "warm, within the TTL"
measure "warm, after the TTL" -c "$tmp/expired.yml"
curl -sf -X POST -d '{"image": "demisto/python3", "count": 20}' "$url/_control/add" >/dev/null
measure "after TTL, 20 new tags" -c "$tmp/expired.yml"
rm -rf "$XDG_CACHE_HOME"
measure "cold again (cache removed)"
