# dockerbump verification loop.
#
# Runs inside an item's Docker image and plays the container half of the
# XSOAR server <-> container protocol, so that dockerbump (the C side, which
# plays the server) can run an integration or script the way the server would
# and see whether it still works with a new image. It must run unchanged on
# Python 2.7 and 3.6-3.13, so it uses only the standard library and no syntax
# newer than 2.7.
#
# Start-up. The loop is never bind-mounted: the container runs
#
#     python3 -c BOOTSTRAP          (or python for Python 2 images)
#
# where BOOTSTRAP (the constant of the same name in updater/verify.c) reads a
# decimal byte count and a newline from fd 0 with unbuffered os.read calls,
# then exactly that many bytes of this source, keeps the source in the global
# _dockerbump_loop_source and executes it. The same stdin then carries the
# protocol. Run directly as a file ("python3 loop.py") it works the same way.
#
# Protocol. One JSON object per line in each direction, UTF-8, ASCII-escaped
# by the loop. Lines that are not JSON objects are ignored (input) or never
# produced (output).
#
#   loop -> server, once at start
#     {"type": "hello", "args": {"protocol": 1, "python": "3.11.2",
#                                "pid": 1}}
#
#   server -> loop
#     {"type": "ping"}                      answered by {"type": "pong"}, also
#                                           while an item runs
#     {"type": "exit"}                      the loop ends (so does EOF)
#     {"type": "run", ...} or any object with a "script" key: run one item
#         "script":      the item's code (string)
#         "integration": bool, "native": bool (recorded, not used)
#         "name":        item name, used as the file name in tracebacks
#         "level":       "compile" | "load" (default) | "tests"
#         "command":     demisto.command(); default "test-module" for
#                        integrations, "" for scripts
#         "args", "params": dicts returned by demisto.args()/params()
#         "timeout":     seconds of wall clock for this item (default 60)
#         "max_output":  bytes the item may send, all messages together
#                        (default 4 MiB); beyond it the item is killed
#         "modules":     optional {"CommonServerPython": source,
#                        "CommonServerUserPython": source,
#                        "demistomock": source}; kept for later requests
#                        that omit the key
#         "files":       tests level: base64 of an uncompressed tar of the
#                        item's folder; "test": the test file name in it
#     {"id": N, "result": VALUE} or {"id": N, "error": "message"}
#         the answer to synchronous request N (see below)
#
#   loop -> server, while an item runs (in this order of possibility)
#     {"type": "entryLog", "args": {"message": text, "source": src}}
#         demisto.log() (src "log"), the code's prints and fd 1/2 output
#         (src "output"), non-JSON lines the runner wrote (src "garbage")
#     {"type": "result", "args": {"results": entry-or-list}}  demisto.results
#     {"type": NAME, "sync": true, "id": N, "args": {...}}
#         a synchronous request, e.g. NAME "executeCommand" with args
#         {"command": ..., "args": {...}}, or "info" with {"message": ...}.
#         The code blocks until the server writes the answer line
#         {"id": N, "result": ...}; an "error" answer raises in the code.
#   loop -> server, at the end of an item, at most one of
#     {"type": "exception", "args": {"exception": [traceback lines],
#                                    "type": "ImportError",
#                                    "message": "No module named yaml"}}
#     {"type": "timeout", "args": {"seconds": 60}}
#     {"type": "crash", "args": {"exitcode": N or null, "signal": N or null,
#                                "reason": "exited" | "output-limit" |
#                                          "spawn"}}
#     {"type": "skipped", "args": {"reason": "pytest is not importable"}}
#   and always last
#     {"type": "completed", "args": {"duration_ms": N, "tests": {...}}}
#
# Isolation inside the container. Each item runs in a fresh interpreter
# (fork + exec of sys.executable, running this same source with the argument
# "runner") in its own session, so an exit, a crash or a stray process of one
# item cannot end the loop: the supervisor kills the runner's process group
# after every item, and, when it is PID 1 of a container, every other process
# too. The runner moves its protocol pipes off fds 0 and 1 (fd 0 becomes
# /dev/null, fd 1 joins fd 2, which the supervisor turns into log lines), so
# neither print() nor os.write(1, ...) can corrupt the protocol.

