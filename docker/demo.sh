#!/usr/bin/env bash
# A one-command demo on a fresh Debian 12 machine, without internet beyond Debian's archive:
# installs what is missing, builds dockerbump, creates an example content repository from
# docker/demo/content, starts a local registry with a few demisto/python3 tags, runs the main
# job for real (scan, resolve, rewrite, verify, commit, push to a local bare remote), prints
# the report and the diff, and stops everything it started.
#
#   docker/demo.sh              verification with real images when a container engine can run
#   DEMO_VERIFY=off docker/demo.sh   tags only, no engine needed
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

# --- packages ---------------------------------------------------------------------------------
need=(build-essential cmake pkg-config git python3 curl ca-certificates
	libcurl4-openssl-dev libjansson-dev libyaml-dev libgit2-dev docker-registry)
[ "${DEMO_VERIFY:-load}" = off ] || need+=(docker.io debootstrap)
missing=()
for p in "${need[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# --- build ------------------------------------------------------------------------------------
say "building dockerbump"
cmake --preset release -S "$top" >/dev/null
cmake --build "$top/build/release" -j "$(nproc)" >/dev/null
db=$top/build/release/dockerbump
"$db" --version

work=$(mktemp -d "${TMPDIR:-/tmp}/dockerbump-demo.XXXXXX")
export XDG_CACHE_HOME=$work/cache
pids=()
dockerd_pid=
tagged=() # the registry-named tags this demo added to the engine's images
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for t in "${tagged[@]}"; do docker rmi "$t" >/dev/null 2>&1 || true; done
	if [ -n "$dockerd_pid" ]; then
		kill "$dockerd_pid" 2>/dev/null || true
		for _ in $(seq 1 30); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 1; done
	fi
	rm -rf "$work"
}
trap cleanup EXIT

# --- a container engine, if one can run -------------------------------------------------------
verify=${DEMO_VERIFY:-load}
if [ "$verify" != off ]; then
	if ! docker info >/dev/null 2>&1 && command -v dockerd >/dev/null; then
		say "starting dockerd"
		dockerd --iptables=false --bridge=none >"$work/dockerd.log" 2>&1 &
		dockerd_pid=$!
		for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
	fi
	if ! docker info >/dev/null 2>&1; then
		say "no container engine could start: running with --verify off (tags only)"
		verify=off
	fi
fi

# --- a local registry ---------------------------------------------------------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/registry"
cat >"$work/registry.yml" <<YAML
version: 0.1
log: {level: warn, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/registry}}
http: {addr: "127.0.0.1:$port", secret: demo}
YAML
say "starting a registry on 127.0.0.1:$port"
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
reg=127.0.0.1:$port
old=3.11.9.100001 new=3.11.10.100002 broken=3.12.1.100003

if [ "$verify" != off ]; then
	say "building the images offline (debootstrap; cached after the first run)"
	DOCKERBUMP_TEST_IMAGE_OLD=demisto/python3:$old DOCKERBUMP_TEST_IMAGE_NEW=demisto/python3:$new \
		DOCKERBUMP_TEST_IMAGE_BROKEN=demisto/python3:$broken bash "$top/tests/images/build.sh" old new broken
	for t in $old $new $broken; do
		docker tag "demisto/python3:$t" "$reg/demisto/python3:$t"
		tagged+=("$reg/demisto/python3:$t")
		docker push -q "$reg/demisto/python3:$t" >/dev/null
	done
	echo "pushed demisto/python3:{$old,$new,$broken}; $broken lacks the yaml module"
else
	printf '%s\n' $old $new $broken >"$work/tags.txt"
	python3 "$top/tests/stubs/regseed.py" --url "http://$reg" --image demisto/python3 \
		--tags-file "$work/tags.txt" >/dev/null
	echo "seeded the tags $old $new $broken (no images: verification is off)"
fi

# --- the example content repository and its remote -----------------------------------------
say "creating the example content repository"
cp -a "$top/docker/demo/content" "$work/content"
git -C "$work/content" init -q -b main
git -C "$work/content" -c user.name=demo -c user.email=demo@example.invalid add -A
git -C "$work/content" -c user.name=demo -c user.email=demo@example.invalid commit -q -m "Example content"
git init -q --bare "$work/origin.git"
git -C "$work/content" remote add origin "$work/origin.git"
git -C "$work/content" push -q origin main
"$db" -C "$work/content" scan --offline

# --- the job ------------------------------------------------------------------------------------
say "dockerbump run --verify $verify"
rc=0
"$db" -C "$work/content" run --registry-api v2 --registry-url "http://$reg" --verify "$verify" \
	--report "$work/report.json" || rc=$?
case $rc in
0) echo "exit status 0: the job finished" ;;
3) echo "exit status 3: the job finished, and verification blocked at least one bump" ;;
*) echo "exit status $rc: the job failed" >&2; exit "$rc" ;;
esac

say "the report"
python3 - "$work/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for i in r["items"]:
    v = i["verify"] or {}
    print(f"  {i['status']:<13} {i['path']}  {i['from']} -> {i['to'] or '-'}"
          + (f"  verify {v.get('old')} -> {v.get('new')}" if v else "")
          + (f"  ({i['reason']})" if i["reason"] else ""))
for b in r["branches"]:
    print(f"  branch {b['name']}: {b['items']} items, commit {(b['commit'] or '-')[:12]}, pushed {b['pushed']}")
PY

say "the branches on the remote, and the diff"
git -C "$work/origin.git" for-each-ref --format='  %(refname)' refs/heads/
for b in $(git -C "$work/content" for-each-ref --format='%(refname:short)' refs/heads/dockerbump/); do
	git -C "$work/content" --no-pager log -1 --format='%n%B' "$b"
	git -C "$work/content" --no-pager diff --stat main "$b"
	git -C "$work/content" --no-pager diff main "$b"
done
say "done; everything the demo started is being stopped"
