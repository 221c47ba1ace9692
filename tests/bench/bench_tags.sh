#!/usr/bin/env bash
# Benchmark of `dockerbump tags` on the Docker Hub stand-in: two images of 3,000 tags each.
# Prints requests made and wall time for a cold run (no cache), a warm run after the TTL
# (the stop-early rule: one request per image) and a warm run within the TTL (none), and the
# time per request. Then the scale lines: one page of 80,000 tags and 400,000 tags over pages
# (cold, and warm after the TTL), each as time per tag and as a ratio to the per-tag time of
# the 3,000-tag cold run measured first (about 1 when every cost is linear in the tags).
# Numbers, not a pass/fail verdict.
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

# --- scale: time per tag against the 3,000-tag baseline of this run ---
start_hubstub big --gen demisto/base=3000 --gen big/page=80000 --gen big/all=400000 --lean \
	--page-size-fixed 80000
big_url="http://127.0.0.1:$big_port"
printf 'registry: {timeout_s: 60}\n' >"$tmp/scale.yml"
printf 'cache: {ttl_s: 0}\nregistry: {timeout_s: 60}\n' >"$tmp/scale-expired.yml"
# scale LABEL IMAGE TAGS CONFIG [tags options]: prints wall time, time per tag and the ratio
scale() {
	local label=$1 image=$2 n=$3 cfg=$4 start us
	shift 4
	start=$(now_us)
	"$DOCKERBUMP" -c "$cfg" tags --registry-url "$big_url" "$image" --limit 1 "$@" >/dev/null
	us=$(($(now_us) - start))
	[ -n "${base_ns:-}" ] || base_ns=$((us * 1000 / n))
	printf '%-34s %7d tags  wall %d.%03d s  %5d ns/tag  ratio %s\n' "$label" "$n" \
		$((us / 1000000)) $((us % 1000000 / 1000)) $((us * 1000 / n)) \
		"$(awk -v a=$((us * 1000 / n)) -v b="$base_ns" 'BEGIN { printf "%.2f", a / b }')"
}
echo
echo "scale (the stand-in serves 80,000 tags a page; lean hub results)"
base_ns=
scale "baseline: 3,000 tags, cold" demisto/base 3003 "$tmp/scale.yml" --no-cache
scale "one page of 80,000 tags, cold" big/page 80003 "$tmp/scale.yml" --no-cache
scale "400,000 tags over pages, cold" big/all 400003 "$tmp/scale.yml"
curl -sf -X POST -d '{"image": "big/all", "count": 20}' "$big_url/_control/add" >/dev/null
scale "400,000 tags, warm after the TTL" big/all 400023 "$tmp/scale-expired.yml"
scale "400,000 tags over v2 pages" big/all 400023 "$tmp/scale.yml" --no-cache --registry-api v2
