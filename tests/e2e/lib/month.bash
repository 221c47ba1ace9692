# A month of nights (sourced by run_month.sh and run_month_gitlab.sh, FORGE=github|gitlab):
# the scheduled bot, night after night, against a forge stand-in, the Docker Hub stand-in and
# a bare remote, as a 4-way shard matrix of fresh clones running at once.
#
# Each day (month.py day) the maintainers merge the canary's pull request and some others
# (the git merge made in their clone and pushed, then told to the stand-in with merged_at),
# close one unmerged on some days, bump a pack by hand, add, delete or opt out packs, move
# the base, and new tags appear. Each night runs the matrix, checks every invariant
# (month.py check), runs the matrix again and checks that the rerun wrote nothing on the
# forge and moved no ref (month.py quiet). month.py summary says what the month showed.
#
# Knobs: DOCKERBUMP_MONTH_NIGHTS (default 30; the ASan run uses fewer),
# DOCKERBUMP_MONTH_SEED (default 1; every random choice, and the merge order printed each
# night, follow from it).
. "$(dirname "${BASH_SOURCE[0]}")/content.bash"

: "${FORGE:?github or gitlab}"
nights=${DOCKERBUMP_MONTH_NIGHTS:-30}
seed=${DOCKERBUMP_MONTH_SEED:-1}
shards=4
groups=16
max_open=5 # binds: shard 1 holds 2 slots, the others 1 each
cadence=48
month_py="$DOCKERBUMP_SOURCE_DIR/tests/e2e/lib/month.py"
t0=1772330400 # 2026-03-01T02:00:00Z: night N runs at t0 + N days
# The stand-ins need no pause between writes (the product waits 1 s, as GitHub asks).
export DOCKERBUMP_TEST_WRITE_GAP_MS=0

case $FORGE in
github)
	forge_repo=demisto/content
	api_prefix=/api/v3
	stub=ghstub.py
	export GITHUB_TOKEN=ghp_monthOfNights0123456789abcdef
	;;
gitlab)
	forge_repo=xsoar/platform/content
	api_prefix=/api/v4
	stub=glstub.py
	export GITLAB_TOKEN=glpat-monthOfNights0123456789
	;;
*) fail "FORGE=$FORGE: github or gitlab" ;;
esac

# --- the repository, the remote, the maintainers' clone ------------------------------------
python3 "$GEN" "$tmp/seed" --packs 40 --items 160 --seed month --git \
	--manifest "$tmp/manifest.json" -q
git clone -q --bare "$tmp/seed" "$tmp/remote.git"
git -C "$tmp/remote.git" config core.logAllRefUpdates always
git clone -q "$tmp/remote.git" "$tmp/human"
git clone -q "$tmp/remote.git" "$tmp/merger"

python3 "$stubs/$stub" --port-file "$tmp/forge.port" --log "$tmp/forge.log" \
	--repo "$forge_repo" --git-dir "$tmp/remote.git" --prefix "$api_prefix" --lifetime 3600 \
	>/dev/null 2>"$tmp/forge.err" &
started_pids+=($!)
wait_for_file "$tmp/forge.port" 15
forge_url="http://127.0.0.1:$(cat "$tmp/forge.port")"

# The context month.py reads; the canary packs and the first tags come from the manifest.
python3 - "$tmp" "$FORGE" "$forge_url" "$forge_repo" "$seed" "$t0" "$shards" "$groups" "$max_open" \
	"$cadence" <<'PY'
import json, sys
tmp, forge, url, repo, seed, t0, shards, groups, max_open, cadence = sys.argv[1:]
m = json.load(open(tmp + "/manifest.json"))
ctx = {
    "forge": forge, "forge_url": url, "repo": repo, "seed": seed, "t0": int(t0),
    "shards": int(shards), "groups": int(groups), "max_open": int(max_open),
    "cadence_hours": int(cadence),
    "label": "docker-image-auto-update", "prefix": "dockerbump/", "merge_rate": 0.4,
    "remote": tmp + "/remote.git", "human": tmp + "/human", "merger": tmp + "/merger",
    "reports": tmp + "/reports", "journal": tmp + "/journal.json",
    "manifest": tmp + "/manifest.json", "images": sorted(m["images"]),
    "canary_images": ["demisto/python3"], "full_month": 20,
    "schedule": {
        "close": [9, 19],
        "edits": {"6": "bump", "8": "add", "12": "delete", "14": "optout", "17": "bump",
                  "21": "add", "24": "delete", "27": "optout"},
        "tags": {"3": {"demisto/python3": 1}, "10": {"demisto/python3": 2},
                 "13": {"demisto/python": 1}, "16": {"demisto/python3": 1},
                 "22": {"demisto/python3": 1}, "26": {"demisto/python3": 1,
                                                      "demisto/python": 1}},
    },
}
json.dump(ctx, open(tmp + "/ctx.json", "w"), indent=1)
PY
month() { python3 "$month_py" "$tmp/ctx.json" "$@"; }
month setup >"$tmp/setup.json"
python3 -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))["tags"], open(sys.argv[2], "w"))' \
	"$tmp/setup.json" "$tmp/tags.json"
