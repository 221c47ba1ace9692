# run on a generated content repository, tags from the Docker Hub stand-in, verification off:
# every bumped file on its branch differs from the base only in the tag bytes (and the
# dockerimage45 line), every other item is unchanged on every branch, release notes and
# pack_metadata.json are exact, the branches are pushed to a bare remote, a second run writes
# and pushes nothing, a moved base rebuilds the branches, and --dry-run writes nothing.
. "$(dirname "$0")/lib/content.bash"

python3 "$GEN" "$tmp/repo" --small --git --manifest "$tmp/manifest.json" -q
add_bare_remote "$tmp/repo" remote

# Every image the generator used, plus one newer numeric tag each (the expected target).
python3 - "$tmp/manifest.json" "$tmp/tags.json" "$tmp/targets.json" <<'PY'
import json, re, sys
m = json.load(open(sys.argv[1]))
tags, targets = {}, {}
for image, used in m["images"].items():
    numeric = [t for t in used if t and re.fullmatch(r"\d+(\.\d+)+", t)]
    best = max(numeric, key=lambda t: [int(x) for x in t.split(".")], default="1.0.0.1")
    parts = best.split(".")
    target = ".".join(parts[:-1] + [str(int(parts[-1]) + 7000000)])
    names = sorted(set(t for t in used if t)) + [target, "latest"]
    tags[image] = [{"name": n, "last_updated": "2026-01-01T00:00:00.000000Z"} for n in names]
    targets[image] = target
json.dump(tags, open(sys.argv[2], "w"))
json.dump(targets, open(sys.argv[3], "w"))
PY
start_hubstub hub --tags "$tmp/tags.json"
reg=(--registry-url "http://127.0.0.1:$hub_port")

refs() { git -C "$tmp/repo" for-each-ref --format='%(refname) %(objectname)' refs/heads; }
objects() { find "$tmp/repo/.git/objects" -type f | sort | md5sum; }

# --- dry run first: it writes no object, no ref, no file -----------------------------------
before_refs=$(refs); before_objects=$(objects)
expect_exit 0 -C "$tmp/repo" run --dry-run --verify off "${reg[@]}" --report "$tmp/dry.json"
[ "$(refs)" = "$before_refs" ] || fail "--dry-run changed refs"
[ "$(objects)" = "$before_objects" ] || fail "--dry-run wrote objects"
[ -z "$(git -C "$tmp/repo" status --porcelain)" ] || fail "--dry-run touched the work tree"
grep -qE '^group [0-9]+ \(dockerbump/group-[0-9]+\): [0-9]+ items?$' "$tmp/out" ||
	fail "the dry run shows no group"
assert_contains "$tmp/out" "+++ b/Packs/"
grep -qE '^-\s+"currentVersion": "[0-9.]+",$' "$tmp/out" || fail "the dry run shows no currentVersion change"
assert_contains "$tmp/out" "+- Updated the Docker image to: *demisto/python3:"
python3 -c "import json,sys; d=json.load(open('$tmp/dry.json')); assert d['dry_run'] is True; assert not any(b['commit'] for b in d['branches'])" ||
	fail "dry-run report"

expect_exit 0 -C "$tmp/repo" run --dry-run --verify off "${reg[@]}" --json
python3 -c "import json,sys; d=json.load(open('$tmp/out')); assert d['dry_run'] and d['items']" ||
	fail "run --dry-run --json does not print only the report"
[ "$(refs)" = "$before_refs" ] || fail "--dry-run --json changed refs"

# --- the real run, with a dirty work tree and main checked out ------------------------------
echo "local edit" >>"$tmp/repo/README.md"
cp "$tmp/repo/.git/index" "$tmp/index.before"
head_before=$(git -C "$tmp/repo" rev-parse HEAD)
expect_exit 0 -C "$tmp/repo" run --verify off "${reg[@]}" --report "$tmp/r1.json"
cmp -s "$tmp/repo/.git/index" "$tmp/index.before" || fail "the index changed"
[ "$(git -C "$tmp/repo" rev-parse HEAD)" = "$head_before" ] || fail "HEAD moved"
[ "$(git -C "$tmp/repo" symbolic-ref HEAD)" = refs/heads/main ] || fail "the current branch changed"
git -C "$tmp/repo" diff --quiet -- README.md && fail "the work tree edit is gone"
assert_contains "$tmp/err" "run: "

