# docker/Dockerfile parses, and its build stage's commands (after the source is copied in)
# build and install a working dockerbump with its man page. No container engine is needed.
. "$(dirname "$0")/lib/content.bash"

df="$DOCKERBUMP_SOURCE_DIR/docker/Dockerfile"
python3 - "$df" >"$tmp/build-cmds" <<'PY' || fail "Dockerfile does not parse"
import json, shlex, sys
known = {"FROM", "RUN", "COPY", "ADD", "WORKDIR", "ENV", "ARG", "USER", "ENTRYPOINT", "CMD",
         "LABEL", "EXPOSE", "VOLUME", "HEALTHCHECK", "SHELL", "STOPSIGNAL", "ONBUILD"}
lines, cur = [], ""
for n, raw in enumerate(open(sys.argv[1]), 1):
    s = raw.rstrip("\n")
    if not cur and (not s.strip() or s.lstrip().startswith("#")):
        continue
    if s.endswith("\\"):
        cur += s[:-1] + " "
        continue
    lines.append(cur + s); cur = ""
if cur: sys.exit("a continuation runs off the end of the file")
stages, stage, build_runs, copied = [], None, [], False
for ins in lines:
    word, _, rest = ins.strip().partition(" ")
    if word.upper() not in known: sys.exit(f"unknown instruction {word!r}")
    if word != word.upper(): sys.exit(f"instruction {word!r} is not upper case")
    if word == "FROM":
        parts = rest.split()
        stage = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
        stages.append(stage); copied = False
        continue
    if not stages: sys.exit(f"{word} before FROM")
    if word in ("ENTRYPOINT", "CMD") and rest.strip().startswith("["):
        json.loads(rest)
    if word == "COPY":
        for a in shlex.split(rest):
            if a.startswith("--from=") and a[7:] not in stages:
                sys.exit(f"COPY --from={a[7:]} names no earlier stage")
        if stage == "build" and rest.split() == [".", "."]:
            copied = True
    if word == "RUN" and stage == "build" and copied:
        build_runs.append(rest.strip())
if "build" not in stages: sys.exit("no build stage")
if len(stages) < 2: sys.exit("no runtime stage")
if not build_runs: sys.exit("the build stage runs nothing after copying the source")
print("\n".join(build_runs))
PY

# Run those commands in a clean copy of the tracked sources, installing under $tmp/opt.
mkdir -p "$tmp/src"
(cd "$DOCKERBUMP_SOURCE_DIR" && git ls-files -z | xargs -0 cp --parents -t "$tmp/src")
while IFS= read -r cmd; do
	cmd=${cmd//\/opt\/dockerbump/$tmp/opt}
	echo "+ $cmd" >&2
	(cd "$tmp/src" && bash -euc "$cmd") >"$tmp/build.log" 2>&1 || { tail -30 "$tmp/build.log" >&2; fail "build stage command failed: $cmd"; }
done <"$tmp/build-cmds"

[ -x "$tmp/opt/bin/dockerbump" ] || fail "the build stage installed no dockerbump"
"$tmp/opt/bin/dockerbump" --version | grep -q '^dockerbump ' || fail "installed dockerbump does not run"
[ -f "$tmp/opt/share/man/man1/dockerbump.1" ] || fail "the man page is not installed"

# The runtime stage ships the docker CLI alone, not Debian's engine package.
python3 - "$df" <<'PY' || fail "the runtime stage"
import re, sys
text = open(sys.argv[1]).read()
runtime = text[text.rindex("\nFROM "):]
assert "docker.io" not in runtime, "the runtime stage installs docker.io (the whole engine)"
assert re.search(r"COPY --from=\S+ /usr/bin/docker /usr/local/bin/docker", runtime), "no docker CLI"
assert "safe.directory /content" in runtime, "no safe.directory for /content"
PY
# A local build folder and caches stay out of the build context.
for pattern in /build '/tests/fuzz/corpus-run/'; do
	grep -q "^$pattern" "$DOCKERBUMP_SOURCE_DIR/.dockerignore" || fail ".dockerignore lacks $pattern"
done
echo "dockerfile: ok"