from __future__ import absolute_import, division, print_function

# Only what the runner needs on every item is imported here: a runner is a fresh
# interpreter per item, and imports are most of what it costs. The rest is imported
# where it is used.
import errno
import json
import os
import sys

PROTOCOL = 1
PY2 = sys.version_info[0] == 2
DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_OUTPUT = 4 << 20
MODULE_NAMES = ('CommonServerPython', 'CommonServerUserPython', 'demistomock')
# How long a runner that closed its pipes may take to exit before it is
# killed, and how long the supervisor sleeps at most between checks.
EXIT_GRACE = 1.0
TICK = 0.2

if PY2:
    text_type = unicode  # noqa: F821 (Python 2 only)
else:
    text_type = str


def to_bytes(s):
    if isinstance(s, text_type):
        return s.encode('utf-8')
    return s


def to_text(b):
    if isinstance(b, text_type):
        return b
    return b.decode('utf-8', 'replace')


def json_default(obj):
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, bytes):
        return to_text(obj)
    return repr(obj)


def encode_line(obj):
    """One protocol line, ASCII only, never containing a raw newline."""
    try:
        text = json.dumps(obj, default=json_default)
    except (TypeError, ValueError, UnicodeDecodeError):
        text = json.dumps({'type': obj.get('type', 'entryLog'),
                           'args': {'message': repr(obj)}})
    return to_bytes(text) + b'\n'


def decode_line(line):
    """A dict from a protocol line, or None when it is not a JSON object."""
    try:
        obj = json.loads(to_text(line))
    except ValueError:
        return None
    if isinstance(obj, dict):
        return obj
    return None


def write_all(fd, data):
    while data:
        try:
            n = os.write(fd, data)
        except OSError as e:
            if e.errno == errno.EINTR:
                continue
            raise
        data = data[n:]


def set_cloexec(fd):
    import fcntl
    flags = fcntl.fcntl(fd, fcntl.F_GETFD)
    fcntl.fcntl(fd, fcntl.F_SETFD, flags | fcntl.FD_CLOEXEC)


def set_nonblock(fd):
    import fcntl
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)


def retry_eintr(fn, *args):
    import select
    while True:
        try:
            return fn(*args)
        except (OSError, IOError, select.error) as e:
            code = e.args[0] if e.args else None
            if getattr(e, 'errno', code) != errno.EINTR:
                raise


class LineReader(object):
    """Splits what an fd delivers into lines, without any read-ahead of its
    own beyond the data it holds (so select() on the fd stays valid).

    Each byte is copied a bounded number of times, however long the line or
    however many lines arrive at once: `buf` holds whole lines from `pos` on,
    `parts` the chunks of a line whose newline has not come yet."""

    def __init__(self, fd):
        self.fd = fd
        self.buf = b''
        self.pos = 0
        self.parts = []
        self.size = 0  # bytes held, for output limits
        self.eof = False

    def fill(self):
        """Reads what is available; returns False at end of file."""
        try:
            chunk = retry_eintr(os.read, self.fd, 65536)
        except OSError as e:
            if e.errno == errno.EAGAIN:
                return True
            chunk = b''
        if not chunk:
            self.eof = True
            return False
        self.size += len(chunk)
        self.parts.append(chunk)
        if b'\n' in chunk:
            self.buf = self.buf[self.pos:] + b''.join(self.parts)
            self.pos = 0
            self.parts = []
        return True

    def pop_line(self):
        i = self.buf.find(b'\n', self.pos)
        if i < 0:
            return None
        line = self.buf[self.pos:i]
        self.pos = i + 1
        self.size -= len(line) + 1
        return line

    def pop_rest(self):
        rest = self.buf[self.pos:] + b''.join(self.parts)
        self.buf, self.pos, self.parts, self.size = b'', 0, [], 0
        return rest

    def readline(self):
        """Blocking: the next line, or None at end of file."""
        while True:
            line = self.pop_line()
            if line is not None:
                return line
            if self.eof or not self.fill():
                if self.size:
                    return self.pop_rest()
                return None