python3 - "$tmp/manifest.json" "$tmp/r1.json" "$tmp/targets.json" "$tmp/repo" <<'PY' || fail "branch contents"
import json, subprocess, sys
m = json.load(open(sys.argv[1])); rep = json.load(open(sys.argv[2]))
targets = json.load(open(sys.argv[3])); repo = sys.argv[4]
def show(rev, path):
    r = subprocess.run(["git", "-C", repo, "show", f"{rev}:{path}"], capture_output=True)
    return r.stdout if r.returncode == 0 else None
items = {i["path"]: i for i in rep["items"]}
branches = [b["name"] for b in rep["branches"]]
bad = []
assert branches, "no branch was made"
for b in rep["branches"]:
    if not b["commit"]: bad.append(f"{b['name']}: no commit")
    parent = subprocess.run(["git", "-C", repo, "rev-parse", b["name"] + "^"], capture_output=True, text=True).stdout.strip()
    if parent != rep["base"]: bad.append(f"{b['name']}: parent {parent} is not the base")
for e in m["items"]:
    it = items.get(e["path"])
    if it is None:
        bad.append(f"{e['path']}: not in the report"); continue
    want = {"bump": "bumped"}.get(e["expect"]["status"], e["expect"]["status"])
    if it["status"] != want:
        bad.append(f"{e['path']}: status {it['status']} ({it['reason']}), want {want}"); continue
    base = show("main", e["path"])
    if want != "bumped":
        for br in branches:
            if show(br, e["path"]) != base: bad.append(f"{e['path']}: changed on {br} though {want}")
        continue
    target = targets[e["image"]]
    if it["to"] != target: bad.append(f"{e['path']}: to {it['to']}, want {target}")
    if it["dockerimage45"] != e["expect"]["dockerimage45"]:
        bad.append(f"{e['path']}: dockerimage45 {it['dockerimage45']}, want {e['expect']['dockerimage45']}")
    # The expected bytes: the tag replaced, then the dockerimage45 line after the image line.
    t = target.encode()
    if e["tag_offset"] is not None:
        exp = base[:e["tag_offset"]] + t + base[e["tag_offset"] + e["tag_length"]:]
        shift = len(t) - e["tag_length"]
    else:
        at = e["image_offset"] + e["image_length"]
        exp = base[:at] + b":" + t + base[at:]
        shift = len(t) + 1
    if e["expect"]["dockerimage45"] == "added":
        nl = b"\r\n" if e["newline"] == "crlf" else b"\n"
        line = base[e["line_offset"]:e["line_offset"] + e["line_length"]]
        indent = line[:len(line) - len(line.lstrip(b" "))]
        q = (e["quote"] or "").encode()
        old = (e["image"] + (":" + e["tag"] if e["tag"] else "")).encode()
        new_line = indent + b"dockerimage45: " + q + old + q
        end = e["line_offset"] + e["line_length"] + shift
        if exp[end:end + len(nl)] == nl:
            exp = exp[:end + len(nl)] + new_line + nl + exp[end + len(nl):]
        else:
            exp = exp[:end] + nl + new_line + exp[end:]
    got = show(it["branch"], e["path"])
    if got != exp:
        bad.append(f"{e['path']}: bytes on {it['branch']} differ from the expected splice")
    for br in branches:
        if br != it["branch"] and show(br, e["path"]) != base:
            bad.append(f"{e['path']}: changed on {br} too")
# Branches are pack groups: a pack is on one branch only, named after its group.
import re
for it in rep["items"]:
    if it["status"] == "bumped" and it["branch"] != f"dockerbump/group-{it['group']}":
        bad.append(f"{it['path']}: branch {it['branch']} is not its group's ({it['group']})")
