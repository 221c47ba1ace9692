# The command line as a user meets it: usage errors and their hints, "did you mean", the
# config check and schema, --report - on stdout, JSON log lines with fields, text logs that
# escape control bytes from repository data, warnings for filters that match nothing, the
# bash completion, and what `cmake --install` puts in place.
. "$(dirname "$0")/lib/content.bash"

python3 "$GEN" "$tmp/repo" --small --git -q
add_bare_remote "$tmp/repo" remote

# --- usage errors: exit 2, before anything else happens --------------------------------------
expect_exit 2 -C "$tmp/repo" run --dryrun
assert_contains "$tmp/err" "did you mean '--dry-run'?"
expect_exit 2 -C "$tmp/repo" scan --dry-run
assert_contains "$tmp/err" "'--dry-run' is an option of 'run', not of 'scan'"
expect_exit 2 -C "$tmp/repo" scan -C "$tmp/repo"
assert_contains "$tmp/err" "goes before the command"
expect_exit 2 -C "$tmp/repo" run --image ''
assert_contains "$tmp/err" "--image: must not be empty"
expect_exit 2 -C "$tmp/repo" run --only ''
assert_contains "$tmp/err" "--only: must not be empty"
expect_exit 2 -C "$tmp/repo" run --batch-size 5
assert_contains "$tmp/err" "git.groups"
expect_exit 2 -C "$tmp/nowhere" scan
assert_contains "$tmp/err" "no such directory"
assert_contains "$tmp/err" "--worktree"
# A bad registry URL stops the run before any request or write: nothing is scanned or printed.
refs_before=$(git -C "$tmp/repo" for-each-ref | md5sum)
expect_exit 2 -C "$tmp/repo" run --registry-url ftp://example.invalid/x
assert_contains "$tmp/err" "not an http or https URL"
[ ! -s "$tmp/out" ] || fail "a refused run printed: $(head -3 "$tmp/out")"
grep -q "scan:" "$tmp/err" && fail "a refused run scanned"
expect_exit 2 -C "$tmp/repo" run --registry-url hub.docker.com
assert_contains "$tmp/err" "needs a scheme and a host"
[ "$(git -C "$tmp/repo" for-each-ref | md5sum)" = "$refs_before" ] || fail "a refused run wrote refs"

# --- config check lists every problem; the repository's file cannot set the runtime -----------
printf 'strategi: same-minor\ngit: {groups: 0}\nverify: {runtime: ./x.sh}\n' >"$tmp/repo/.dockerbump.yml"
expect_exit 2 -C "$tmp/repo" config check
assert_contains "$tmp/err" "did you mean 'strategy'?"
assert_contains "$tmp/err" "git.groups"
assert_contains "$tmp/err" "key 'verify.runtime' is not read from the repository's own config"
[ "$(grep -c '^error: ' "$tmp/err")" -ge 3 ] || fail "config check does not list every problem"
rm "$tmp/repo/.dockerbump.yml"
expect_exit 0 -C "$tmp/repo" config check
assert_contains "$tmp/out" "the configuration is good"
printf 'pull_request: {provider: github}\n' >"$tmp/gh.yml"
env -u GITHUB_TOKEN "$DOCKERBUMP" -C "$tmp/repo" -c "$tmp/gh.yml" config check >"$tmp/out" 2>"$tmp/err" &&
	fail "config check passed without a token"
assert_contains "$tmp/err" "GITHUB_TOKEN is not set"
expect_exit 0 config schema
python3 -c "import json,sys; s=json.load(open(sys.argv[1])); assert s['additionalProperties'] is False and 'rollout' in s['properties']" "$tmp/out" ||
	fail "config schema"

# --- --report - is stdout, and --json prints only the report ---------------------------------
expect_exit 0 -C "$tmp/repo" scan --offline --report -
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['items']" "$tmp/out" ||
	fail "--report - did not print the report on stdout"
[ ! -e "$tmp/repo/-" ] && [ ! -e ./- ] || fail "--report - wrote a file named '-'"

# --- JSON log lines carry fields; warnings name what matched nothing ---------------------------
cat >"$tmp/tags.json" <<'JSON'
{"demisto/python3": [{"name": "3.12.13.99000001", "last_updated": "2026-01-01T00:00:00Z"}],
 "demisto/python": [{"name": "2.7.18.99000002", "last_updated": "2026-01-01T00:00:00Z"}]}
