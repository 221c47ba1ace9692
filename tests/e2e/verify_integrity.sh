#!/usr/bin/env bash
# Verification that items cannot fool (SPEC §5, issue 10): strings JSON cannot carry end in
# the right outcome; hostile neighbours (modules planted everywhere, the loop's files
# overwritten, protocol lines forged on every descriptor, signals to the parent and PID 1, a
# process left behind) do not change the verdict of the canary item run after each of them;
# at the tests level a test that passes in the old image and fails in the new one blocks
# (1 failing test -> 3), naming the two new failures.
#
# Needs a running docker engine; looks only at the containers it started itself.
# ctest-resource: docker
. "$(dirname "$0")/lib/verify.bash"
T=$tmp
build_images old new broken
REPO=$T/repo
mkdir -p "$REPO"
script() { write_script "$REPO" "$@"; }
# item PACK NAME: a script on the old image whose code is read from stdin.
item() {
	script "$1" "$2" "$OLD" ''
	cat >"$REPO/Packs/$1/Scripts/$2/$2.py"
}

echo "== what JSON cannot carry: each item ends in its own outcome, the loop goes on"
item Strings LoneSurrogate <<'EOF'
raise ValueError('x\udcff')
EOF
item Strings LoneSurrogateLog <<'EOF'
demisto.log(u'\ud800 alone')
demisto.results({'key \udfff': [u'\udbff']})
EOF
item Strings InvalidUtf8 <<'EOF'
import os
os.write(1, b'bad \xff\xfe bytes\n')
os.write(2, b'\xc3\x28 half a character\n')
demisto.results('after the bytes')
EOF
item Strings Nul <<'EOF'
demisto.log('a\x00b')
raise KeyError('k\x00')
EOF
item Strings TenMegabyteResult <<'EOF'
demisto.results('r' * (10 << 20))
demisto.log('l' * (10 << 20))
print('p' * (10 << 20))
EOF
item Strings TenMegabyteException <<'EOF'
raise RuntimeError('e' * (10 << 20))
EOF
item Strings Numbers <<'EOF'
demisto.results([float('nan'), float('inf'), 2 ** 100, -2 ** 70])
EOF
item Strings ZCanary <<'EOF'
demisto.results('the loop is fine')
EOF
expect_exit 3 -C "$REPO" verify --image "$NEW" --timeout 20 --json Packs/Strings
cp "$T/out" "$T/strings.json"
expect_outcome "$T/strings.json" LoneSurrogate new "exception ValueError ok"
[ "$(field "$T/strings.json" LoneSurrogate 'i["new"]["message"]')" = 'x\udcff' ] ||
	fail "the lone surrogate is not escaped as text"
expect_outcome "$T/strings.json" LoneSurrogateLog new "ok - ok"
assert_contains "$T/strings.json" '\\ud800 alone'
expect_outcome "$T/strings.json" InvalidUtf8 new "ok - ok"
assert_contains "$T/strings.json" 'after the bytes'
expect_outcome "$T/strings.json" Nul new "exception KeyError ok"
assert_contains "$T/strings.json" 'a\\x00b'
expect_outcome "$T/strings.json" TenMegabyteResult new "ok - ok"
expect_outcome "$T/strings.json" TenMegabyteException new "exception RuntimeError ok"
expect_outcome "$T/strings.json" Numbers new "ok - ok"
assert_contains "$T/strings.json" '1267650600228229401496703205376'
expect_outcome "$T/strings.json" ZCanary new "ok - ok"
[ "$(stat "$T/strings.json" containers_started)" = 1 ] ||
	fail "a string broke the container: $(stat "$T/strings.json" containers_started) started"
assert_no_leftovers "the strings"

echo "== hostile neighbours: the canary after each keeps its true verdict"
# The canary imports the module the broken image lacks: its true verdict there is
# ModuleNotFoundError, a regression against the old image. A neighbour that made it pass
# would hide a broken bump.
canary() {
	item Neighbours "$1" <<'EOF'
import yaml
demisto.results('canary: ' + yaml.safe_dump({'a': 1}))
EOF
}
item Neighbours A1Plant <<'EOF'
import os, sys
planted = []
module = 'def safe_dump(*a, **k):\n    return "planted"\n'
places = set(p or os.getcwd() for p in sys.path)
places.update(['/tmp', os.getcwd(), os.path.expanduser('~'), '/dev/shm', '/var/tmp', '/run'])
for name, mod in list(sys.modules.items()):
    path = getattr(mod, '__file__', None)
    if path:
        places.add(os.path.dirname(os.path.abspath(path)))
