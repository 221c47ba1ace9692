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
status=0
for src in "$here"/fuzz_*.c; do
	target=$(basename "$src" .c)
	name=${target#fuzz_}
	bin=$(find "$top/build/fuzz" -type f -name "$target" -perm -u+x | head -n 1)
	if [ -z "$bin" ]; then
		log "$target was not built"
		exit 1
	fi
	work="$here/corpus-run/$name"
	mkdir -p "$work"
	args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536
		-print_final_stats=1 -artifact_prefix="$artifacts/$target-")
	[ -f "$here/$name.dict" ] && args+=(-dict="$here/$name.dict")
	log "fuzzing $target for ${seconds}s"
	seeds=("$here/corpus/$name")
	if [ -f "$here/$name.seeds" ]; then
		while read -r dir; do
			case $dir in '' | '#'*) continue ;; esac
			[ -d "$top/$dir" ] && seeds+=("$top/$dir")
		done <"$here/$name.seeds"
	fi
	# Seed directories are read, never written: new inputs land in the work directory.
	if ! "$bin" "${args[@]}" "$work" "${seeds[@]}"; then
		log "$target failed; the input is in $artifacts"
		status=1
	fi
done
exit $status