JSON
start_hubstub hub --tags "$tmp/tags.json"
expect_exit 0 --log-format json -v -C "$tmp/repo" run --verify off --no-push \
	--registry-url "http://127.0.0.1:$hub_port" --image demisto/python3 --image python3
python3 - "$tmp/err" <<'PY' || fail "JSON log lines"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert all({"time", "level", "message"} <= set(o) for o in lines)
branch = [o for o in lines if "branch" in o and "commit" in o]
assert branch, "no line names a branch and its commit"
steps = [o for o in lines if o.get("step") == "scan" and isinstance(o.get("duration_ms"), int)]
assert steps, "no step line with a duration"
warn = [o for o in lines if o["level"] == "warn" and "--image 'python3' matches no item" in o["message"]]
assert warn and "did you mean 'demisto/python3'?" in warn[0]["message"], warn
PY

# --- text logs escape control bytes from repository data --------------------------------------
evil=$'Packs/Evil\n\033[31merror: forged line/Scripts/X/X.yml'
mkdir -p "$tmp/repo/$(dirname "$evil")"
printf 'commonfields:\n  id: X\nname: X\nscript: "-"\ntype: python\ndockerimage: demisto/python3:3.10.1.1\nautoUpdateDockerImage: "false"\n' >"$tmp/repo/$evil"
git -C "$tmp/repo" add -A && git -C "$tmp/repo" commit -q -m evil
expect_exit 0 -C "$tmp/repo" scan --offline --base main --wide
grep -q $'\033' "$tmp/err" && fail "a raw ESC reached the log"
grep -q $'\033' "$tmp/out" && fail "a raw ESC reached the table"
assert_contains "$tmp/out" 'Packs/Evil\n\x1b[31merror: forged line/Scripts/X/X.yml'
grep -q '^error: forged' "$tmp/err" && fail "repository data started a log line of its own"
assert_contains "$tmp/err" 'Packs/Evil\n\x1b[31merror: forged line'

# --- the bash completion -----------------------------------------------------------------------
"$DOCKERBUMP" completion bash >"$tmp/completion.bash"
complete_words() { # complete_words WORD...: what completing the last word offers
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _dockerbump; printf "%s\n" "${COMPREPLY[@]}"' \
		_ "$tmp/completion.bash" "$@"
}
[ "$(complete_words dockerbump ru)" = run ] || fail "completion of a command"
complete_words dockerbump run --dr | grep -qx -- --dry-run || fail "completion of a flag"
[ "$(complete_words dockerbump run --verify lo)" = load ] || fail "completion of a value"
complete_words dockerbump scan --dr | grep -q . && fail "scan completes a flag of run"

# --- the man page knows every flag of every command ---------------------------------------------
for cmd in "" scan run tags verify config; do
	"$DOCKERBUMP" $cmd --help | grep -oE -- '--[a-z][a-z-]+' | sort -u | while read -r f; do
		grep -qF -- "$(printf '%s' "$f" | sed 's/-/\\-/g')" "$DOCKERBUMP_SOURCE_DIR/docs/dockerbump.1" ||
			echo "$f"
	done
done >"$tmp/missing-in-man"
[ ! -s "$tmp/missing-in-man" ] || fail "docs/dockerbump.1 lacks: $(tr '\n' ' ' <"$tmp/missing-in-man")"

# --- what an install puts in place ---------------------------------------------------------------
if [ -n "${DOCKERBUMP_BUILD_DIR:-}" ] && [ -f "$DOCKERBUMP_BUILD_DIR/CMakeCache.txt" ]; then
	cmake --install "$DOCKERBUMP_BUILD_DIR" --prefix "$tmp/inst" >/dev/null
	for f in bin/dockerbump share/man/man1/dockerbump.1 share/bash-completion/completions/dockerbump \
		share/dockerbump/dockerbump.schema.json share/dockerbump/dockerbump.yml; do
		[ -s "$tmp/inst/$f" ] || fail "the install lacks $f"
	done
	cmp -s "$tmp/inst/share/bash-completion/completions/dockerbump" "$tmp/completion.bash" ||
		fail "the installed completion is not the binary's"
fi
echo "cli: ok"