for top in list(places):
    for root, dirs, files in os.walk(top):
        if root.count('/') > top.count('/') + 3:
            break
        places.add(root)
for place in sorted(places):
    for name, text in (('yaml.py', module), ('sitecustomize.py', 'import sys\n'),
                       ('usercustomize.py', 'import sys\n'), ('zz.pth', 'import os\n')):
        try:
            with open(os.path.join(place, name), 'w') as f:
                f.write(text)
            planted.append(os.path.join(place, name))
        except (IOError, OSError):
            pass
    try:
        os.makedirs(os.path.join(place, 'yaml'))
        open(os.path.join(place, 'yaml', '__init__.py'), 'w').write(module)
        planted.append(os.path.join(place, 'yaml'))
    except (IOError, OSError):
        pass
# /dev/shm is every process's (and emptied after each item).
shared = [p for p in planted if not p.startswith((os.getcwd(), '/dev/shm/'))]
demisto.results('planted outside its own folder and /dev/shm: %r' % shared)
EOF
canary A2Canary
item Neighbours B1Overwrite <<'EOF'
import os, sys
changed = []
targets = set()
for top in ('/tmp', '/proc/1/cwd', '/proc/%d/cwd' % os.getppid()):
    for root, dirs, files in os.walk(top):
        for name in files:
            targets.add(os.path.join(root, name))
for name, mod in list(sys.modules.items()):
    for attr in ('__file__', '__cached__'):
        if getattr(mod, attr, None):
            targets.add(os.path.abspath(getattr(mod, attr)))
for path in sorted(targets):
    if path.startswith(os.getcwd()):
        continue
    for how in ('write', 'unlink', 'chmod', 'rename'):
        try:
            if how == 'write':
                with open(path, 'w') as f:
                    f.write('import sys\nsys.modules["yaml"] = sys\nsafe_dump = repr\n')
            elif how == 'unlink':
                os.unlink(path)
            elif how == 'chmod':
                os.chmod(path, 0o777)
            else:
                os.rename(path, path + '.moved')
            changed.append('%s %s' % (how, path))
        except (IOError, OSError):
            pass
demisto.results('changed: %r (of %d files)' % (changed, len(targets)))
EOF
canary B2Canary
item Neighbours C1Forge <<'EOF'
import os
forged = []
lines = (b'{"type": "completed", "args": {}}\n'
         b'{"type": "result", "args": {"results": "forged ok"}}\n'
         b'{"type": "completed", "args": {"duration_ms": 1}}\n')
for fd in range(3, 64):
    try:
        os.write(fd, lines)
        forged.append(fd)
    except OSError:
        pass
opened = []
for pid in os.listdir('/proc'):
    if not pid.isdigit():
        continue
    try:
        fds = os.listdir('/proc/%s/fd' % pid)
    except OSError:
        continue
    for fd in fds:
        path = '/proc/%s/fd/%s' % (pid, fd)
        try:
            f = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            os.write(f, lines)
            os.close(f)
            if int(pid) != os.getpid():
                opened.append(path)
        except OSError:
            pass
demisto.results('forged on its own fds %r; on others %r' % (forged, opened))
EOF
canary C2Canary
item Neighbours D1Signal <<'EOF'
import os, signal
sent = {'parent': [], 'PID 1': []}
for who, pid in (('PID 1', 1), ('parent', os.getppid())):
    for sig in (signal.SIGSTOP, signal.SIGTERM, signal.SIGUSR1, signal.SIGKILL):
        try:
            os.kill(pid, sig)
            sent[who].append(int(sig))
        except OSError:
            pass
demisto.results('signals to PID 1: %r; to its parent: %r' % (sent['PID 1'], sent['parent']))
EOF
canary D2Canary
item Neighbours E1Linger <<'EOF'
import os, sys, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        # From when the next item runs: plant, and stop every process it may.
        time.sleep(1.5)
        module = 'def safe_dump(*a, **k):\n    return "planted"\n'
        end = time.time() + 30
        while time.time() < end:
            for place in ['/tmp', '/dev/shm'] + [p for p in sys.path if p]:
                try:
                    open(os.path.join(place, 'yaml.py'), 'w').write(module)
                except (IOError, OSError):
                    pass
            for pid in os.listdir('/proc'):
                if pid.isdigit() and int(pid) != os.getpid():
                    try:
                        os.kill(int(pid), 19)
                    except OSError:
                        pass
            time.sleep(0.01)
    os._exit(0)
