#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset, clang) and runs each for SECONDS seconds
# from its seed corpus; fails on the first crash, leak, sanitizer report or broken invariant.
#
#   tests/fuzz/run.sh [SECONDS]        default 60
#
# Target fuzz_<name> starts from tests/fuzz/corpus/<name>/ (and <name>.dict when present), and
# from the directories named in tests/fuzz/<name>.seeds, one a line, relative to the checkout
# (the golden test data, the shared corpus beside the checkout when it is there): seeds are
# read where they live, never copied. New inputs go to tests/fuzz/corpus-run/<name>/ (ignored
# by git), crashes to build/fuzz/artifacts/; a crashing input belongs in the target's golden
# tests once fixed.
set -euo pipefail

seconds=${1:-60}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top"

log() { printf '==> %s\n' "$*" >&2; }

log "fuzz build"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)"

artifacts="$top/build/fuzz/artifacts"
mkdir -p "$artifacts"
# fuzz_one TARGET: runs one target for the time given; its log goes to artifacts/TARGET.log.
fuzz_one() {
	local target=$1 name bin work seeds args dir
	name=${target#fuzz_}
	bin=$(find "$top/build/fuzz" -type f -name "$target" -perm -u+x | head -n 1)
	if [ -z "$bin" ]; then
		log "$target was not built"
		return 1
	fi
	work="$here/corpus-run/$name"
	mkdir -p "$work"
	args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536
		-print_final_stats=1 -artifact_prefix="$artifacts/$target-")
	[ -f "$here/$name.dict" ] && args+=(-dict="$here/$name.dict")
	seeds=("$here/corpus/$name")
	if [ -f "$here/$name.seeds" ]; then
		while read -r dir; do
			case $dir in '' | '#'*) continue ;; esac
			[ -d "$top/$dir" ] && seeds+=("$top/$dir")
		done <"$here/$name.seeds"
	fi
	# Seed directories are read, never written: new inputs land in the work directory.
	"$bin" "${args[@]}" "$work" "${seeds[@]}" >"$artifacts/$target.log" 2>&1
}

# One target per core at a time: each is single-threaded.
status=0
pids=() names=()
for src in "$here"/fuzz_*.c; do
	target=$(basename "$src" .c)
	log "fuzzing $target for ${seconds}s"
	fuzz_one "$target" &
	pids+=($!) names+=("$target")
	if [ ${#pids[@]} -ge "$(nproc)" ]; then
		if ! wait "${pids[0]}"; then
			log "${names[0]} failed; see $artifacts/${names[0]}.log"
			tail -30 "$artifacts/${names[0]}.log" >&2
			status=1
		fi
		pids=("${pids[@]:1}") names=("${names[@]:1}")
	fi
done
for i in "${!pids[@]}"; do
	if ! wait "${pids[$i]}"; then
		log "${names[$i]} failed; see $artifacts/${names[$i]}.log"
		tail -30 "$artifacts/${names[$i]}.log" >&2
		status=1
	fi
done
exit $status
