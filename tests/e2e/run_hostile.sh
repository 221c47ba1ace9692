# A content repository written by hostile or careless hands: packs whose release notes cannot
# be written (ReleaseNotes a file, a note path that is a folder, ReleaseNotes a symbolic
# link), a symbolic link as an item YAML, a hand-written note where ours would go, a
# digest-pinned image, and a .dockerbump.yml that names a runtime and a forge URL. The healthy
# packs are bumped, the broken ones fail their own items with the reason, the report is
# written, nothing is lost, and no token or program of the repository's choosing is used.
. "$(dirname "$0")/lib/content.bash"

repo=$tmp/repo
mkdir -p "$repo"
git -C "$repo" init -q -b main
script() { # script PACK NAME IMAGE: a split script item and its pack metadata
	mkdir -p "$repo/Packs/$1/Scripts/$2"
	printf 'commonfields:\n  id: %s\nname: %s\nscript: "-"\ntype: python\nsubtype: python3\nfromversion: 6.0.0\ndockerimage: %s\n' \
		"$2" "$2" "$3" >"$repo/Packs/$1/Scripts/$2/$2.yml"
	printf 'print("ok")\n' >"$repo/Packs/$1/Scripts/$2/$2.py"
	[ -f "$repo/Packs/$1/pack_metadata.json" ] ||
		printf '{\n    "name": "%s",\n    "currentVersion": "1.0.0"\n}\n' "$1" >"$repo/Packs/$1/pack_metadata.json"
}
old=demisto/python3:3.10.13.1000
for p in Healthy1 Healthy2 NotesFile NotesDir NotesLink HandNote LinkedItem; do script "$p" "${p}Script" "$old"; done
printf 'not a folder\n' >"$repo/Packs/NotesFile/ReleaseNotes"
mkdir -p "$repo/Packs/NotesDir/ReleaseNotes/1_0_1.md" && printf 'x\n' >"$repo/Packs/NotesDir/ReleaseNotes/1_0_1.md/keep"
ln -s ../Healthy1 "$repo/Packs/NotesLink/ReleaseNotes"
mkdir -p "$repo/Packs/HandNote/ReleaseNotes"
printf '\n#### Scripts\n\n##### Something else\n\n- Written by hand; keep me.' >"$repo/Packs/HandNote/ReleaseNotes/1_0_1.md"
mkdir -p "$repo/Packs/LinkedItem/Scripts/Alias"
ln -s ../LinkedItemScript/LinkedItemScript.yml "$repo/Packs/LinkedItem/Scripts/Alias/Alias.yml"
script Pinned PinnedScript "demisto/python3:3.10.13.1000@sha256:$(printf 'a%.0s' $(seq 64))"
printf 'autoUpdateDockerImage: true\n' >>"$repo/Packs/Pinned/Scripts/PinnedScript/PinnedScript.yml"
git -C "$repo" add -A && git -C "$repo" commit -q -m content
base=$(git -C "$repo" rev-parse HEAD)

cat >"$tmp/tags.json" <<'JSON'
{"demisto/python3": [{"name": "3.10.13.1000", "last_updated": "2025-01-01T00:00:00Z"},
                     {"name": "3.11.10.2000", "last_updated": "2026-01-01T00:00:00Z"}]}
JSON
start_hubstub hub --tags "$tmp/tags.json"
reg=(--registry-url "http://127.0.0.1:$hub_port" --verify off --no-push)

expect_exit 1 -C "$repo" run "${reg[@]}" --report "$tmp/r.json"
assert_contains "$tmp/err" "items in error"
python3 - "$tmp/r.json" "$repo" <<'PY' || fail "the report"
import json, subprocess, sys
rep = json.load(open(sys.argv[1])); repo = sys.argv[2]
items = {i["path"].split("/")[1] + "/" + i["name"]: i for i in rep["items"]}
def show(rev, path):
    r = subprocess.run(["git", "-C", repo, "show", f"{rev}:{path}"], capture_output=True)
    return r.stdout if r.returncode == 0 else None
bad = []
def expect(key, status, *needles):
    it = items.get(key)
    if not it:
        bad.append(f"{key}: not in the report"); return None
    if it["status"] != status:
        bad.append(f"{key}: {it['status']} ({it['reason']}), want {status}")
    for n in needles:
        if n not in (it["reason"] or ""):
            bad.append(f"{key}: the reason {it['reason']!r} lacks {n!r}")
    return it
