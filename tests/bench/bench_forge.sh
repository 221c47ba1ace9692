#!/usr/bin/env bash
# Benchmark: the forge's part of a night at the real repository's scale. A generated
# full-size repository (1,200 packs, 4,500 items), its bare remote, the Docker Hub stand-in
# with a newer tag of every image, and the GitHub stand-in seeded with a year of the bot's
# history (merged and closed pull requests of every group: over 300, 4 pages of the labelled
# listing). Prints, for the best of BENCH_RUNS runs:
#   - the full plan (`run --dry-run --verify off`) and `run --no-push --verify off`: the
#     process's own time (user + sys) and wall time, and the forge reads per listing page;
#   - a first real night (pushes, opens rollout.max_open pull requests and the dashboard);
#   - a quiet night in a fresh clone (nothing new: the branches pushed, the pull requests
#     open): its time, its forge writes (target 0) and its list requests per 100 pull
#     requests (target at most 1), and every other read.
# Targets (issue 9): at most 1.5 s of its own time and 2 reads per page for the plan.
#
#   tests/bench/bench_forge.sh [BUILD_DIR]     (default build/release, else build/dev)
# Environment: BENCH_RUNS (3).
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-}
if [ -z "$build" ]; then
	build=$src/build/release
	[ -x "$build/dockerbump" ] || build=$src/build/dev
fi
bin=$build/dockerbump
[ -x "$bin" ] || { echo "no dockerbump in '$build': build first" >&2; exit 1; }
runs=${BENCH_RUNS:-3}
python3() { /usr/bin/python3 "$@"; }

T=$(mktemp -d "${TMPDIR:-/tmp}/dockerbump-bench-forge.XXXXXX")
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT
export HOME=$T/home XDG_CACHE_HOME=$T/cache GIT_CONFIG_NOSYSTEM=1
export GITHUB_TOKEN=ghp_benchForge0123456789abcdef
mkdir -p "$HOME"

wait_port() { # wait_port FILE: the port a stand-in wrote, within 15 s
	local i
	for ((i = 0; i < 150; i++)); do
		[ -s "$1" ] && { cat "$1"; return 0; }
		sleep 0.1
	done
	echo "'$1' did not appear" >&2
	exit 1
}

echo "generating the full-size repository..."
python3 "$src/tests/bench/gen_content.py" "$T/seed" --git --manifest "$T/manifest.json" -q
git clone -q --bare "$T/seed" "$T/remote.git"
rm -rf "$T/seed"
git clone -q --no-checkout "$T/remote.git" "$T/repo"

# Tags: those the repository uses, and one newer build of every image.
python3 - "$T/manifest.json" "$T/tags.json" <<'PY'
import json, re, sys
m = json.load(open(sys.argv[1]))
out = {}
for image, used in m["images"].items():
    names = sorted(set(t for t in used if t))
    numeric = [t for t in names if re.fullmatch(r"\d+(\.\d+)+", t)]
    if numeric:
        best = max(numeric, key=lambda t: (int(t.split(".")[-1]), t))
        p = best.split(".")
        names.append(".".join(p[:-1] + [str(int(p[-1]) + 100000)]))
    out[image] = [{"name": t, "last_updated": "2026-01-01T00:00:00Z"} for t in names]
json.dump(out, open(sys.argv[2], "w"))
PY
python3 "$src/tests/stubs/hubstub.py" --port-file "$T/hub.port" --tags "$T/tags.json" \
	--lifetime 3600 >/dev/null 2>"$T/hub.err" &
pids+=($!)
python3 "$src/tests/stubs/ghstub.py" --port-file "$T/gh.port" --repo demisto/content \
	--git-dir "$T/remote.git" --prefix /api/v3 --lifetime 3600 --write-delay 0 \
	>/dev/null 2>"$T/gh.err" &
pids+=($!)
hub="http://127.0.0.1:$(wait_port "$T/hub.port")"
gh="http://127.0.0.1:$(wait_port "$T/gh.port")"

# A year of history: for every group and the canary, five pull requests merged (each carrying
# a tag the repository uses, merged weeks ago) and one closed unmerged.
canary=$(python3 - "$T/manifest.json" "$gh" <<'PY'
import json, sys, urllib.request
m = json.load(open(sys.argv[1]))
packs = sorted({it["pack"] for it in m["items"] if it["image"] == "demisto/python3"
                and it["expect"]["status"] == "bump"})
canary = packs[0]
old = sorted(t for t in m["images"]["demisto/python3"] if t and t[0].isdigit())[:6]
now = 1780000000
pulls = []
for g in ["canary"] + [str(k) for k in range(64)]:
    branch = "dockerbump/" + ("canary" if g == "canary" else "group-" + g)
    for i in range(6):
        tag = old[i % len(old)]
        marker = json.dumps({"branch": branch, "group": g, "base": "main",
                             "images": {"demisto/python3": tag}}, separators=(",", ":"))
        when = now - (200 - 30 * i) * 86400
        pulls.append({"head": branch, "base": "main", "labels": ["docker-image-auto-update"],
                      "title": "Update demisto/python3 to %s (%s)" % (tag, g),
                      "body": "Bumps.\n\n<!-- dockerbump:v1 %s -->\n" % marker,
                      "state": "closed" if i == 5 else "merged", "created_at": when - 86400,
                      "merged_at": when, "closed_at": when})
req = urllib.request.Request(sys.argv[2] + "/_stub/seed", method="POST",
                             data=json.dumps({"repo": "demisto/content", "pulls": pulls}).encode(),
                             headers={"Content-Type": "application/json"})
urllib.request.urlopen(req, timeout=60).read()
print(canary)
PY
)
cat >"$T/config.yml" <<YAML
registry:
  url: "$hub"
