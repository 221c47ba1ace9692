# Helpers sourced by the end-to-end scripts (not a test itself: it has no main body).
# ctest passes DOCKERBUMP (the binary), DOCKERBUMP_SOURCE_DIR, DOCKERBUMP_BUILD_DIR and
# DOCKERBUMP_SHARED (the shared corpus folder) in the environment.
set -euo pipefail

: "${DOCKERBUMP:?run through ctest, or set DOCKERBUMP to the binary}"
: "${DOCKERBUMP_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${DOCKERBUMP_SHARED:=$DOCKERBUMP_SOURCE_DIR/../shared}"
CORPUS="$DOCKERBUMP_SHARED/corpus/demisto-content"

T=$(mktemp -d "${TMPDIR:-/tmp}/dockerbump-e2e.XXXXXX")
export XDG_CACHE_HOME="$T/cache"
export HOME="$T/home"
mkdir -p "$HOME"
export GIT_AUTHOR_NAME=tester GIT_AUTHOR_EMAIL=tester@example.invalid
export GIT_COMMITTER_NAME=tester GIT_COMMITTER_EMAIL=tester@example.invalid
export GIT_CONFIG_NOSYSTEM=1

e2e_cleanup_hooks=()
e2e_cleanup() {
	local h
	for h in "${e2e_cleanup_hooks[@]}"; do eval "$h" || true; done
	rm -rf "$T"
}
trap e2e_cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

# expect_exit CODE CMD...: runs CMD, stdout to $T/out, stderr to $T/err; checks the status.
expect_exit() {
	local want=$1 got=0
	shift
	"$@" >"$T/out" 2>"$T/err" || got=$?
	if [ "$got" != "$want" ]; then
		echo "--- stdout" >&2; head -c 4000 "$T/out" >&2
		echo "--- stderr" >&2; head -c 4000 "$T/err" >&2
		fail "exit $got, want $want: $*"
	fi
}

# assert_contains FILE TEXT
assert_contains() {
	grep -qF -- "$2" "$1" || { echo "--- $1" >&2; head -c 4000 "$1" >&2; fail "'$1' lacks '$2'"; }
}

# make_repo DIR SRC: a git repository at DIR whose first commit on main holds SRC's files.
make_repo() {
	mkdir -p "$1"
	cp -a "$2/." "$1/"
	git -C "$1" init -q -b main
	git -C "$1" add -A
	git -C "$1" commit -q -m "content"
}

need_corpus() {
	[ -d "$CORPUS" ] || skip "the shared corpus is not at $CORPUS"
}