# --------------------------------------------------------------------------
# Runner: one item in a fresh interpreter.

class SyncError(Exception):
    """The server answered a synchronous request with an error."""


class Channel(object):
    def __init__(self, in_fd, out_fd):
        self.reader = LineReader(in_fd)
        self.out_fd = out_fd
        self.next_id = 0

    def send(self, obj):
        write_all(self.out_fd, encode_line(obj))

    def request(self, name, args):
        self.next_id += 1
        rid = self.next_id
        self.send({'type': name, 'sync': True, 'id': rid, 'args': args})
        while True:
            line = self.reader.readline()
            if line is None:
                raise SyncError('the server closed the channel during '
                                '%s' % name)
            msg = decode_line(line)
            if msg is None or msg.get('id') != rid:
                continue
            if msg.get('error') is not None:
                raise SyncError(to_text(msg['error']))
            return msg.get('result')


def make_demisto(chan, req, repo_mock):
    """The live demisto object handed to the code, modelled on the server's.

    Synchronous methods block for the server's answer; results and log are
    fire-and-forget, as on the server. Names the repository's demistomock
    defines and this object lacks are taken from the mock, so code written
    against a newer server API still finds them."""

    args = req.get('args') or {}
    params = req.get('params') or {}
    integration = bool(req.get('integration'))
    command = req.get('command')
    if command is None:
        command = 'test-module' if integration else ''
    name = req.get('name') or 'item'

    def sync(method):
        def call(*a, **kw):
            payload = {'args': list(a)}
            payload.update(kw)
            return chan.request(method, payload)
        call.__name__ = str(method)
        return call

    class Demisto(object):
        def __init__(self):
            self.callingContext = {
                'context': {'IntegrationBrand': name if integration else '',
                            'IntegrationInstance': name if integration else '',
                            'ScriptName': '' if integration else name},
                'args': dict(args),
                'command': command,
            }
            self.is_debug = False
            self.integrationInstance = name if integration else ''

        def args(self):
            return dict(args)

        def params(self):
            return dict(params)

        def command(self):
            return command

        def getArg(self, arg):
            return args.get(arg)

        def getParam(self, param):
            return params.get(param)

        def log(self, msg):
            chan.send({'type': 'entryLog',
                       'args': {'message': to_text(str(msg)), 'source': 'log'}})

        def _level(self, level, msg, *a):
            text = to_text(str(msg))
            if a:
                try:
                    text = text % a
                except (TypeError, ValueError):
                    text = ' '.join([text] + [to_text(str(x)) for x in a])
            return chan.request(level, {'message': text})

        def info(self, msg, *a):
            return self._level('info', msg, *a)

        def debug(self, msg, *a):
            return self._level('debug', msg, *a)

        def error(self, msg, *a):
            return self._level('error', msg, *a)

        def results(self, results):
            chan.send({'type': 'result', 'args': {'results': results}})

        def executeCommand(self, cmd, cmd_args=None):
            return chan.request('executeCommand',
                                {'command': cmd, 'args': cmd_args or {}})

        def incidents(self, incidents=None):
            if incidents is None:
                return chan.request('incidents', {})
            chan.send({'type': 'result',
                       'args': {'results': {'Type': 1,
                                            'ContentsFormat': 'json',
                                            'Contents': incidents},
                                'incidents': True}})
            return None

        def incident(self):
            found = self.incidents()
            return found[0] if found else {}

        def setContext(self, path, value):
            return chan.request('setContext', {'path': path, 'value': value})

        def context(self):
            return chan.request('context', {})

        def getLastRun(self):
            return chan.request('getLastRun', {})

        def setLastRun(self, obj):
            return chan.request('setLastRun', {'value': obj})

        def getIntegrationContext(self):
            return chan.request('getIntegrationContext', {})

        def setIntegrationContext(self, ctx):
            return chan.request('setIntegrationContext', {'value': ctx})

        def getIntegrationContextVersioned(self, refresh=False):
            return chan.request('getIntegrationContextVersioned',
                                {'refresh': refresh})

        def setIntegrationContextVersioned(self, ctx, version=-1,
                                           sync=False):
            return chan.request('setIntegrationContextVersioned',
                                {'value': ctx, 'version': version,
                                 'sync': sync})

        def demistoUrls(self):
            return chan.request('demistoUrls', {})

        def demistoVersion(self):
            return chan.request('demistoVersion', {})

        def investigation(self):
            return chan.request('investigation', {})

        def uniqueFile(self):
            import uuid
            return str(uuid.uuid4())

        def getFilePath(self, entry_id):
            return chan.request('getFilePath', {'id': entry_id})

        def get(self, obj, field, defaultParam=None):
            for part in field.split('.'):
                if obj and part in obj:
                    obj = obj[part]
                else:
                    return defaultParam
            return obj

        def gets(self, obj, field):
            return str(self.get(obj, field))

        def credentials(self, creds):
            chan.send({'type': 'result',
                       'args': {'results': creds, 'credentials': True}})

    demisto = Demisto()
    for method in ('getAllSupportedCommands', 'dt', 'addEntry',
                   'mirrorInvestigation', 'updateModuleHealth',
                   'directMessage', 'createIncidents', 'findUser',
                   'handleEntitlementForUser', 'getLicenseID',
                   'getLicenseCustomField', 'createIndicators',
                   'searchIndicators', 'searchRelationships',
                   'internalHttpRequest', 'getModules', 'getAutoFocusApiKey',
                   'mapObject', 'getIndexHash', 'parentEntry'):
        setattr(demisto, method, sync(method))
    if repo_mock is not None:
        for attr in dir(repo_mock):
            value = getattr(repo_mock, attr)
            if attr.startswith('_') or hasattr(demisto, attr):
                continue
            if callable(value) and getattr(value, '__module__', None) == \
                    repo_mock.__name__:
                setattr(demisto, attr, value)
    return demisto


