# run on the real corpus files assembled into a repository, and every kind of bad input:
# a YAML the editor refuses, packs without pack_metadata.json, the dockerimage45 rule, a push
# the remote's hook rejects, --push without such a remote, a base ref that does not exist, and
# a read-only .git. Each ends in the report status or error SPEC names, and nothing is lost.
. "$(dirname "$0")/lib/content.bash"
need_corpus

make_repo "$tmp/repo" "$CORPUS"
# A file the editor must refuse: dockerimage twice in one mapping.
mkdir -p "$tmp/repo/Packs/OpenPhish/Scripts/Twice"
printf 'commonfields:\n  id: Twice\nname: Twice\nscript: "-"\ntype: python\ndockerimage: demisto/python3:3.10.1.1\ndockerimage: demisto/python3:3.10.1.2\n' \
	>"$tmp/repo/Packs/OpenPhish/Scripts/Twice/Twice.yml"
git -C "$tmp/repo" add -A && git -C "$tmp/repo" commit -q -m "a refused file"

cat >"$tmp/tags.json" <<'JSON'
{"demisto/python3": [{"name": "3.10.13.81631", "last_updated": "2024-01-01T00:00:00Z"},
                     {"name": "3.12.13.9000000", "last_updated": "2026-01-01T00:00:00Z"},
                     {"name": "latest", "last_updated": "2026-01-01T00:00:00Z"}],
 "demisto/python": [{"name": "2.7.18.24066", "last_updated": "2024-01-01T00:00:00Z"},
                    {"name": "2.7.18.9000001", "last_updated": "2026-01-01T00:00:00Z"}]}
JSON
start_hubstub hub --tags "$tmp/tags.json"
reg=(--registry-url "http://127.0.0.1:$hub_port" --verify off)
branches() { git -C "$1" for-each-ref --format='%(refname)' refs/heads/dockerbump/; }

# --- the job on the corpus ------------------------------------------------------------------
expect_exit 0 -C "$tmp/repo" run "${reg[@]}" --no-push --report "$tmp/r.json"
python3 - "$tmp/r.json" "$tmp/repo" <<'PY' || fail "corpus run"
import json, subprocess, sys
rep = json.load(open(sys.argv[1])); repo = sys.argv[2]
items = {i["path"]: i for i in rep["items"]}
def show(rev, path):
    r = subprocess.run(["git", "-C", repo, "show", f"{rev}:{path}"], capture_output=True)
    return r.stdout if r.returncode == 0 else None
bad = []
want = {
    "Packs/Alexa/Integrations/Alexa/Alexa.yml": ("bumped", "2.7.18.9000001"),
    "Packs/CommonScripts/Scripts/ParseEmailFiles/ParseEmailFiles.yml": ("bumped", "2.7.18.9000001"),
    "Packs/Cryptocurrency/Integrations/Cryptocurrency/Cryptocurrency.yml": ("bumped", "3.12.13.9000000"),
    "Packs/Legacy/Integrations/BPA/BPA.yml": ("bumped", "3.12.13.9000000"),
    "Packs/OpenPhish/Integrations/OpenPhish_v2/OpenPhish_v2.yml": ("bumped", "3.12.13.9000000"),
    "Packs/Phishing/Scripts/CheckEmailAuthenticity/CheckEmailAuthenticity.yml": ("bumped", "3.12.13.9000000"),
    "Packs/OpenPhish/Scripts/Twice/Twice.yml": ("unparseable", None),
    "Packs/FeedMitreAttackv2/Integrations/FeedMitreAttackv2/FeedMitreAttackv2.yml": ("opted-out", None),
}
for p, (st, to) in want.items():
    it = items[p]
    if it["status"] != st or it["to"] != to:
        bad.append(f"{p}: {it['status']} -> {it['to']} ({it['reason']}), want {st} -> {to}")
if "duplicate key 'dockerimage'" not in (items["Packs/OpenPhish/Scripts/Twice/Twice.yml"]["reason"] or ""):
    bad.append("the refusal reason does not name the duplicate key")
# No pack_metadata.json: bumped all the same, and the report says why there is no note.
r = items["Packs/Cryptocurrency/Integrations/Cryptocurrency/Cryptocurrency.yml"]["reason"] or ""
if "release notes skipped" not in r or "Packs/Cryptocurrency/pack_metadata.json" not in r:
    bad.append(f"Cryptocurrency reason: {r!r}")
# dockerimage45: BPA has fromversion 4.5.0, so the old image goes on a new line right after.
bpa = items["Packs/Legacy/Integrations/BPA/BPA.yml"]
base = show("main", bpa["path"]).decode(); new = show(bpa["branch"], bpa["path"]).decode()
want_new = base.replace("  dockerimage: demisto/python3:3.7.5.4583\n",
    "  dockerimage: demisto/python3:3.12.13.9000000\n  dockerimage45: demisto/python3:3.7.5.4583\n", 1)
