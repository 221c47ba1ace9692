# Shared by the end-to-end tests of scan and run (sourced, not run): everything of
# netstub.bash (a private $tmp, cleanup by PID, the stand-ins, run_db, expect_rc) plus content
# repositories built from the shared corpus or the generator, and a bare remote.
. "$(dirname "${BASH_SOURCE[0]}")/netstub.bash"

: "${DOCKERBUMP_SHARED:=$DOCKERBUMP_SOURCE_DIR/../shared}"
CORPUS="$DOCKERBUMP_SHARED/corpus/demisto-content"
GEN="$DOCKERBUMP_SOURCE_DIR/tests/bench/gen_content.py"
export HOME="$tmp/home"
mkdir -p "$HOME"
export GIT_AUTHOR_NAME=tester GIT_AUTHOR_EMAIL=tester@example.invalid
export GIT_COMMITTER_NAME=tester GIT_COMMITTER_EMAIL=tester@example.invalid
export GIT_CONFIG_NOSYSTEM=1

skip() {
	echo "skip: $*"
	exit 77
}

need_corpus() {
	[ -d "$CORPUS" ] || skip "the shared corpus is not at $CORPUS"
}

# expect_exit CODE ARGS...: runs dockerbump; stdout in $tmp/out, stderr in $tmp/err.
expect_exit() {
	local want=$1
	shift
	run_db "$tmp/out" "$tmp/err" "$@"
	if [ "$rc" != "$want" ]; then
		echo "--- stdout" >&2; head -c 4000 "$tmp/out" >&2
		echo "--- stderr" >&2; head -c 4000 "$tmp/err" >&2
		fail "exit $rc, want $want: dockerbump $*"
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

# add_bare_remote REPO NAME: a bare repository at $tmp/NAME.git, added as REPO's origin, with
# main pushed and every ref update logged.
add_bare_remote() {
	git init -q --bare "$tmp/$2.git"
	git -C "$tmp/$2.git" config core.logAllRefUpdates always
	git -C "$1" remote add origin "$tmp/$2.git"
	git -C "$1" push -q origin main
	git -C "$1" fetch -q origin
	git -C "$1" remote set-head origin main
}

# group_branch PACK [GROUPS]: the branch of PACK's group (FNV-1a of the name mod GROUPS, 64).
group_branch() {
	python3 - "$1" "${2:-64}" <<'PY'
import sys
h = 2166136261
for c in sys.argv[1].encode():
    h = ((h ^ c) * 16777619) & 0xffffffff
print(f"dockerbump/group-{h % int(sys.argv[2])}")
PY
}