def load_module_file(name, path):
    """Executes a source file as a module that is not put in sys.modules."""
    import types
    mod = types.ModuleType(name)
    mod.__file__ = path
    with open(path, 'rb') as f:
        source = f.read()
    exec(compile(source, path, 'exec', 0, True), mod.__dict__)
    return mod


# The item's source, for tracebacks: given to linecache only when one is
# formatted (importing linecache costs every item otherwise).
ITEM_SOURCE = {}


def compile_item(code, filename):
    text = to_text(code)
    ITEM_SOURCE[filename] = text
    # dont_inherit: this file's __future__ imports are not the item's (a
    # Python 2 item may use the print statement).
    return compile(to_bytes(text) if PY2 else text, filename, 'exec', 0, True)


def exception_message(chan, exc_info):
    import linecache
    import traceback
    for filename, text in ITEM_SOURCE.items():
        lines = [line + '\n' for line in text.split('\n')]
        linecache.cache[filename] = (len(text), None, lines, filename)
    etype, value, tb = exc_info
    # Frames of this loop say nothing about the item: start at its own.
    while tb is not None and tb.tb_frame.f_globals is globals():
        tb = tb.tb_next
    lines = traceback.format_exception(etype, value, tb)
    flat = []
    for chunk in lines:
        flat.extend(to_text(chunk).rstrip('\n').split('\n'))
    try:
        message = to_text(str(value))
    except Exception:  # noqa: BLE001 (str() of a hostile exception)
        message = repr(value)
    chan.send({'type': 'exception',
               'args': {'exception': flat, 'type': etype.__name__,
                        'module': getattr(etype, '__module__', ''),
                        'message': message}})