if bpa["dockerimage45"] != "added" or new != want_new:
    bad.append("BPA: dockerimage45 not added as the SDK does")
# CheckEmailAuthenticity has fromversion >= 5: only the tag changes.
c = items["Packs/Phishing/Scripts/CheckEmailAuthenticity/CheckEmailAuthenticity.yml"]
if show(c["branch"], c["path"]) != show("main", c["path"]).replace(b"3.12.13.8428455", b"3.12.13.9000000", 1):
    bad.append("CheckEmailAuthenticity: more than the tag changed")
# OpenPhish has metadata: version raised and a note; the refused file is untouched everywhere.
o = items["Packs/OpenPhish/Integrations/OpenPhish_v2/OpenPhish_v2.yml"]
meta = show(o["branch"], "Packs/OpenPhish/pack_metadata.json")
if meta != show("main", "Packs/OpenPhish/pack_metadata.json").replace(b'"2.0.7"', b'"2.0.8"', 1):
    bad.append("OpenPhish pack_metadata.json")
note = show(o["branch"], "Packs/OpenPhish/ReleaseNotes/2_0_8.md")
if note != b"\n#### Integrations\n\n##### OpenPhish v2\n\n- Updated the Docker image to: *demisto/python3:3.12.13.9000000*.\n\n":
    bad.append(f"OpenPhish release note: {note!r}")
for b in rep["branches"]:
    if show(b["name"], "Packs/OpenPhish/Scripts/Twice/Twice.yml") != show("main", "Packs/OpenPhish/Scripts/Twice/Twice.yml"):
        bad.append(f"the refused file changed on {b['name']}")
for b in bad: print(b)
sys.exit(1 if bad else 0)
PY

# --- a remote whose pre-receive hook rejects the push ---------------------------------------
make_repo "$tmp/r2" "$CORPUS"
git init -q --bare "$tmp/rejecting.git"
printf '#!/bin/sh\necho "bot pushes are frozen today" >&2\nexit 1\n' >"$tmp/rejecting.git/hooks/pre-receive"
chmod +x "$tmp/rejecting.git/hooks/pre-receive"
expect_exit 1 -C "$tmp/r2" run "${reg[@]}" --push "$tmp/rejecting.git"
assert_contains "$tmp/err" "push of 'refs/heads/dockerbump/group-"
assert_contains "$tmp/err" "bot pushes are frozen today"
[ -z "$(branches "$tmp/r2")" ] || fail "a rejected push left local branches: $(branches "$tmp/r2")"
[ -z "$(branches "$tmp/rejecting.git")" ] || fail "the rejecting remote has branches"

# --- --push to a remote the repository does not have; a base that does not exist ------------
expect_exit 1 -C "$tmp/r2" run "${reg[@]}" --push origin
assert_contains "$tmp/err" "origin"
[ -z "$(branches "$tmp/r2")" ] || fail "a failed push left local branches"
expect_exit 1 -C "$tmp/r2" run "${reg[@]}" --base no-such-branch
assert_contains "$tmp/err" "'no-such-branch'"
expect_exit 2 -C "$tmp/r2" run --verify sometimes
assert_contains "$tmp/err" "--verify"

# --- a read-only .git: an error naming the repository, no branch, nothing changed -----------
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
	make_repo "$tmp/ro" "$CORPUS"
	chmod -R a+rX "$tmp" && chmod -R a-w "$tmp/ro/.git"
	mkdir -p "$tmp/nobody-cache" && chmod 777 "$tmp/nobody-cache"
	before=$(find "$tmp/ro/.git" -type f | sort | md5sum)
	# Another user's repository: refused with the fix, until it is a safe.directory.
	rc=0
	XDG_CACHE_HOME="$tmp/nobody-cache" setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$DOCKERBUMP" -C "$tmp/ro" run "${reg[@]}" --no-push >"$tmp/out" 2>"$tmp/err" || rc=$?
	[ "$rc" = 2 ] || { cat "$tmp/err" >&2; fail "another user's repository: exit $rc, want 2"; }
	assert_contains "$tmp/err" "safe.directory"
	git config --global --add safe.directory "$tmp/ro"
	chmod -R a+rX "$HOME"
	rc=0
	XDG_CACHE_HOME="$tmp/nobody-cache" setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$DOCKERBUMP" -C "$tmp/ro" run "${reg[@]}" --no-push >"$tmp/out" 2>"$tmp/err" || rc=$?
	[ "$rc" = 1 ] || { cat "$tmp/err" >&2; fail "read-only .git: exit $rc, want 1"; }
	assert_contains "$tmp/err" "$tmp/ro"
	[ "$(find "$tmp/ro/.git" -type f | sort | md5sum)" = "$before" ] || fail "read-only .git changed"
	chmod -R u+w "$tmp/ro/.git"
fi
echo "run_faults: ok"
