#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs every test: unit and end-to-end (dev preset),
# the same suite under ASan/UBSan (asan preset), and the fuzz targets for a bounded time.
#
#   tests/run.sh            everything
#   tests/run.sh --quick    dev preset only, no asan, no fuzz
#
# Services the tests use (the container engine) are started here and stopped on exit.
# Environment: DOCKERBUMP_FUZZ_SECONDS (default 60), DOCKERBUMP_TEST_NO_DOCKER=1 to skip the
# tests that need a container engine, DOCKERBUMP_TEST_CACHE for cached test images.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
quick=0
[ "${1:-}" = "--quick" ] && quick=1

log() { printf '==> %s\n' "$*" >&2; }

install_packages() {
	local want=() missing=()
	mapfile -t want < <(grep -v '^\s*#' "$here/packages.txt" | grep -v '^\s*$')
	for p in "${want[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		log "installing: ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q
		apt-get install -y -q --no-install-recommends "${missing[@]}"
	fi
}

dockerd_pid=
start_services() {
	[ "${DOCKERBUMP_TEST_NO_DOCKER:-0}" = 1 ] && return 0
	command -v dockerd >/dev/null || return 0
	if [ -S /var/run/docker.sock ] && docker info >/dev/null 2>&1; then
		log "using the running container engine"
		return 0
	fi
	log "starting dockerd"
	dockerd --iptables=false --bridge=none >"${TMPDIR:-/tmp}/dockerbump-dockerd.log" 2>&1 &
	dockerd_pid=$!
	for _ in $(seq 1 60); do
		docker info >/dev/null 2>&1 && return 0
		sleep 1
	done
	log "dockerd did not start; see ${TMPDIR:-/tmp}/dockerbump-dockerd.log"
	return 1
}

stop_services() {
	if [ -n "$dockerd_pid" ]; then
		log "stopping dockerd ($dockerd_pid)"
		kill "$dockerd_pid" 2>/dev/null || true
		for _ in $(seq 1 30); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 1; done
		kill -9 "$dockerd_pid" 2>/dev/null || true
	fi
}
trap stop_services EXIT

install_packages
start_services

cd "$top"
jobs=$(nproc)

# Where everything a test needs is present (the shared corpus, a container engine), a skipped
# test means something is broken: fail instead of reporting success.
expect_no_skips=0
if [ -d "$top/../shared/corpus" ] && [ "${DOCKERBUMP_TEST_NO_DOCKER:-0}" != 1 ] &&
	docker info >/dev/null 2>&1; then
	expect_no_skips=1
fi

# run_ctest PRESET: the suite, failing on unexpected skips.
run_ctest() {
	local out="${TMPDIR:-/tmp}/dockerbump-ctest-$1.log" skipped
	ctest --preset "$1" -j "$jobs" 2>&1 | tee "$out"
	[ "${PIPESTATUS[0]}" = 0 ] || return 1
	skipped=$(grep -E '\*\*\*Skipped|Not Run' "$out" || true)
	if [ -n "$skipped" ] && [ "$expect_no_skips" = 1 ]; then
		log "tests skipped although the corpus and the engine are here:"
		printf '%s\n' "$skipped" >&2
		return 1
	fi
}

log "dev build (gcc)"
cmake --preset dev >/dev/null
cmake --build --preset dev -j "$jobs"
log "clang build (warnings are errors)"
cmake --preset clang >/dev/null
cmake --build --preset clang -j "$jobs"
log "format check"
clang-format --dry-run --Werror common/*.[ch] updater/*.[ch] main.c tests/unit/*.[ch] tests/fuzz/*.c
log "tests (dev)"
run_ctest dev

[ "$quick" = 1 ] && exit 0

log "asan build"
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"
log "tests (asan)"
run_ctest asan

if [ -f tests/fuzz/run.sh ]; then
	log "fuzzing"
	bash tests/fuzz/run.sh "${DOCKERBUMP_FUZZ_SECONDS:-60}"
fi
log "all tests passed"