def run_load(chan, req, moddir, filename):
    code = compile_item(req.get('script') or '', filename)
    repo_mock = None
    if moddir and os.path.exists(os.path.join(moddir, 'demistomock.py')):
        repo_mock = load_module_file('_dockerbump_repo_demistomock',
                                     os.path.join(moddir, 'demistomock.py'))
    demisto = make_demisto(chan, req, repo_mock)
    # The server gives "import demistomock" the live object, whatever file
    # the repository has under that name.
    sys.modules['demistomock'] = demisto
    if PY2:
        import __builtin__ as builtins  # noqa: F401
    else:
        import builtins
    scope = {'__name__': '__main__', '__file__': filename,
             '__builtins__': builtins, 'demisto': demisto}
    if moddir:
        sys.path.insert(0, moddir)
        for name in ('CommonServerPython', 'CommonServerUserPython'):
            if not os.path.exists(os.path.join(moddir, name + '.py')):
                continue
            # Prepended as on the server: every name of the module becomes
            # a global of the item, underscore names included.
            mod = __import__(name)
            for key, value in vars(mod).items():
                if not (key.startswith('__') and key.endswith('__')):
                    scope[key] = value
            scope['demisto'] = demisto
    exec(code, scope)


class TestCollector(object):
    """pytest plugin that records what failed."""

    def __init__(self):
        self.failed = []
        self.passed = 0
        self.errors = []

    def pytest_runtest_logreport(self, report):
        if report.when == 'call' and report.passed:
            self.passed += 1
        elif report.failed:
            self.failed.append(report.nodeid)

    def pytest_collectreport(self, report):
        if report.failed:
            self.errors.append(to_text(str(report.longrepr))[-2000:])


def safe_extract(tar, dest):
    for member in tar.getmembers():
        name = member.name
        if name.startswith('/') or '..' in name.split('/') or \
                not (member.isfile() or member.isdir()):
            continue
        tar.extract(member, dest)


def run_tests(chan, req, moddir, workdir):
    """Returns the tests summary; sends skipped or exception itself."""
    try:
        import pytest
    except ImportError:
        chan.send({'type': 'skipped',
                   'args': {'reason': 'pytest is not importable'}})
        return None
    import base64
    import io
    import shutil
    import tarfile
    data = base64.b64decode(req.get('files') or '')
    itemdir = os.path.join(workdir, 'item')
    os.mkdir(itemdir)
    if data:
        with tarfile.open(fileobj=io.BytesIO(data), mode='r:') as tar:
            safe_extract(tar, itemdir)
    test = req.get('test') or ''
    if not test or not os.path.exists(os.path.join(itemdir, test)):
        chan.send({'type': 'skipped',
                   'args': {'reason': 'no test file %r' % test}})
        return None
    if moddir:
        for name in MODULE_NAMES:
            src = os.path.join(moddir, name + '.py')
            if os.path.exists(src):
                shutil.copy(src, itemdir)
    os.chdir(itemdir)
    sys.path.insert(0, itemdir)
    collector = TestCollector()
    rc = pytest.main(['-q', '-p', 'no:cacheprovider', test],
                     plugins=[collector])
    rc = int(rc)
    summary = {'exitcode': rc, 'passed': collector.passed,
               'failed': collector.failed}
    if rc not in (0, 5):
        etype = 'TestsFailed' if rc == 1 else 'TestsError'
        lines = ['failed: ' + n for n in collector.failed] + collector.errors
        chan.send({'type': 'exception',
                   'args': {'exception': lines, 'type': etype,
                            'module': 'pytest',
                            'message': 'pytest exit code %d' % rc}})
    return summary


def runner_main():
    # When the container runs out of memory, the kernel is to pick the item
    # (this process and what it starts), not the supervisor.
    try:
        with open('/proc/self/oom_score_adj', 'w') as f:
            f.write('1000')
    except (IOError, OSError):
        pass
    # Move the protocol off fds 0 and 1 before any item code runs.
    proto_in = os.dup(0)
    proto_out = os.dup(1)
    set_cloexec(proto_in)
    set_cloexec(proto_out)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    os.close(devnull)
    sys.stdin = open(os.devnull, 'r')
    chan = Channel(proto_in, proto_out)
    line = chan.reader.readline()
    req = decode_line(line or b'') or {}
    moddir = req.get('_moddir')
    workdir = req.get('_workdir') or os.getcwd()
    os.chdir(workdir)
    level = req.get('level') or 'load'
    name = req.get('name') or 'item'
    filename = name if name.endswith('.py') else name + '.py'
    sys.argv = [filename]
    summary = None
    try:
        if level == 'compile':
            compile_item(req.get('script') or '', filename)
        elif level == 'tests':
            summary = run_tests(chan, req, moddir, workdir)
        else:
            run_load(chan, req, moddir, filename)
    except SystemExit as e:
        if e.code not in (None, 0):
            exception_message(chan, sys.exc_info())
    except BaseException:  # noqa: BLE001 (every exception is an outcome)
        exception_message(chan, sys.exc_info())
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 (the code may have closed it)
            pass
    try:
        chan.send({'type': 'done', 'args': {'tests': summary}})
    finally:
        # Skip interpreter shutdown: non-daemon threads or atexit hooks of
        # the code must not keep the runner alive.
        os._exit(0)