# Release notes: once per pack and branch.
packs = {p["name"]: p for p in m["packs"]}
for br in branches:
    on = [items[e["path"]] | {"m": e} for e in m["items"] if items[e["path"]].get("branch") == br]
    for pack in sorted({i["pack"] for i in on}):
        p = packs[pack]
        base = show("main", p["path"])
        x, y, z = p["current_version"].split(".")
        nv = f"{x}.{y}.{int(z) + 1}"
        exp = base[:p["version_offset"]] + nv.encode() + base[p["version_offset"] + p["version_length"]:]
        if show(br, p["path"]) != exp: bad.append(f"{br}: {p['path']} is not the base with only the version raised")
        note = ""
        for kind, title in (("integration", "Integrations"), ("script", "Scripts")):
            its = sorted((i for i in on if i["pack"] == pack and i["kind"] == kind),
                         key=lambda i: ((i["m"]["display"] or i["name"]), i["path"]))
            if its:
                note += f"\n#### {title}\n"
                for i in its:
                    note += f"\n##### {i['m']['display'] or i['name']}\n\n- Updated the Docker image to: *{i['image']}:{i['to']}*.\n"
        note += "\n"  # the SDK ends its notes with a blank line
        rn = f"Packs/{pack}/ReleaseNotes/{x}_{y}_{int(z) + 1}.md"
        got = show(br, rn)
        if got is None or got.decode() != note: bad.append(f"{br}: {rn} is wrong:\n{got}\n--- want\n{note}")
for b in bad: print(b)
sys.exit(1 if bad else 0)
PY

# --- pushed: the remote holds exactly the local branches ------------------------------------
for b in $(git -C "$tmp/repo" for-each-ref --format='%(refname:short)' refs/heads/dockerbump/); do
	[ "$(git -C "$tmp/remote.git" rev-parse "refs/heads/$b")" = "$(git -C "$tmp/repo" rev-parse "$b")" ] ||
		fail "branch $b not pushed"
done
python3 -c "import json; d=json.load(open('$tmp/r1.json')); assert all(b['pushed'] for b in d['branches'])" ||
	fail "report says not pushed"

# --- idempotency: the same inputs write nothing and push nothing ----------------------------
refs1=$(refs); remote_log1=$(cat "$tmp/remote.git/logs/refs/heads/dockerbump/"* | wc -l)
expect_exit 0 -C "$tmp/repo" run --verify off "${reg[@]}" --report "$tmp/r2.json"
[ "$(refs)" = "$refs1" ] || fail "a second run moved a branch"
[ "$(cat "$tmp/remote.git/logs/refs/heads/dockerbump/"* | wc -l)" = "$remote_log1" ] ||
	fail "a second run pushed"

# --- the base moves: every branch is rebuilt on it ------------------------------------------
git -C "$tmp/repo" stash -q
echo "news" >"$tmp/repo/NEWS.md"
git -C "$tmp/repo" add NEWS.md && git -C "$tmp/repo" commit -q -m "move the base"
git -C "$tmp/repo" push -q origin main && git -C "$tmp/repo" fetch -q origin
expect_exit 0 -C "$tmp/repo" run --verify off "${reg[@]}" --report "$tmp/r3.json"
newbase=$(git -C "$tmp/repo" rev-parse main)
for b in $(git -C "$tmp/repo" for-each-ref --format='%(refname:short)' refs/heads/dockerbump/); do
	[ "$(git -C "$tmp/repo" rev-parse "$b^")" = "$newbase" ] || fail "$b not rebuilt on the new base"
	[ "$(git -C "$tmp/remote.git" rev-parse "refs/heads/$b")" = "$(git -C "$tmp/repo" rev-parse "$b")" ] ||
		fail "rebuilt $b not pushed"
done
git -C "$tmp/repo" fsck --no-dangling >/dev/null 2>&1 || fail "git fsck"
echo "run_generated: ok"