pull_request:
  provider: github
  api_url: "$gh/api/v3"
  repo: demisto/content
rollout:
  canary_packs: [$canary]
YAML

log_length() { curl -sf "$gh/_stub/log" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))'; }
# forge_stats SINCE: "GETS PAGES WRITES LISTED" of the stand-in's log from entry SINCE on.
forge_stats() {
	curl -sf "$gh/_stub/log?since=$1" | python3 -c '
import json, sys
log = json.load(sys.stdin)
gets = [e for e in log if e["method"] == "GET"]
pages = [e for e in gets if e["path"] == "/repos/demisto/content/issues"]
print(len(gets), len(pages), len(log) - len(gets))'
}
listed() { curl -sf "$gh/_stub/state" | python3 -c '
import json, sys
r = json.load(sys.stdin)["repos"]["demisto/content"]
print(sum("docker-image-auto-update" in [l["name"] for l in x["labels"]] for x in r["pulls"] + r["issues"]))'; }

# measure NAME DIR ARGS...: the best (lowest user + sys) of $runs runs; sets cpu, wall, gets,
# pages, writes, rc.
measure() {
	local name=$1 dir=$2 i since best=999999 u s e
	shift 2
	for ((i = 0; i < runs; i++)); do
		since=$(log_length)
		rc=0
		/usr/bin/time -f '%U %S %e' -o "$T/time" "$bin" -c "$T/config.yml" -C "$dir" "$@" \
			>"$T/$name.out" 2>"$T/$name.err" || rc=$?
		[ "$rc" = 0 ] || { tail -5 "$T/$name.err" >&2; echo "$name: exit $rc" >&2; exit 1; }
		read -r u s e <"$T/time"
		read -r g p w < <(forge_stats "$since")
		if awk -v a="$u" -v b="$s" -v m="$best" 'BEGIN { exit !(a + b < m) }'; then
			best=$(awk -v a="$u" -v b="$s" 'BEGIN { printf "%.2f", a + b }')
			cpu=$best wall=$e gets=$g pages=$p writes=$w
		fi
	done
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b ? a / b : 0 }'; }
report() { # report NAME
	printf '%-40s own time %5.2f s (user+sys), wall %5.2f s; forge: %d reads, %d listing pages (%s reads per page), %d writes\n' \
		"$1" "$cpu" "$wall" "$gets" "$pages" "$(ratio "$gets" "$pages")" "$writes"
}

n=$(listed)
echo "forge: $n labelled pull requests of the bot in the stand-in; canary pack $canary"
# The first dry run fills the tag and scan caches; the measured ones use them, as a night does.
measure warm "$T/repo" run --dry-run --verify off
measure plan "$T/repo" run --dry-run --verify off
plan_cpu=$cpu
report "run --dry-run --verify off"
echo "  ratio to the target (1.5 s of its own time): $(ratio "$cpu" 1.5); reads per page to 2: $(ratio "$(ratio "$gets" "$pages")" 2)"
grep '^time:' "$T/plan.err" | sed 's/^/  /'
grep '^run' "$T/plan.err" | sed 's/^/  /'
# The baseline, in the same run: the plan without a forge (every pending group proposed).
measure none "$T/repo" run --dry-run --verify off --pr none
report "baseline: run --dry-run --pr none"
echo "  the rollout's plan takes $(ratio "$plan_cpu" "$cpu") times the baseline's own time"
grep '^run' "$T/none.err" | sed 's/^/  /'
measure nopush "$T/repo" run --no-push --verify off
report "run --no-push --verify off"

# The first real night: push, open pull requests, write the dashboard (one write a second).
runs_saved=$runs
runs=1
measure night "$T/repo" run --verify off
report "a first night (push, pull requests)"
grep '^run' "$T/night.err" | sed 's/^/  /'

# A quiet night in a fresh clone: nothing new.
git clone -q --no-checkout "$T/remote.git" "$T/fresh"
refs_before=$(git -C "$T/remote.git" for-each-ref | sha256sum)
runs=$runs_saved
measure quiet "$T/fresh" run --verify off
refs_after=$(git -C "$T/remote.git" for-each-ref | sha256sum)
n=$(listed)
report "a quiet night (fresh clone)"
printf '  %d writes (target 0); %d list requests for %d labelled pull requests and issues: %s per 100 (target at most 1; one per page of 100 is %d); %d other reads (one per open pull request, confirming its head)\n' \
	"$writes" "$pages" "$n" "$(awk -v p="$pages" -v n="$n" 'BEGIN { printf "%.2f", p * 100 / n }')" \
	$(((n + 99) / 100)) $((gets - pages - 1))
[ "$refs_before" = "$refs_after" ] && echo "  the remote's refs did not move" || echo "  the remote's refs MOVED"
grep '^run' "$T/quiet.err" | sed 's/^/  /'