# --------------------------------------------------------------------------
# Supervisor: the long-lived process that talks to the server.

# A runner imports this source as a module from the supervisor's folder, so
# that its compiled form is cached there after the first item.
RUNNER_BOOT = ('import sys;sys.path.insert(0,%r);import dockerbump_loop;'
               'sys.path.pop(0);dockerbump_loop.main()')


def precompile(path):
    """Caches the bytecode of a module every runner imports, whatever
    PYTHONDONTWRITEBYTECODE says: runners only read it."""
    if not os.path.exists(path):
        return
    try:
        import py_compile
        py_compile.compile(path, doraise=True)
    except Exception:  # noqa: BLE001 (a module that does not compile fails later)
        pass


def load_supervisor_modules():
    global hashlib, select, shutil, signal, tempfile, time
    import hashlib
    import select
    import shutil
    import signal
    import tempfile
    import time

class Runner(object):
    """One runner process and its three pipes, seen from the supervisor."""

    def __init__(self, base):
        in_r, in_w = os.pipe()
        proto_r, proto_w = os.pipe()
        out_r, out_w = os.pipe()
        for fd in (in_w, proto_r, out_r):
            set_cloexec(fd)
        argv = [sys.executable, '-c', RUNNER_BOOT % base, 'runner']
        try:
            pid = self.spawn(argv, in_r, proto_w, out_w)
        finally:
            for fd in (in_r, proto_w, out_w):
                os.close(fd)
        self.pid = pid
        self.in_fd = in_w
        self.proto = LineReader(proto_r)
        self.output = LineReader(out_r)
        self.status = None
        for fd in (in_w, proto_r, out_r):
            set_nonblock(fd)

    @staticmethod
    def spawn(argv, stdin, stdout, stderr):
        """Starts the runner in a session of its own with the three fds as
        0, 1 and 2, and no other fd of ours."""
        if hasattr(os, 'posix_spawn') and sys.version_info >= (3, 8):
            # No copy of this process's memory map: much cheaper than fork.
            # Every other fd of this process is close-on-exec.
            return os.posix_spawn(argv[0], argv, os.environ, file_actions=[
                (os.POSIX_SPAWN_DUP2, stdin, 0),
                (os.POSIX_SPAWN_DUP2, stdout, 1),
                (os.POSIX_SPAWN_DUP2, stderr, 2)], setsid=True)
        pid = os.fork()
        if pid == 0:
            try:
                os.setsid()
                os.dup2(stdin, 0)
                os.dup2(stdout, 1)
                os.dup2(stderr, 2)
                os.closerange(3, 65536)
                os.execv(argv[0], argv)
            finally:
                os._exit(127)
        return pid

    def reap(self, block):
        if self.status is not None:
            return True
        try:
            pid, status = retry_eintr(os.waitpid, self.pid,
                                      0 if block else os.WNOHANG)
        except OSError:
            self.status = 0
            return True
        if pid == self.pid:
            self.status = status
            return True
        return False

    def kill(self):
        # The runner's session id is its pid; the number is not reused while
        # the runner is an unreaped zombie or anything of its group lives.
        # Stopped first, so that a fork bomb cannot fork past the kill.
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            try:
                os.killpg(self.pid, sig)
            except OSError:
                pass

    def close(self):
        for fd in (self.in_fd, self.proto.fd, self.output.fd):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.in_fd = None


