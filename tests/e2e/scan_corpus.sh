# scan on the real files of the shared corpus: image, location and flag of every YAML match
# EXPECTED.tsv, from git objects and from the work tree; and the exit codes of bad input.
. "$(dirname "$0")/lib/content.bash"
need_corpus

make_repo "$tmp/repo" "$CORPUS"
cat >"$tmp/all.yml" <<'YAML'
include: ["**/*.yml"]
skip_deprecated: false
YAML

check() { # check REPORT
	python3 - "$CORPUS/EXPECTED.tsv" "$1" <<'PY'
import csv, json, sys
expected = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
report = json.load(open(sys.argv[2]))
items = {i["path"]: i for i in report["items"]}
bad = []
for row in expected:
    it = items.get(row["path"])
    if it is None:
        bad.append(f"{row['path']}: not scanned"); continue
    def want(v): return None if v == "-" else v
    checks = [
        ("kind", it["kind"], row["kind"]),
        ("dockerimage", it["image_ref"], want(row["dockerimage"])),
        ("location", it["location"], want(row["dockerimage_location"])),
        ("autoUpdateDockerImage", None if it["auto_update"] is None else str(it["auto_update"]).lower(),
         want(row["autoUpdateDockerImage"])),
        ("has_dockerimage45", "yes" if it["dockerimage45_value"] else "no", row["has_dockerimage45"]),
        ("has_alt_dockerimages", "yes" if it["alt_dockerimages"] else "no", row["has_alt_dockerimages"]),
    ]
    for name, got, exp in checks:
        if got != exp:
            bad.append(f"{row['path']}: {name} is {got!r}, expected {exp!r}")
    if it["status"] == "unparseable":
        bad.append(f"{row['path']}: refused: {it['reason']}")
if len(expected) < 20:
    bad.append("EXPECTED.tsv has too few rows")
for b in bad: print(b)
sys.exit(1 if bad else 0)
PY
}

expect_exit 0 -C "$tmp/repo" -c "$tmp/all.yml" scan --offline --json
check "$tmp/out" || fail "git-mode scan differs from EXPECTED.tsv"
assert_contains "$tmp/err" "scan: "

# The same from the files on disk, in a directory that is not a repository.
cp -a "$CORPUS" "$tmp/plain"
expect_exit 0 -C "$tmp/plain" -c "$tmp/all.yml" scan --offline --json --worktree
check "$tmp/out" || fail "worktree scan differs from EXPECTED.tsv"

# Statuses that need no registry, with the default config (default include globs).
expect_exit 0 -C "$tmp/repo" scan --offline --json
python3 - "$tmp/out" <<'PY' || fail "statuses"
import json, sys
items = {i["path"]: i for i in json.load(open(sys.argv[1]))["items"]}
want = {
    "Packs/FeedMitreAttackv2/Integrations/FeedMitreAttackv2/FeedMitreAttackv2.yml": "opted-out",
    "Packs/CommonScripts/Scripts/Print/Print.yml": "no-image",
    "Packs/Base/Scripts/script-CommonUserServer.yml": "no-image",
    "Packs/OpenPhish/Integrations/OpenPhish/OpenPhish.yml": "skipped",
    "Packs/DeprecatedContent/Scripts/script-ADExpirePassword.yml": "skipped",
    "Packs/Base/Scripts/CommonServerPowerShell/CommonServerPowerShell.yml": "not-opted-in",
    "Packs/AWS-SQS/Integrations/AWS-SQS/AWS-SQS.yml": "not-opted-in",
    "Packs/CommonScripts/Scripts/ZipFile/ZipFile.yml": "not-opted-in",
    "Packs/Cryptocurrency/Integrations/Cryptocurrency/Cryptocurrency.yml": "pending",
    "Packs/Alexa/Integrations/Alexa/Alexa.yml": "pending",
}
bad = [f"{p}: {items.get(p, {}).get('status')} != {s}" for p, s in want.items()
       if items.get(p, {}).get("status") != s]
bad += [f"{p}: opt_in {i['opt_in']!r} without an image" for p, i in items.items()
        if i["image_ref"] is None and i["opt_in"] is not None]
if items["Packs/FeedMitreAttackv2/Integrations/FeedMitreAttackv2/FeedMitreAttackv2.yml"]["opt_in"] != "opted-out":
    bad.append("FeedMitreAttackv2 is not opted-out")
# The default include globs do not reach test data or the pre-Packs layout.
bad += [p for p in items if p.startswith("Scripts/") or "/test_data/" in p]
print("\n".join(bad)); sys.exit(1 if bad else 0)
PY

# The table names every item by pack and name within 120 columns; --wide shows every column.
expect_exit 0 -C "$tmp/repo" scan --offline
head -1 "$tmp/out" | grep -qE '^PACK +ITEM +IMAGE +TARGET +STATUS$' || fail "table header: $(head -1 "$tmp/out")"
assert_contains "$tmp/out" "demisto/python:2.7.18.24066"
grep -qE '^Alexa +Alexa Rank Indicator +demisto/python:2\.7\.18\.24066 +- +pending$' "$tmp/out" || fail "the Alexa row"
awk 'length($0) > 120 { bad = 1; print "too wide: " $0 } END { exit bad }' "$tmp/out" ||
	fail "the table is wider than 120 columns"
rows=$(($(wc -l <"$tmp/out") - 1))
expect_exit 0 -C "$tmp/repo" scan --offline --wide
head -1 "$tmp/out" | grep -qE '^PATH +KIND +IMAGE +OPT-IN +TARGET +D45 +STATUS$' || fail "wide header"
assert_contains "$tmp/out" "Packs/Alexa/Integrations/Alexa/Alexa.yml"
[ "$(($(wc -l <"$tmp/out") - 1))" = "$rows" ] || fail "--wide lists other rows"
expect_exit 0 -C "$tmp/repo" scan --offline --json
[ "$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['items']))" "$tmp/out")" = "$rows" ] ||
	fail "the table has $rows rows, the JSON another count"
# A scan says what it would do: pending items are not "bumped".
assert_contains "$tmp/err" "pending"
grep -q "bumped" "$tmp/err" && fail "scan says bumped"

# Bad input: usage errors exit 2, a missing repository or ref exits 1 naming it.
expect_exit 2 -C "$tmp/repo" scan --bogus
assert_contains "$tmp/err" "--bogus"
expect_exit 2 -C "$tmp/repo" scan --shard 3/2
expect_exit 2 -C "$tmp/plain" scan --offline
assert_contains "$tmp/err" "'$tmp/plain' is not a git repository"
assert_contains "$tmp/err" "scan --worktree"
expect_exit 2 -C "$tmp/no-such-dir" scan --offline
assert_contains "$tmp/err" "'$tmp/no-such-dir': no such directory"
assert_contains "$tmp/err" "--worktree"
expect_exit 1 -C "$tmp/repo" scan --offline --base no-such-ref
assert_contains "$tmp/err" "'no-such-ref'"
echo "config: bogus" >"$tmp/bad.yml"
expect_exit 2 -C "$tmp/repo" -c "$tmp/bad.yml" scan --offline
assert_contains "$tmp/err" "unknown key 'config'"
echo "scan_corpus: ok"
