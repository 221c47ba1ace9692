# The preflight of `run` (SPEC §4 step 1): a missing token, a repository the forge does not
# know (404), a registry URL that is not a URL, a shallow clone (`git clone --depth 1`, the
# GitHub Actions default) and a base that does not exist each stop the run before anything is
# written: the clone's object store (every file and its hash) and refs, the bare remote's refs
# and the forge stand-in's request log are the same before and after, and the exit status and
# the message say what to fix.
. "$(dirname "$0")/lib/content.bash"

export GITHUB_TOKEN=ghp_preflightToken0123456789abcdef
python3 "$GEN" "$tmp/seed" --small --git -q
git clone -q --bare "$tmp/seed" "$tmp/remote.git"
git -C "$tmp/remote.git" config core.logAllRefUpdates always
git clone -q "$tmp/remote.git" "$tmp/repo"
git clone -q --depth 1 "file://$tmp/remote.git" "$tmp/shallow"
[ -f "$tmp/shallow/.git/shallow" ] || fail "git clone --depth 1 did not make a shallow clone"

python3 "$stubs/ghstub.py" --port-file "$tmp/gh.port" --log "$tmp/gh.log" --repo demisto/content \
	--git-dir "$tmp/remote.git" --prefix /api/v3 --lifetime 600 >/dev/null 2>"$tmp/gh.err" &
started_pids+=($!)
wait_for_file "$tmp/gh.port" 15
gh_host="127.0.0.1:$(cat "$tmp/gh.port")"
gh="http://$gh_host"
python3 - "$tmp/tags.json" <<'PY'
import json, sys
json.dump({image: [{"name": tag, "last_updated": "2026-01-01T00:00:00Z"}] for image, tag in (
    ("demisto/python3", "3.12.13.2000000"), ("demisto/python", "2.7.18.2000000"),
    ("demisto/crypto", "1.0.0.2000000"), ("demisto/boto3py3", "1.0.0.2000000"))},
    open(sys.argv[1], "w"))
PY
start_hubstub hub --tags "$tmp/tags.json"

# config FILE REPO REGISTRY-URL: the forge config of every case.
config() {
	cat >"$1" <<YAML
registry:
  url: "$3"
pull_request:
  provider: github
  api_url: "$gh/api/v3"
  repo: $2
cache:
  ttl_s: 0
YAML
}
config "$tmp/good.yml" demisto/content "http://127.0.0.1:$hub_port"

# snapshot CLONE: the clone's object store (each file and its hash), its refs and HEAD, its
# shallow file, and the remote's refs.
snapshot() {
	(
		cd "$1/.git"
		find objects -type f -print0 | sort -z | xargs -0 -r sha256sum
		find refs -print | sort
		cat HEAD packed-refs shallow 2>/dev/null || true
	)
	git -C "$1" for-each-ref --format='%(objectname) %(refname)'
	git -C "$tmp/remote.git" for-each-ref --format='%(objectname) %(refname)'
	cat "$tmp/remote.git/packed-refs" 2>/dev/null || true
}
log_length() { curl -sf "$gh/_stub/log" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))'; }

# refused NAME CLONE WANT-RC MAX-FORGE-READS CONFIG RUN-ARGS...: the run exits WANT-RC having changed
# nothing and written nothing to the forge, having read it at most MAX-FORGE-READS times.
refused() {
	local name=$1 clone=$2 want=$3 reads=$4 cfg=$5 since
	shift 5
	snapshot "$clone" >"$tmp/$name.before"
	since=$(log_length)
	run_db "$tmp/$name.out" "$tmp/$name.err" -c "$cfg" -C "$clone" run --verify off "$@"
	[ "$rc" = "$want" ] || { cat "$tmp/$name.err" >&2; fail "$name: exit $rc, want $want"; }
	snapshot "$clone" >"$tmp/$name.after"
	diff "$tmp/$name.before" "$tmp/$name.after" >&2 || fail "$name: the object store or a ref changed"
	curl -sf "$gh/_stub/log?since=$since" | python3 -c '
import json, sys
log, reads = json.load(sys.stdin), int(sys.argv[1])
writes = [(e["method"], e["path"]) for e in log if e["method"] != "GET"]
assert not writes, ("forge writes", writes)
assert len(log) <= reads, ("forge reads", [(e["method"], e["path"]) for e in log])' "$reads" ||
		fail "$name: the forge saw more than it should"
	echo "$name: exit $rc: $(grep -v '^warn:' "$tmp/$name.err" | tail -1)"
}

# A missing token: the fix names the variable; the forge is not even asked.
unset GITHUB_TOKEN
refused no-token "$tmp/repo" 2 0 "$tmp/good.yml" --pr github
assert_contains "$tmp/no-token.err" "GITHUB_TOKEN"
export GITHUB_TOKEN=ghp_preflightToken0123456789abcdef

# A repository the forge does not know: its one authenticated read answers 404.
config "$tmp/wrong-repo.yml" demisto/no-such-content "http://127.0.0.1:$hub_port"
refused wrong-repo "$tmp/repo" 1 1 "$tmp/wrong-repo.yml"
assert_contains "$tmp/wrong-repo.err" "demisto/no-such-content"
assert_contains "$tmp/wrong-repo.err" "$gh_host"
assert_contains "$tmp/wrong-repo.err" "pull_request.repo"

# A registry URL without a scheme: a config error, before the repository is even opened.
config "$tmp/bad-url.yml" demisto/content "127.0.0.1:$hub_port"
refused bad-registry-url "$tmp/repo" 2 0 "$tmp/bad-url.yml"
assert_contains "$tmp/bad-registry-url.err" "registry.url"
assert_contains "$tmp/bad-registry-url.err" "it needs a scheme and a host"
refused bad-registry-flag "$tmp/repo" 2 0 "$tmp/good.yml" --registry-url "ftp://127.0.0.1:$hub_port"
assert_contains "$tmp/bad-registry-flag.err" "not an http or https URL"

# A shallow clone cannot push its branches: refused with the fix, before the forge is asked.
refused shallow "$tmp/shallow" 2 0 "$tmp/good.yml"
assert_contains "$tmp/shallow.err" "shallow"
assert_contains "$tmp/shallow.err" "git fetch --unshallow"

# A base that does not exist.
refused unknown-base "$tmp/repo" 1 0 "$tmp/good.yml" --base no-such-branch
assert_contains "$tmp/unknown-base.err" "no-such-branch"
assert_contains "$tmp/unknown-base.err" "pass --base"

# The same clone and config, nothing wrong: the run writes (so the checks above can fail).
snapshot "$tmp/repo" >"$tmp/ok.before"
run_db "$tmp/ok.out" "$tmp/ok.err" -c "$tmp/good.yml" -C "$tmp/repo" run --verify off
[ "$rc" = 0 ] || { cat "$tmp/ok.err" >&2; fail "the good run: exit $rc"; }
snapshot "$tmp/repo" >"$tmp/ok.after"
cmp -s "$tmp/ok.before" "$tmp/ok.after" && fail "the good run changed nothing: the snapshot misses writes"
curl -sf "$gh/_stub/log" | grep -q '"method": "POST"' || fail "the good run wrote nothing to the forge"
echo "run_preflight: ok"