class Supervisor(object):
    def __init__(self, source):
        self.source = source
        self.input = LineReader(0)
        # Protocol output goes to a private fd; fd 1 joins stderr so that
        # nothing printed by accident reaches the server.
        self.out_fd = os.dup(1)
        set_cloexec(self.out_fd)
        os.dup2(2, 1)
        self.base = tempfile.mkdtemp(prefix='dockerbump-loop-')
        path = os.path.join(self.base, 'dockerbump_loop.py')
        with open(path, 'wb') as f:
            f.write(to_bytes(source))
        precompile(path)
        self.moddir = None
        self.runs = 0
        # Requests that arrived while an item ran, for after it.
        self.deferred = []

    def send(self, obj):
        write_all(self.out_fd, encode_line(obj))

    def set_modules(self, modules):
        if not isinstance(modules, dict):
            return
        digest = hashlib.sha1()
        for name in sorted(modules):
            if name not in MODULE_NAMES:
                continue
            digest.update(to_bytes(name) + b'\0' +
                          to_bytes(modules[name] or '') + b'\0')
        moddir = os.path.join(self.base, 'mods-' + digest.hexdigest())
        if not os.path.isdir(moddir):
            tmp = moddir + '.tmp'
            os.mkdir(tmp)
            for name in MODULE_NAMES:
                if modules.get(name) is not None:
                    with open(os.path.join(tmp, name + '.py'), 'wb') as f:
                        f.write(to_bytes(modules[name]))
            os.rename(tmp, moddir)
            for name in MODULE_NAMES:
                precompile(os.path.join(moddir, name + '.py'))
        self.moddir = moddir

    def hello(self):
        self.send({'type': 'hello',
                   'args': {'protocol': PROTOCOL,
                            'python': '%d.%d.%d' % sys.version_info[:3],
                            'pid': os.getpid()}})

    def serve(self):
        self.hello()
        try:
            while True:
                if self.deferred:
                    line = self.deferred.pop(0)
                else:
                    line = self.input.readline()
                if line is None:
                    break
                msg = decode_line(line)
                if msg is None:
                    continue
                kind = msg.get('type')
                if kind == 'ping':
                    self.send({'type': 'pong'})
                elif kind == 'exit':
                    break
                elif kind == 'run' or 'script' in msg:
                    self.run(msg)
                    if self.input.eof and not self.input.size and \
                            not self.deferred:
                        break
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def run(self, req):
        started = time.time()
        timeout = float(req.get('timeout') or DEFAULT_TIMEOUT)
        budget = int(req.get('max_output') or DEFAULT_MAX_OUTPUT)
        if 'modules' in req:
            self.set_modules(req['modules'])
        self.runs += 1
        workdir = os.path.join(self.base, 'run-%d' % self.runs)
        os.mkdir(workdir)
        child = dict(req)
        child['_moddir'] = self.moddir
        child['_workdir'] = workdir
        child.pop('modules', None)
        final = None
        done = None
        try:
            runner = Runner(self.base)
        except OSError as e:
            runner = None
            final = {'type': 'crash',
                     'args': {'exitcode': None, 'signal': None,
                              'reason': 'spawn', 'message': str(e)}}
        if runner is not None:
            final, done = self.pump(runner, encode_line(child),
                                    started + timeout, timeout, budget)
        self.sweep()
        shutil.rmtree(workdir, ignore_errors=True)
        if final is not None:
            self.send(final)
        args = {'duration_ms': int((time.time() - started) * 1000)}
        if done is not None:
            args['tests'] = done.get('tests')
        self.send({'type': 'completed', 'args': args})

    def pump(self, runner, pending, deadline, timeout, budget):
        """Relays between the runner and the server until the runner ends.
        Returns (final message or None, the runner's done message or None)."""
        state = {'sent': 0}
        final = None
        done = None
        exited_at = None
        # Lines that came with the request, e.g. a ping right behind it.
        pending += self.from_server()

        def forward(obj):
            line = encode_line(obj)
            state['sent'] += len(line)
            if state['sent'] <= budget:
                write_all(self.out_fd, line)

        try:
            while True:
                now = time.time()
                if state['sent'] > budget or runner.proto.size > budget \
                        or runner.output.size > budget:
                    final = {'type': 'crash',
                             'args': {'exitcode': None, 'signal': None,
                                      'reason': 'output-limit'}}
                    break
                if now >= deadline:
                    final = {'type': 'timeout', 'args': {'seconds': timeout}}
                    break
                if exited_at is None and runner.reap(False):
                    exited_at = now
                # Done once the runner exited and its pipes are drained, or
                # a process it left behind keeps them open for too long.
                if exited_at is not None and (
                        (runner.proto.eof and runner.output.eof) or
                        now - exited_at > EXIT_GRACE):
                    break
                rlist = [rd.fd for rd in (runner.proto, runner.output)
                         if not rd.eof]
                if not self.input.eof:
                    rlist.append(0)
                wlist = [runner.in_fd] if pending else []
                wait = min(deadline - now, TICK)
                if runner.proto.eof and runner.output.eof:
                    wait = min(wait, 0.01)
                r, w, _ = retry_eintr(select.select, rlist, wlist, [],
                                      max(wait, 0))
                if w:
                    try:
                        n = os.write(runner.in_fd, pending)
                        pending = pending[n:]
                    except OSError as e:
                        if e.errno != errno.EAGAIN:
                            pending = b''
                if runner.proto.fd in r:
                    runner.proto.fill()
                    for line in self.lines(runner.proto):
                        msg = decode_line(line)
                        if msg is None:
                            forward({'type': 'entryLog',
                                     'args': {'message': to_text(line),
                                              'source': 'garbage'}})
                        elif msg.get('type') == 'done':
                            done = msg.get('args') or {}
                        else:
                            forward(msg)
                if runner.output.fd in r:
                    runner.output.fill()
                    for line in self.lines(runner.output):
                        forward({'type': 'entryLog',
                                 'args': {'message': to_text(line),
                                          'source': 'output'}})
                if 0 in r:
                    if not self.input.fill():
                        break
                    pending += self.from_server()
        finally:
            runner.kill()
            runner.reap(True)
            runner.close()
        if final is None and done is None:
            status = runner.status or 0
            final = {'type': 'crash',
                     'args': {'exitcode': os.WEXITSTATUS(status)
                              if os.WIFEXITED(status) else None,
                              'signal': os.WTERMSIG(status)
                              if os.WIFSIGNALED(status) else None,
                              'reason': 'exited'}}
        return final, done

    def from_server(self):
        """Handles what the server sent while an item runs: pings are
        answered here, answers go on to the runner (returned)."""
        relay = b''
        while True:
            line = self.input.pop_line()
            if line is None:
                return relay
            msg = decode_line(line)
            if msg is None:
                continue
            if msg.get('type') == 'ping':
                self.send({'type': 'pong'})
            elif 'id' in msg and 'type' not in msg:
                relay += line + b'\n'
            else:
                self.deferred.append(line)

    @staticmethod
    def lines(reader):
        while True:
            line = reader.pop_line()
            if line is None:
                break
            yield line
        if reader.eof and reader.size:
            yield reader.pop_rest()

    def sweep(self):
        """Leaves no process of the item behind. As PID 1 of the container,
        everything else is the item's: stop and kill it all, again and again
        until nothing is left (a process forked while kill(-1) walked the
        process list would survive one round), reaping as it goes."""
        pid1 = os.getpid() == 1
        give_up = time.time() + 5.0
        while time.time() < give_up:
            if pid1:
                for sig in (signal.SIGSTOP, signal.SIGKILL):
                    try:
                        os.kill(-1, sig)
                    except OSError:
                        pass
            try:
                while os.waitpid(-1, os.WNOHANG)[0]:
                    pass
            except OSError:
                return  # no child left
            if not pid1:
                return  # not ours to sweep: the runner's group was killed
            time.sleep(0.005)


def main():
    if sys.argv[1:2] == ['runner']:
        runner_main()
        return
    load_supervisor_modules()
    source = globals().get('_dockerbump_loop_source')
    if source is None:
        with open(os.path.abspath(__file__), 'rb') as f:
            source = f.read()
    Supervisor(to_text(source)).serve()


if __name__ == '__main__':
    main()