start_hubstub hub --tags "$tmp/tags.json" --lifetime 3600
canary=$(python3 - "$tmp/ctx.json" "$tmp/setup.json" "http://127.0.0.1:$hub_port" <<'PY'
import json, sys
ctx = json.load(open(sys.argv[1]))
ctx["canary_packs"] = json.load(open(sys.argv[2]))["canary_packs"]
ctx["hub_url"] = sys.argv[3]
json.dump(ctx, open(sys.argv[1], "w"), indent=1)
print(", ".join(ctx["canary_packs"]))
PY
)
[ -n "$canary" ] || fail "no canary pack in the generated repository"

cat >"$tmp/config.yml" <<YAML
registry:
  url: "http://127.0.0.1:$hub_port"
git:
  groups: $groups
pull_request:
  provider: $FORGE
  api_url: "$forge_url$api_prefix"
  repo: $forge_repo
rollout:
  max_open: $max_open
  canary_packs: [$canary]
  cadence_hours: $cadence
cache:
  ttl_s: 0
YAML
echo "month: $FORGE, $nights nights, seed $seed, canary packs: $canary"

# matrix RUN NIGHT: the shards at once, each in a fresh clone of the remote with its own cache,
# as CI runners are; reports under $tmp/reports/RUN NIGHT/sK.json.
matrix() {
	local run=$1 n=$2 k pids=() rcs=()
	mkdir -p "$tmp/reports/$run$n"
	# (the pushes leave loose objects: packed, a clone is a few hard links; the bot reads
	# the object database only, so the clones need no checkout)
	git -C "$tmp/remote.git" repack -adq
	rm -rf "$tmp/runner"
	for ((k = 1; k <= shards; k++)); do
		git clone -q --no-checkout "$tmp/remote.git" "$tmp/runner/$k" &
		pids+=($!)
	done
	for ((k = 1; k <= shards; k++)); do
		wait "${pids[k - 1]}" || fail "night $n: git clone of the remote failed"
	done
	pids=()
	for ((k = 1; k <= shards; k++)); do
		XDG_CACHE_HOME=$tmp/cache/$k "$DOCKERBUMP" -c "$tmp/config.yml" -C "$tmp/runner/$k" \
			run --shard "$k/$shards" --verify off --report "$tmp/reports/$run$n/s$k.json" \
			>"$tmp/reports/$run$n/s$k.out" 2>"$tmp/reports/$run$n/s$k.err" &
		pids+=($!)
	done
	for ((k = 1; k <= shards; k++)); do
		rc=0
		wait "${pids[k - 1]}" || rc=$?
		rcs+=("$rc")
	done
	for ((k = 1; k <= shards; k++)); do
		if [ "${rcs[k - 1]}" != 0 ]; then
			cat "$tmp/reports/$run$n/s$k.err" >&2
			fail "night $n ($run), shard $k/$shards: exit ${rcs[k - 1]}"
		fi
	done
}

log_length() {
	curl -sf "$forge_url/_stub/log" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))'
}

started=$(now_us)
for ((n = 1; n <= nights; n++)); do
	night_started=$(now_us)
	month day "$n"
	t_day=$(secs_since "$night_started")
	now=$((t0 + n * 86400))
	curl -sf -X POST -H 'Content-Type: application/json' -d "{\"now\": $now}" \
		"$forge_url/_stub/clock" >/dev/null
	export DOCKERBUMP_NOW=$now
	t=$(now_us)
	matrix n "$n"
	t_run=$(secs_since "$t")
	t=$(now_us)
	month check "$n"
	t_check=$(secs_since "$t")
	month refs >"$tmp/refs.$n"
	since=$(log_length)
	t=$(now_us)
	matrix q "$n"
	t_rerun=$(secs_since "$t")
	month quiet "$n" "$tmp/refs.$n" "$since"
	echo "night $n: $(secs_since "$night_started") s (the day $t_day s, the matrix $t_run s," \
		"the checks $t_check s, the rerun $t_rerun s)"
done
month summary
echo "month ($FORGE): $nights nights in $(secs_since "$started") s"