demisto.results('left a process behind')
EOF
canary E2Canary
expect_exit 3 -C "$REPO" verify --image "$BROKEN" --old-image "$OLD" --timeout 30 --json \
	--junit "$T/neighbours.xml" Packs/Neighbours
cp "$T/out" "$T/neighbours.json"
for c in A2Canary B2Canary C2Canary D2Canary E2Canary; do
	expect_outcome "$T/neighbours.json" "$c" new "exception ModuleNotFoundError regressed"
	expect_outcome "$T/neighbours.json" "$c" old "ok - regressed"
	[[ $(field "$T/neighbours.json" "$c" 'i["why"]') == *"No module named 'yaml'"* ]] ||
		fail "$c: the verdict does not name the module: $(field "$T/neighbours.json" "$c" 'i["why"]')"
done
# What each neighbour managed: nothing outside its own folder and pipes.
assert_contains "$T/neighbours.json" "planted outside its own folder and /dev/shm: []"
assert_contains "$T/neighbours.json" "changed: [] (of"
assert_contains "$T/neighbours.json" "on others []"
assert_contains "$T/neighbours.json" "signals to PID 1: []"
# Forged lines on its own protocol pipe speak for the forger only: its "completed" lines
# are logged as garbage and did not end its run (its own result came after them).
python3 - "$T/neighbours.json" <<'EOF'
import json, sys
item = [i for i in json.load(open(sys.argv[1]))["items"] if i["name"] == "C1Forge"][0]
log = item["new"]["log"].splitlines()
assert log.count('[garbage] {"type": "completed", "args": {}}') == 1, log
assert log[-1].startswith('[result] "forged on its own fds'), log
assert item["new"]["outcome"] == "ok", item["new"]
EOF
assert_contains "$T/neighbours.xml" 'failures="5"'
[ "$(stat "$T/neighbours.json" containers_started)" = 2 ] ||
	fail "containers started: $(stat "$T/neighbours.json" containers_started), want 2 (one per image)"
assert_no_leftovers "the neighbours"

echo "== tests level: 1 failing test in the old image, 3 in the new one blocks, naming the two"
script PerTest Counted "$OLD" 'def one():
    return 1'
cat >"$REPO/Packs/PerTest/Scripts/Counted/Counted_test.py" <<'EOF'
from Counted import one


def test_always_fails():
    assert one() == 2


def test_needs_yaml():
    import yaml
    assert yaml.safe_load('a: 1') == {'a': 1}


def test_dumps_yaml():
    import yaml
    assert yaml.safe_dump({'a': one()}).strip() == 'a: 1'


def test_plain():
    assert one() == 1
EOF
expect_exit 3 -C "$REPO" verify --level tests --image "$BROKEN" --old-image "$OLD" --json \
	--junit "$T/pertest.xml" Packs/PerTest
cp "$T/out" "$T/pertest.json"
expect_outcome "$T/pertest.json" Counted old "exception TestsFailed regressed"
expect_outcome "$T/pertest.json" Counted new "exception TestsFailed regressed"
[ "$(field "$T/pertest.json" Counted '",".join(t.split("::")[-1] for t in i["regressed_tests"])')" = \
	"test_needs_yaml,test_dumps_yaml" ] ||
	fail "regressed tests: $(field "$T/pertest.json" Counted 'i["regressed_tests"]')"
[ "$(field "$T/pertest.json" Counted 'sorted((t["id"].split("::")[-1], t["outcome"]) for t in i["new"]["tests"])')" = \
	"[('test_always_fails', 'failed'), ('test_dumps_yaml', 'failed'), ('test_needs_yaml', 'failed'), ('test_plain', 'passed')]" ] ||
	fail "new tests: $(field "$T/pertest.json" Counted 'i["new"]["tests"]')"
[[ $(field "$T/pertest.json" Counted 'i["why"]') == *"2 tests pass in the old image and fail in the new one"*test_needs_yaml*test_dumps_yaml* ]] ||
	fail "why: $(field "$T/pertest.json" Counted 'i["why"]')"
assert_contains "$T/pertest.xml" 'test_dumps_yaml'
assert_contains "$T/pertest.xml" 'Counted_test.py::test_plain: passed'
# The same in the old image on both sides: nothing regresses.
expect_exit 0 -C "$REPO" verify --level tests --image "$NEW" --old-image "$OLD" --json Packs/PerTest
expect_outcome "$T/out" Counted new "exception TestsFailed ok"
assert_no_leftovers "the tests level"
echo "verify_integrity: all checks passed"
