# The scheduling recipes in docs/scheduling/ (shown in the README) are well-formed: the crontab
# line has five valid time fields, the CI files are YAML with a schedule, and every dockerbump
# flag they use is one the binary accepts. The README's examples are checked the same way, and
# every flag it names anywhere is a flag of dockerbump (or of the other tools it shows).
. "$(dirname "$0")/lib/content.bash"
python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml is not installed (tests/packages.txt)"
dir="$DOCKERBUMP_SOURCE_DIR/docs/scheduling"
for cmd in run scan tags verify config completion; do
	"$DOCKERBUMP" "$cmd" --help >"$tmp/help-$cmd.txt"
done
"$DOCKERBUMP" --help >"$tmp/help-global.txt"

python3 - "$dir" "$tmp" <<'PY' || fail "scheduling recipes"
import os, re, shlex, sys, yaml
d, tmp = sys.argv[1], sys.argv[2]
helps = {c: open(f"{tmp}/help-{c}.txt").read()
         for c in ("run", "scan", "tags", "verify", "config", "completion", "global")}
bad = []

def check_cron(expr, where):
    fields = expr.split()
    ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
    if len(fields) != 5:
        bad.append(f"{where}: '{expr}' has {len(fields)} time fields"); return
    for f, (lo, hi) in zip(fields, ranges):
        for part in f.split(","):
            m = re.fullmatch(r"(\*|\d+(?:-\d+)?)(?:/(\d+))?", part)
            if not m:
                bad.append(f"{where}: bad cron field '{f}'"); continue
            for n in re.findall(r"\d+", m.group(1)):
                if not lo <= int(n) <= hi: bad.append(f"{where}: {n} out of range in '{f}'")

def check_invocation(text, where):
    # Every "dockerbump ..." command: global flags before the command, its flags after.
    for m in re.finditer(r"dockerbump(?:-src/build/release/dockerbump)?((?:\s+[^\s|>&;]+)+)", text):
        words = shlex.split(m.group(1).replace("${{", "X").replace("}}", "X"), posix=True)
        cmd = next((w for w in words if w in ("run", "scan", "tags", "verify")), None)
        if cmd is None:
            continue
        at = words.index(cmd)
        for w in words:
            if not w.startswith("--"): continue
            flag = w.split("=")[0]
            where_help = helps["global"] if words.index(w) < at else helps[cmd]
            if flag not in where_help:
                bad.append(f"{where}: '{flag}' is not a flag of 'dockerbump {cmd}'")
        yield cmd

n = 0
for line in open(os.path.join(d, "crontab")):
    if not line.strip() or line.startswith("#"): continue
    check_cron(" ".join(line.split()[:5]), "crontab")
    n += sum(1 for _ in check_invocation(" ".join(line.split()[5:]), "crontab"))

gh = yaml.safe_load(open(os.path.join(d, "github-actions.yml")))
on = gh.get("on", gh.get(True))
for s in on["schedule"]: check_cron(s["cron"], "github-actions.yml")
for job in gh["jobs"].values():
    shards = job.get("strategy", {}).get("matrix", {}).get("shard", [])
    for step in job["steps"]:
        run = step.get("run", "")
        for c in check_invocation(run, "github-actions.yml"):
            n += 1
            m = re.search(r"--shard \$\{\{ matrix.shard \}\}/(\d+)", run)
            if m and sorted(shards) != list(range(1, int(m.group(1)) + 1)):
                bad.append(f"github-actions.yml: the shard matrix {shards} does not cover 1..{m.group(1)}")

gl = yaml.safe_load(open(os.path.join(d, "gitlab-ci.yml")))
job = gl["dockerbump"]
if not any("schedule" in r.get("if", "") for r in job.get("rules", [])):
    bad.append("gitlab-ci.yml: the job does not run on schedules")
for line in job["script"]:
    n += sum(1 for _ in check_invocation(line, "gitlab-ci.yml"))
    if re.search(r"https://[^/\s]*:[^@\s]*@", line): bad.append("gitlab-ci.yml: a secret in a URL")

if n < 3: bad.append(f"only {n} dockerbump invocations found")

# The README: each example line in a fenced block, and every flag named in its text.
readme = open(os.path.join(d, "..", "..", "README.md")).read()
examples = 0
for block in re.findall(r"^```[a-z]*\n(.*?)^```", readme, re.S | re.M):
    for line in block.splitlines():
        examples += sum(1 for _ in check_invocation(line.split(" #")[0], "README.md"))
if examples < 5: bad.append(f"README.md: only {examples} dockerbump examples found")
others = {"--build", "--install", "--preset", "--quick", "--network", "--user"}  # cmake, docker, tests/run.sh
every_help = "\n".join(helps.values())
for flag in sorted(set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", readme)) - others):
    if not re.search(r"(?<![\w-])" + re.escape(flag) + r"(?![\w-])", every_help):
        bad.append(f"README.md names '{flag}', which no dockerbump command takes")
for b in bad: print(b)
sys.exit(1 if bad else 0)
PY
echo "recipes: ok"