for p in ("Healthy1", "Healthy2", "HandNote"):
    it = expect(f"{p}/{p}Script", "bumped")
    if it and show(it["branch"], f"Packs/{p}/Scripts/{p}Script/{p}Script.yml") is None:
        bad.append(f"{p}: not on its branch")
expect("NotesFile/NotesFileScript", "error", "'Packs/NotesFile/ReleaseNotes' is a file")
expect("NotesDir/NotesDirScript", "error", "'Packs/NotesDir/ReleaseNotes/1_0_1.md' is a folder")
expect("NotesLink/NotesLinkScript", "error", "'Packs/NotesLink/ReleaseNotes' is a symbolic link")
expect("Pinned/PinnedScript", "error", "pinned by digest")
# The symbolic link is never read as the item it points at, nor written through.
alias = [i for i in rep["items"] if i["path"].endswith("Alias/Alias.yml")]
if alias and alias[0]["status"] == "bumped":
    bad.append(f"the symbolic link was bumped: {alias[0]}")
# A hand-written note keeps every byte; ours follows it.
h = items["HandNote/HandNoteScript"]
note = show(h["branch"], "Packs/HandNote/ReleaseNotes/1_0_1.md") or b""
hand = b"\n#### Scripts\n\n##### Something else\n\n- Written by hand; keep me."
if not note.startswith(hand + b"\n") or b"*demisto/python3:3.11.10.2000*" not in note:
    bad.append(f"the hand-written note: {note!r}")
# The broken packs' files are untouched on every branch.
for b in rep["branches"]:
    for f in ("Packs/NotesFile/ReleaseNotes", "Packs/NotesFile/pack_metadata.json",
              "Packs/NotesDir/pack_metadata.json", "Packs/NotesLink/pack_metadata.json"):
        if show(b["name"], f) != show("main", f):
            bad.append(f"{f} changed on {b['name']}")
for b in bad: print(b)
sys.exit(1 if bad else 0)
PY
[ "$(git -C "$repo" rev-parse main)" = "$base" ] || fail "the base moved"
git -C "$repo" fsck --no-dangling >/dev/null 2>&1 || fail "git fsck"

# --- the repository's own config may not pick a runtime or a forge URL -------------------------
token="ghp_hostileTestToken0123456789abcdefABCD"
listener_log=$tmp/listener.log
command -p python3 - "$tmp/listener.port" "$listener_log" <<'PY' >/dev/null 2>&1 &
import http.server, sys, threading, os
class H(http.server.BaseHTTPRequestHandler):
    def do_ANY(self):
        with open(sys.argv[2], "a") as f:
            f.write(f"{self.command} {self.path} {dict(self.headers)}\n")
        self.send_response(404); self.end_headers()
    do_GET = do_POST = do_PATCH = do_PUT = do_ANY
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1] + ".tmp", "w").write(str(s.server_address[1])); os.rename(sys.argv[1] + ".tmp", sys.argv[1])
t = threading.Timer(120, s.shutdown)
t.daemon = True
t.start()
s.serve_forever()
PY
started_pids+=($!)
wait_for_file "$tmp/listener.port" 15
printf '#!/bin/sh\nenv > "%s/runtime-ran"\nexit 1\n' "$tmp" >"$repo/evil.sh" && chmod +x "$repo/evil.sh"
cat >"$repo/.dockerbump.yml" <<YAML
verify: {runtime: ./evil.sh, level: load}
pull_request: {provider: github, api_url: "http://127.0.0.1:$(cat "$tmp/listener.port")/api", repo: a/b}
YAML
GITHUB_TOKEN=$token expect_exit 2 -C "$repo" run --registry-url "http://127.0.0.1:$hub_port"
assert_contains "$tmp/err" "key 'verify.runtime' is not read from the repository's own config"
assert_contains "$tmp/err" "key 'pull_request.api_url' is not read from the repository's own config"
[ ! -e "$tmp/runtime-ran" ] || fail "the repository's runtime ran"
[ ! -s "$listener_log" ] || fail "the repository's forge URL was contacted: $(cat "$listener_log")"
# The operator's own config may not send the token over plain http to another host either.
printf 'pull_request: {provider: github, api_url: "http://forge.example.invalid/api", repo: a/b}\n' >"$tmp/op.yml"
rm "$repo/.dockerbump.yml"
GITHUB_TOKEN=$token expect_exit 2 -C "$repo" -c "$tmp/op.yml" run --verify off --no-push
assert_contains "$tmp/err" "plain http"
if grep -rl -- "$token" "$tmp"/out "$tmp"/err "$listener_log" 2>/dev/null; then fail "the token was written out"; fi
echo "run_hostile: ok"
