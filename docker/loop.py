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
#     python3 -c BOOTSTRAP [isolate=UID:GID]     (or python for Python 2)
#
# where BOOTSTRAP (verify_bootstrap in updater/verify_engine.c) reads a
# decimal byte count and a newline from fd 0 with unbuffered os.read calls,
# then exactly that many bytes of this source, keeps the source in the global
# _dockerbump_loop_source and executes it. The same stdin then carries the
# protocol. Run directly as a file ("python3 loop.py") it works the same way.
# With isolate=UID:GID (containers; the loop is then root, PID 1) item code
# runs as that unprivileged user.
#
# Protocol. One JSON object per line in each direction, UTF-8, ASCII-escaped
# by the loop, every string valid Unicode without NUL (lone surrogates and
# NUL are escaped as the text "\udcff", "\x00"), integers within 64 bits,
# no NaN. Input lines that are not JSON objects are ignored; the loop never
# writes one, and the server treats one as a protocol violation.
#
#   loop -> server, once at start
#     {"type": "hello", "args": {"protocol": 2, "python": "3.11.2",
#                                "pid": 1, "warm": true, "isolated": true}}
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
#         "files":       tests level: {"relative/path": base64 of the bytes} of the
#                        item's folder; "test": the test file name in it
#     {"id": N, "result": VALUE} or {"id": N, "error": "message"}
#         the answer to synchronous request N (see below)
#
#   loop -> server, while an item runs (in this order of possibility)
#     {"type": "entryLog", "args": {"message": text, "source": src}}
#         demisto.log() (src "log"), the code's prints and fd 1/2 output
#         (src "output"), lines the item wrote to its protocol pipe that are
#         not protocol (src "garbage")
#     {"type": "result", "args": {"results": entry-or-list}}  demisto.results
#     {"type": NAME, "sync": true, "id": N, "args": {...}}
#         a synchronous request, e.g. NAME "executeCommand" with args
#         {"command": ..., "args": {...}}, or "info" with {"message": ...}.
#         The code blocks until the server writes the answer line
#         {"id": N, "result": ...}; an "error" answer raises in the code.
#     {"type": "tests", "args": {"tests": [{"id": nodeid, "outcome":
#         "passed" | "failed" | "error" | "skipped"}, ...], "exitcode": N}}
#         tests level: every test pytest reported
#   loop -> server, at the end of an item, at most one of
#     {"type": "exception", "args": {"exception": [traceback lines],
#                                    "type": "ImportError",
#                                    "message": "No module named yaml"}}
#     {"type": "timeout", "args": {"seconds": 60}}
#     {"type": "crash", "args": {"exitcode": N or null, "signal": N or null,
#                                "reason": "exited" | "output-limit" |
#                                          "spawn"}}
#     {"type": "skipped", "args": {"reason": "pytest is not importable"}}
#     {"type": "error", "args": {"message": why}}   the loop could not run
#         the item as it must (e.g. not as an unprivileged user): nothing
#         is known about the item
#   and always last
#     {"type": "completed", "args": {"duration_ms": N, "warm": bool}}
#
# Isolation inside the container. The loop (the supervisor) is the only
# writer of the protocol stream: it reads each item's messages from the
# item's own pipes, keeps only the kinds an item may send, and writes them
# again; a "completed" or anything else an item forges is logged as garbage.
# With isolate=, item code runs as UID:GID, other than the supervisor's
# root: it cannot write the loop's files, the shared modules, /tmp or the
# module folders (all root's and read-only to it), cannot signal or trace
# the supervisor, and cannot open its descriptors. Each item gets a fresh
# directory of its own (its HOME, TMPDIR and working directory), removed
# after it; it inherits no descriptor but its own three pipes. After every
# item the supervisor stops and kills every process but itself and the warm
# parent below, and empties /dev/shm and /dev/mqueue.
#
# Warm parent. Python 3 runs items through a warm parent (the "zygote"): a
# process started once per container (and per set of modules and level) as
# the item user, which imports CommonServerPython, CommonServerUserPython
# and demistomock (and pytest at the tests level) once, then forks one
# child per item. The child gets its three pipes from the supervisor over a
# socket, so nothing of the parent's leaks into it, and starts from the
# parent's untouched module state: a fresh module state per run, as the
# server's long-lived loop gives, without paying for CommonServerPython
# again. The parent cannot be traced or read by its children (a process
# whose user changed is not dumpable); one that an item stopped or killed
# is restarted. Python 2 (no descriptor passing), or a parent that cannot
# start, runs each item in a fresh interpreter instead ("cold"), with the
# same isolation.

from __future__ import absolute_import, division, print_function

# Only what every item needs is imported here; the rest where it is used.
import errno
import json
import os
import re
import sys

PROTOCOL = 2
PY2 = sys.version_info[0] == 2
DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_OUTPUT = 4 << 20
MODULE_NAMES = ('CommonServerPython', 'CommonServerUserPython', 'demistomock')
# How long a runner that closed its pipes may take to exit before it is
# killed, and how long the supervisor sleeps at most between checks.
EXIT_GRACE = 1.0
TICK = 0.2
# What one string of a message may carry (longer ones are cut), how deep a
# message may nest, and the longest line of output kept whole.
STRING_CAP = 64 << 10
DEPTH_CAP = 100
LINE_CAP = 64 << 10
# Kinds of message an item may send; anything else it writes is garbage.
ITEM_MESSAGES = ('entryLog', 'result', 'exception', 'skipped', 'tests')
RESERVED = ('hello', 'pong', 'completed', 'timeout', 'crash', 'error',
            'done', 'ready', 'pid', 'exit')
# How long the warm parent may take to import the modules, and to answer.
ZYGOTE_START = 10.0
ZYGOTE_ANSWER = 10.0

if PY2:
    text_type = unicode  # noqa: F821 (Python 2 only)
    int_types = (int, long)  # noqa: F821
else:
    text_type = str
    int_types = (int,)

# A NUL, a lone surrogate, or a valid pair (kept).
UNSAFE = re.compile(u'\x00|[\ud800-\udbff][\udc00-\udfff]|[\ud800-\udfff]')


def to_bytes(s):
    if isinstance(s, text_type):
        return s.encode('utf-8', 'surrogatepass' if not PY2 else 'strict')
    return s


def to_text(b):
    if isinstance(b, text_type):
        return b
    return b.decode('utf-8', 'replace')


def _escape(match):
    s = match.group(0)
    if len(s) == 2:
        return s
    return u'\\x00' if s == u'\x00' else u'\\u%04x' % ord(s)


def clean_text(s):
    if len(s) > STRING_CAP:
        s = s[:STRING_CAP] + u'... [%d characters cut]' % (len(s) - STRING_CAP)
    return UNSAFE.sub(_escape, s)


def clean(obj, depth=0):
    """`obj` as what every JSON parser takes: strings of valid Unicode without
    NUL, integers within 64 bits, finite floats, bounded depth and size."""
    if obj is None or obj is True or obj is False:
        return obj
    if isinstance(obj, text_type):
        return clean_text(obj)
    if isinstance(obj, bytes):
        return clean_text(to_text(obj))
    if isinstance(obj, int_types):
        if -(1 << 63) <= obj < (1 << 63):
            return int(obj)
        return text_type(obj)
    if isinstance(obj, float):
        if obj != obj or obj in (float('inf'), float('-inf')):
            return text_type(repr(obj))
        return obj
    if depth >= DEPTH_CAP:
        return u'[nested too deeply]'
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            if not isinstance(key, (text_type, bytes)):
                key = repr(key)
            out[clean(key)] = clean(value, depth + 1)
        return out
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [clean(v, depth + 1) for v in obj]
    try:
        return clean_text(to_text(repr(obj)))
    except Exception:  # noqa: BLE001 (repr() of a hostile object)
        return u'[unrepresentable %s]' % type(obj).__name__


def encode_line(obj):
    """One protocol line: ASCII, no raw newline, parseable by the server."""
    try:
        text = json.dumps(clean(obj), allow_nan=False)
    except Exception:  # noqa: BLE001 (whatever the object holds)
        kind = obj.get('type') if isinstance(obj, dict) else None
        if not isinstance(kind, str) or kind not in ITEM_MESSAGES + RESERVED:
            kind = 'entryLog'
        text = json.dumps({'type': kind, 'args': {
            'message': u'[a message the loop could not encode]'}})
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
    `parts` the chunks of a line whose newline has not come yet. With
    `line_cap`, a line longer than that keeps its head, and the rest up to
    its newline is counted in `total` but dropped."""

    def __init__(self, fd, line_cap=None):
        self.fd = fd
        self.buf = b''
        self.pos = 0
        self.parts = []
        self.size = 0  # bytes held, for output limits
        self.total = 0  # bytes read
        self.eof = False
        self.line_cap = line_cap
        self.cutting = False  # dropping the rest of a long line
        self.cur = 0  # bytes kept of the line not ended yet

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
        self.total += len(chunk)
        if self.line_cap is not None:
            chunk = self.cap(chunk)
            if not chunk:
                return True
        self.size += len(chunk)
        self.parts.append(chunk)
        if b'\n' in chunk:
            self.buf = self.buf[self.pos:] + b''.join(self.parts)
            self.pos = 0
            self.parts = []
        return True

    def cap(self, chunk):
        """What of `chunk` is kept: the head of an overlong line, then
        nothing up to its newline."""
        out = []
        while chunk:
            nl = chunk.find(b'\n')
            if self.cutting:
                if nl < 0:
                    break
                self.cutting = False
                self.cur = 0
                out.append(b' [line cut]\n')
                chunk = chunk[nl + 1:]
                continue
            room = max(self.line_cap - self.cur, 0)
            if nl < 0:
                if len(chunk) > room:
                    out.append(chunk[:room])
                    self.cur += room
                    self.cutting = True
                else:
                    out.append(chunk)
                    self.cur += len(chunk)
                break
            if nl > room:
                out.append(chunk[:room] + b' [line cut]\n')
            else:
                out.append(chunk[:nl + 1])
            self.cur = 0
            chunk = chunk[nl + 1:]
        return b''.join(out)

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
# Runner: one item, in a child of the warm parent or a fresh interpreter.

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


class Unbound(object):
    """The channel of a demisto object made before any item (in the warm
    parent): a call through it means the modules asked the server something
    while they were imported, so they cannot be shared between items."""

    def __init__(self):
        self.used = []

    def send(self, obj):
        self.used.append(obj.get('type'))

    def request(self, name, args):
        self.used.append(name)
        raise SyncError('%s: no server while the modules are imported' % name)


SYNC_METHODS = ('getAllSupportedCommands', 'dt', 'addEntry',
                'mirrorInvestigation', 'updateModuleHealth', 'directMessage',
                'createIncidents', 'findUser', 'handleEntitlementForUser',
                'getLicenseID', 'getLicenseCustomField', 'createIndicators',
                'searchIndicators', 'searchRelationships',
                'internalHttpRequest', 'getModules', 'getAutoFocusApiKey',
                'mapObject', 'getIndexHash', 'parentEntry')


def make_demisto(repo_mock, unbound=None):
    """The live demisto object handed to the code, modelled on the server's.

    Synchronous methods block for the server's answer; results and log are
    fire-and-forget, as on the server. Names the repository's demistomock
    defines and this object lacks are taken from the mock, so code written
    against a newer server API still finds them. bind() gives it an item's
    channel and request; until then it has none (see Unbound)."""

    state = {'chan': unbound or Unbound(), 'args': {}, 'params': {}, 'command': '',
             'name': 'item', 'integration': False}

    def chan():
        return state['chan']

    def sync(method):
        def call(*a, **kw):
            payload = {'args': list(a)}
            payload.update(kw)
            return chan().request(method, payload)
        call.__name__ = str(method)
        return call

    class Demisto(object):
        def __init__(self):
            self.callingContext = {}
            self.bind(None, {})

        def bind(self, channel, req):
            integration = bool(req.get('integration'))
            command = req.get('command')
            if command is None:
                command = 'test-module' if integration else ''
            name = req.get('name') or 'item'
            state.update({'args': req.get('args') or {},
                          'params': req.get('params') or {},
                          'command': command, 'name': name,
                          'integration': integration})
            if channel is not None:
                state['chan'] = channel
            # In place: the modules may hold the dictionary itself.
            self.callingContext.clear()
            self.callingContext.update({
                'context': {
                    'IntegrationBrand': name if integration else '',
                    'IntegrationInstance': name if integration else '',
                    'ScriptName': '' if integration else name},
                'args': dict(state['args']),
                'command': command,
                'integration': integration,
            })
            self.is_debug = False
            self.integrationInstance = name if integration else ''

        def args(self):
            return dict(state['args'])

        def params(self):
            return dict(state['params'])

        def command(self):
            return state['command']

        def getArg(self, arg):
            return state['args'].get(arg)

        def getParam(self, param):
            return state['params'].get(param)

        def log(self, msg):
            chan().send({'type': 'entryLog',
                         'args': {'message': to_text(str(msg)),
                                  'source': 'log'}})

        def _level(self, level, msg, *a):
            text = to_text(str(msg))
            if a:
                try:
                    text = text % a
                except (TypeError, ValueError):
                    text = ' '.join([text] + [to_text(str(x)) for x in a])
            return chan().request(level, {'message': text})

        def info(self, msg, *a):
            return self._level('info', msg, *a)

        def debug(self, msg, *a):
            return self._level('debug', msg, *a)

        def error(self, msg, *a):
            return self._level('error', msg, *a)

        def results(self, results):
            chan().send({'type': 'result', 'args': {'results': results}})

        def executeCommand(self, cmd, cmd_args=None):
            return chan().request('executeCommand',
                                  {'command': cmd, 'args': cmd_args or {}})

        def incidents(self, incidents=None):
            if incidents is None:
                return chan().request('incidents', {})
            chan().send({'type': 'result',
                         'args': {'results': {'Type': 1,
                                              'ContentsFormat': 'json',
                                              'Contents': incidents},
                                  'incidents': True}})
            return None

        def incident(self):
            found = self.incidents()
            return found[0] if found else {}

        def setContext(self, path, value):
            return chan().request('setContext',
                                  {'path': path, 'value': value})

        def context(self):
            return chan().request('context', {})

        def getLastRun(self):
            return chan().request('getLastRun', {})

        def setLastRun(self, obj):
            return chan().request('setLastRun', {'value': obj})

        def getIntegrationContext(self):
            return chan().request('getIntegrationContext', {})

        def setIntegrationContext(self, ctx):
            return chan().request('setIntegrationContext', {'value': ctx})

        def getIntegrationContextVersioned(self, refresh=False):
            return chan().request('getIntegrationContextVersioned',
                                  {'refresh': refresh})

        def setIntegrationContextVersioned(self, ctx, version=-1,
                                           sync=False):
            return chan().request('setIntegrationContextVersioned',
                                  {'value': ctx, 'version': version,
                                   'sync': sync})

        def demistoUrls(self):
            return chan().request('demistoUrls', {})

        def demistoVersion(self):
            return chan().request('demistoVersion', {})

        def investigation(self):
            return chan().request('investigation', {})

        def uniqueFile(self):
            import uuid
            return str(uuid.uuid4())

        def getFilePath(self, entry_id):
            return chan().request('getFilePath', {'id': entry_id})

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
            chan().send({'type': 'result',
                         'args': {'results': creds, 'credentials': True}})

    demisto = Demisto()
    for method in SYNC_METHODS:
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
    try:
        lines = traceback.format_exception(etype, value, tb)
    except Exception:  # noqa: BLE001 (a hostile exception)
        lines = ['%s: [the traceback could not be formatted]'
                 % etype.__name__]
    flat = []
    for chunk in lines:
        flat.extend(to_text(chunk).rstrip('\n').split('\n'))
    try:
        message = to_text(str(value))
    except Exception:  # noqa: BLE001 (str() of a hostile exception)
        try:
            message = to_text(repr(value))
        except Exception:  # noqa: BLE001
            message = u''
    chan.send({'type': 'exception',
               'args': {'exception': flat, 'type': etype.__name__,
                        'module': getattr(etype, '__module__', ''),
                        'message': message}})


# What the warm parent imported once for every child: the demisto object
# the modules were imported with, and the modules (see zygote_preload).
PRELOADED = {}


def shared_modules(moddir, unbound=None):
    """The repository's modules for a load-level item: the demisto object
    and the modules prepended to its code. From the warm parent when it
    imported them, else imported here (a cold runner, or modules the parent
    could not share)."""
    if PRELOADED.get('level') == 'load' and PRELOADED.get('moddir') == moddir:
        return PRELOADED['demisto'], PRELOADED['modules']
    repo_mock = None
    if moddir and os.path.exists(os.path.join(moddir, 'demistomock.py')):
        repo_mock = load_module_file('_dockerbump_repo_demistomock',
                                     os.path.join(moddir, 'demistomock.py'))
    demisto = make_demisto(repo_mock, unbound)
    # The server gives "import demistomock" the live object, whatever file
    # the repository has under that name.
    sys.modules['demistomock'] = demisto
    modules = []
    if moddir:
        sys.path.insert(0, moddir)
        for name in ('CommonServerPython', 'CommonServerUserPython'):
            if os.path.exists(os.path.join(moddir, name + '.py')):
                modules.append(__import__(name))
    return demisto, modules


def run_load(chan, req, moddir, filename):
    code = compile_item(req.get('script') or '', filename)
    if PY2:
        import __builtin__ as builtins  # noqa: F401
    else:
        import builtins
    scope = {'__name__': '__main__', '__file__': filename,
             '__builtins__': builtins}
    demisto, modules = shared_modules(moddir)
    demisto.bind(chan, req)
    for mod in modules:
        # Prepended as on the server: every name of the module becomes a
        # global of the item, underscore names included.
        for key, value in vars(mod).items():
            if not (key.startswith('__') and key.endswith('__')):
                scope[key] = value
    scope['demisto'] = demisto
    exec(code, scope)


class TestCollector(object):
    """pytest plugin that records every test's outcome."""

    def __init__(self):
        self.order = []
        self.outcomes = {}
        self.errors = []
        self.first = None  # (test id, why) of the first failure or error

    @staticmethod
    def reason(report):
        """The exception of a failed report, one line: "ModuleNotFoundError:
        No module named 'yaml'"."""
        crash = getattr(getattr(report, 'longrepr', None), 'reprcrash', None)
        text = to_text(getattr(crash, 'message', None) or '')
        if not text:
            lines = to_text(str(report.longrepr)).splitlines()
            marked = [l[1:].strip() for l in lines if l.startswith('E ')]
            text = marked[-1] if marked else (lines[-1] if lines else '')
        return text.strip().split('\n')[0][:300]

    def record(self, nodeid, outcome, report=None):
        if report is not None and self.first is None and \
                outcome in ('failed', 'error'):
            self.first = (nodeid, self.reason(report))
        if nodeid not in self.outcomes:
            self.order.append(nodeid)
        # An error in setup or teardown stays the test's outcome.
        if self.outcomes.get(nodeid) != 'error':
            self.outcomes[nodeid] = outcome

    def pytest_runtest_logreport(self, report):
        if report.when == 'call':
            self.record(report.nodeid, 'passed' if report.passed else
                        'failed' if report.failed else 'skipped', report)
        elif report.failed:
            self.record(report.nodeid, 'error', report)
        elif report.skipped:
            self.record(report.nodeid, 'skipped')

    def pytest_collectreport(self, report):
        if report.failed:
            self.record(report.nodeid or '<collection>', 'error', report)
            self.errors.append(to_text(str(report.longrepr))[-2000:])

    def failed(self):
        return [n for n in self.order if self.outcomes[n] in
                ('failed', 'error')]

    def tests(self):
        return [{'id': n, 'outcome': self.outcomes[n]}
                for n in self.order[:5000]]


def write_files(files, dest):
    """The item's folder from {"relative/path": base64}: nothing outside `dest`."""
    import base64
    for name, data in (files or {}).items():
        parts = name.split('/')
        if not name or name.startswith('/') or '' in parts or '..' in parts or \
                '.' in parts:
            continue
        path = os.path.join(dest, *parts)
        if len(parts) > 1 and not os.path.isdir(os.path.dirname(path)):
            os.makedirs(os.path.dirname(path))
        with open(path, 'wb') as f:
            f.write(base64.b64decode(data))


def run_tests(chan, req, moddir, workdir):
    """Sends the tests' outcomes, and skipped or exception, itself."""
    try:
        import pytest
    except ImportError:
        chan.send({'type': 'skipped',
                   'args': {'reason': 'pytest is not importable'}})
        return
    import shutil
    itemdir = os.path.join(workdir, 'item')
    os.mkdir(itemdir)
    files = req.get('files')
    if isinstance(files, dict):
        write_files(files, itemdir)
    test = req.get('test') or ''
    if not test or not os.path.exists(os.path.join(itemdir, test)):
        chan.send({'type': 'skipped',
                   'args': {'reason': 'no test file %r' % test}})
        return
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
    chan.send({'type': 'tests',
               'args': {'tests': collector.tests(), 'exitcode': rc}})
    if rc not in (0, 5):
        etype = 'TestsFailed' if rc == 1 else 'TestsError'
        lines = ['failed: ' + n for n in collector.failed()] + \
            collector.errors
        message = 'pytest exit code %d' % rc
        if collector.first:
            message += '; first: %s: %s' % collector.first
        chan.send({'type': 'exception',
                   'args': {'exception': lines, 'type': etype,
                            'module': 'pytest', 'message': message}})


def run_item(proto_in, proto_out):
    """Runs the item whose request comes first on `proto_in`, then ends the
    process. fd 0 is /dev/null, fds 1 and 2 the item's output pipe."""
    sys.stdin = open(os.devnull, 'r')
    chan = Channel(proto_in, proto_out)
    line = chan.reader.readline()
    req = decode_line(line or b'') or {}
    moddir = req.get('_moddir')
    workdir = req.get('_workdir') or os.getcwd()
    os.chdir(workdir)
    for var in ('HOME', 'TMPDIR'):
        os.environ[var] = workdir
    if 'tempfile' in sys.modules:
        sys.modules['tempfile'].tempdir = None
    level = req.get('level') or 'load'
    name = req.get('name') or 'item'
    filename = name if name.endswith('.py') else name + '.py'
    sys.argv = [filename]
    try:
        if level == 'compile':
            compile_item(req.get('script') or '', filename)
        elif level == 'tests':
            run_tests(chan, req, moddir, workdir)
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
        chan.send({'type': 'done', 'args': {}})
    finally:
        # Skip interpreter shutdown: non-daemon threads or atexit hooks of
        # the code must not keep the runner alive.
        os._exit(0)


def parse_user(text):
    """(uid, gid) from "UID:GID", or None."""
    try:
        uid, gid = text.split(':')
        return int(uid), int(gid)
    except (AttributeError, ValueError):
        return None


def drop_privileges(user):
    """Becomes `user` (uid, gid) for good, with no supplementary group and
    no capability; the kernel then makes this process undumpable, so a
    process of the same user cannot trace it or open its /proc files.
    Raises OSError when that cannot be done."""
    # Out of memory, the kernel is to pick the item, not the supervisor;
    # raising the score needs no privilege, but the file is root's.
    try:
        with open('/proc/self/oom_score_adj', 'w') as f:
            f.write('1000')
    except (IOError, OSError):
        pass
    if user is None:
        return
    uid, gid = user
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid or os.getgid() != gid:
        raise OSError(errno.EPERM, 'still uid %d' % os.geteuid())
    try:
        os.setuid(0)
    except OSError:
        pass
    else:
        raise OSError(errno.EPERM, 'could become root again')
    try:
        import ctypes
        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE
    except Exception:  # noqa: BLE001 (no ctypes: the uid change did it)
        pass


def runner_main(user):
    """A fresh interpreter for one item (cold): fd 0 and 1 are the
    protocol pipes, fd 2 the output pipe."""
    proto_in = os.dup(0)
    proto_out = os.dup(1)
    set_cloexec(proto_in)
    set_cloexec(proto_out)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    os.close(devnull)
    try:
        drop_privileges(user)
    except OSError as e:
        write_all(2, to_bytes(u'cannot become uid %d: %s\n' % (user[0], e)))
        os._exit(ISOLATION_FAILED)
    run_item(proto_in, proto_out)


# --------------------------------------------------------------------------
# Warm parent: imports the shared modules once, forks a child per item.

def send_fds(sock, data, fds):
    import array
    sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                           array.array('i', fds))])


def recv_fds(sock, nfds):
    """A message and the descriptors that came with it."""
    import array
    import socket as socket_module
    fds = array.array('i')
    size = socket_module.CMSG_LEN(nfds * fds.itemsize)
    data, ancdata, _, _ = retry_eintr(sock.recvmsg, 65536, size)
    for level, kind, payload in ancdata:
        if level == socket_module.SOL_SOCKET and \
                kind == socket_module.SCM_RIGHTS:
            usable = len(payload) - len(payload) % fds.itemsize
            fds.frombytes(payload[:usable])
    return data, list(fds)


def zygote_preload(moddir, level):
    """Imports what every item of `level` imports, once. Returns whether the
    repository's modules are shared; they are not when importing them fails
    or asks the server anything (every item then imports them itself)."""
    if level == 'tests':
        try:
            import pytest  # noqa: F401 (cached for the children)
        except Exception:  # noqa: BLE001 (the child reports it)
            pass
    if not moddir:
        return False
    unbound = Unbound()
    path = list(sys.path)
    try:
        if level == 'load':
            demisto, modules = shared_modules(moddir, unbound)
            if not unbound.used:
                PRELOADED.update({'level': 'load', 'moddir': moddir,
                                  'demisto': demisto, 'modules': modules})
                return True
        elif level == 'tests':
            sys.path.insert(0, moddir)
            for name in MODULE_NAMES:
                if os.path.exists(os.path.join(moddir, name + '.py')):
                    __import__(name)
            return True
    except BaseException:  # noqa: BLE001 (the child meets it again)
        pass
    for name in MODULE_NAMES:
        sys.modules.pop(name, None)
    sys.path[:] = path
    return False


def zygote_child(sock, fds):
    """In the fork for one item: only the item's three pipes stay open."""
    set_signals('SIG_DFL')
    in_r, proto_w, out_w = fds
    keep = set(fds) | set([0, 1, 2])
    sock.close()
    try:
        open_fds = [int(n) for n in os.listdir('/proc/self/fd')]
    except OSError:
        open_fds = range(3, 1024)
    for fd in open_fds:
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass
    os.setsid()
    os.dup2(out_w, 1)
    os.dup2(out_w, 2)
    if out_w > 2:
        os.close(out_w)
    set_cloexec(in_r)
    set_cloexec(proto_w)
    run_item(in_r, proto_w)


# Signals the warm parent ignores: an item (the same user) may send them.
CAUGHT_SIGNALS = ('SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1',
                  'SIGUSR2', 'SIGALRM', 'SIGPIPE', 'SIGTSTP', 'SIGTTIN',
                  'SIGTTOU', 'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM', 'SIGPROF',
                  'SIGPOLL', 'SIGPWR', 'SIGSYS', 'SIGTRAP', 'SIGURG',
                  'SIGWINCH')


def set_signals(disposition):
    """Every signal of CAUGHT_SIGNALS to SIG_IGN or SIG_DFL."""
    import signal as signal_module
    for sig in CAUGHT_SIGNALS:
        try:
            signal_module.signal(getattr(signal_module, sig),
                                 getattr(signal_module, disposition))
        except (AttributeError, ValueError, OSError):
            pass


def zygote_main(user, moddir, level):
    """fd 0 is a SOCK_SEQPACKET socket to the supervisor: each message
    {"spawn": N} carries the three pipes of an item; the answers are
    {"pid": P} once the child runs and {"exit": P, "status": S} when it
    ended. End of file on the socket ends this process."""
    global socket
    import socket
    sock_fd = os.dup(0)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.close(devnull)
    sock = socket.fromfd(sock_fd, socket.AF_UNIX, socket.SOCK_SEQPACKET)
    os.close(sock_fd)
    try:
        drop_privileges(user)
    except OSError as e:
        sock.send(encode_line({'ready': False, 'error': str(e)}))
        os._exit(0)
    set_signals('SIG_IGN')
    preloaded = zygote_preload(moddir, level)
    sock.send(encode_line({'ready': True, 'preloaded': preloaded}))
    while True:
        try:
            data, fds = recv_fds(sock, 3)
        except OSError:
            break
        if not data:
            break
        if len(fds) != 3:
            for fd in fds:
                os.close(fd)
            continue
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        pid = os.fork()
        if pid == 0:
            try:
                zygote_child(sock, fds)
            finally:
                os._exit(70)
        for fd in fds:
            os.close(fd)
        sock.send(encode_line({'pid': pid}))
        while True:
            try:
                _, status = os.waitpid(pid, 0)
                break
            except OSError as e:
                if e.errno != errno.EINTR:
                    status = -1
                    break
        sock.send(encode_line({'exit': pid, 'status': status}))
    os._exit(0)


# --------------------------------------------------------------------------
# Supervisor: the long-lived process that talks to the server.

# A runner imports this source as a module from the supervisor's folder, so
# that its compiled form is cached there after the first item.
RUNNER_BOOT = ('import sys;sys.path.insert(0,%r);import dockerbump_loop;'
               'sys.path.pop(0);dockerbump_loop.main()')
# A cold runner that could not become the item user exits with this.
ISOLATION_FAILED = 86
UNKNOWN = -1  # a runner's wait status nobody could tell


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
    global hashlib, select, shutil, signal, socket, tempfile, time
    import hashlib
    import select
    import shutil
    import signal
    import socket
    import tempfile
    import time


def warm_supported():
    return not PY2 and hasattr(socket.socket, 'sendmsg') and \
        hasattr(socket, 'SOCK_SEQPACKET') and hasattr(os, 'fork')


def spawn(argv, stdin, stdout, stderr):
    """Starts argv in a session of its own with the three fds as 0, 1 and
    2, and no other fd of ours."""
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


class ZygoteError(Exception):
    pass


class Zygote(object):
    """The supervisor's handle on a warm parent."""

    def __init__(self, sup, moddir, level):
        self.key = (moddir, level)
        self.dead = False
        self.exits = {}
        parent, child = socket.socketpair(socket.AF_UNIX,
                                          socket.SOCK_SEQPACKET)
        log_r, log_w = os.pipe()
        set_cloexec(log_r)
        argv = [sys.executable, '-c', RUNNER_BOOT % sup.base, 'zygote',
                sup.user_arg(), moddir or '', level]
        try:
            self.pid = spawn(argv, child.fileno(), log_w, log_w)
        finally:
            child.close()
            os.close(log_w)
        self.sock = parent
        self.log = LineReader(log_r)
        set_nonblock(log_r)
        ready = self.receive(ZYGOTE_START)
        if not ready or not ready.get('ready'):
            self.stop()
            raise ZygoteError((ready or {}).get('error') or 'did not start')
        self.preloaded = bool(ready.get('preloaded'))

    def fds(self):
        if self.dead:
            return []
        return [self.sock.fileno()] + ([] if self.log.eof else [self.log.fd])

    def drain_log(self):
        # The parent's own output (e.g. warnings of an import) says nothing
        # about an item; read and drop it so that it never blocks.
        for _ in range(64):
            if not self.log.fill():
                break
            self.log.pop_rest()
            r, _, _ = select.select([self.log.fd], [], [], 0)
            if not r:
                break
        self.log.pop_rest()

    def receive(self, timeout):
        """The next message, or None at the timeout or when it died."""
        deadline = time.time() + timeout
        while not self.dead:
            wait = max(deadline - time.time(), 0)
            r, _, _ = retry_eintr(select.select, self.fds(), [], [], wait)
            if not r and time.time() >= deadline:
                return None
            if self.log.fd in r:
                self.drain_log()
            if self.sock.fileno() in r:
                try:
                    data = self.sock.recv(65536)
                except OSError:
                    data = b''
                if not data:
                    self.dead = True
                    return None
                msg = decode_line(data)
                if msg is not None and 'exit' in msg:
                    self.exits[msg.get('exit')] = msg.get('status')
                return msg
        return None

    def spawn(self, fds):
        for pid in list(self.exits):
            del self.exits[pid]
        try:
            send_fds(self.sock, b'{"spawn": 1}\n', fds)
        except OSError:
            self.dead = True
            raise ZygoteError('the warm parent is gone')
        deadline = time.time() + ZYGOTE_ANSWER
        while True:
            msg = self.receive(max(deadline - time.time(), 0))
            if msg is None:
                self.dead = True
                raise ZygoteError('the warm parent did not answer')
            if isinstance(msg.get('pid'), int_types):
                return msg['pid']

    def exit_status(self, pid, wait):
        deadline = time.time() + wait
        while pid not in self.exits and not self.dead:
            if self.receive(max(deadline - time.time(), 0)) is None:
                break
        return self.exits.get(pid)

    def on_readable(self, fd):
        if fd == self.log.fd:
            self.drain_log()
        elif fd == self.sock.fileno():
            self.receive(0)

    def alive(self):
        if self.dead:
            return False
        try:
            pid, _ = os.waitpid(self.pid, os.WNOHANG)
        except OSError:
            pid = self.pid
        if pid == self.pid:
            self.dead = True
        return not self.dead

    def stop(self):
        self.dead = True
        try:
            self.sock.close()
        except OSError:
            pass
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except OSError:
            pass
        try:
            os.close(self.log.fd)
        except OSError:
            pass


class Runner(object):
    """One item's process and its three pipes, seen from the supervisor."""

    warm = False

    def __init__(self, sup):
        in_r, in_w = os.pipe()
        proto_r, proto_w = os.pipe()
        out_r, out_w = os.pipe()
        for fd in (in_w, proto_r, out_r):
            set_cloexec(fd)
        try:
            self.pid = self.start(sup, in_r, proto_w, out_w)
        except BaseException:
            for fd in (in_w, proto_r, out_r):
                os.close(fd)
            raise
        finally:
            for fd in (in_r, proto_w, out_w):
                os.close(fd)
        self.in_fd = in_w
        self.proto = LineReader(proto_r)
        self.output = LineReader(out_r, LINE_CAP)
        self.status = None
        for fd in (in_w, proto_r, out_r):
            set_nonblock(fd)

    def extra_fds(self):
        return []

    def on_readable(self, fd):
        pass

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


class ColdRunner(Runner):
    """A fresh interpreter for the item."""

    def start(self, sup, stdin, stdout, stderr):
        argv = [sys.executable, '-c', RUNNER_BOOT % sup.base, 'runner',
                sup.user_arg()]
        return spawn(argv, stdin, stdout, stderr)

    def reap(self, block):
        if self.status is not None:
            return True
        try:
            pid, status = retry_eintr(os.waitpid, self.pid,
                                      0 if block else os.WNOHANG)
        except OSError:
            self.status = UNKNOWN
            return True
        if pid == self.pid:
            self.status = status
            return True
        return False


class WarmRunner(Runner):
    """A child of the warm parent."""

    warm = True

    def __init__(self, sup, zygote):
        self.zygote = zygote
        Runner.__init__(self, sup)

    def start(self, sup, stdin, stdout, stderr):
        return self.zygote.spawn([stdin, stdout, stderr])

    def extra_fds(self):
        return self.zygote.fds()

    def on_readable(self, fd):
        self.zygote.on_readable(fd)

    def reap(self, block):
        if self.status is not None:
            return True
        if block:
            try:
                os.kill(self.zygote.pid, signal.SIGCONT)
            except OSError:
                pass
        status = self.zygote.exit_status(self.pid, 2.0 if block else 0)
        if status is not None:
            self.status = status
            return True
        if self.zygote.dead:
            # An orphan is the supervisor's to wait for when it is PID 1;
            # else it is gone when its pipes are.
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
                if pid == self.pid:
                    self.status = status
                    return True
            except OSError:
                if block or (self.proto.eof and self.output.eof):
                    self.status = UNKNOWN
                    return True
            return False
        if block:
            # A parent that does not tell is of no use any more.
            self.zygote.stop()
            self.status = UNKNOWN
            return True
        return False


class Supervisor(object):
    def __init__(self, source, user):
        self.source = source
        self.user = user
        self.pid1 = os.getpid() == 1
        self.input = LineReader(0)
        # Protocol output goes to a private fd; fd 1 joins stderr so that
        # nothing printed by accident reaches the server.
        self.out_fd = os.dup(1)
        set_cloexec(self.out_fd)
        os.dup2(2, 1)
        self.base = tempfile.mkdtemp(prefix='dockerbump-loop-')
        if self.user:
            os.chmod(self.base, 0o755)
            if self.pid1:
                # The container's /tmp is for the supervisor alone: items
                # write in their own folder (their TMPDIR).
                os.chmod(os.path.dirname(self.base), 0o755)
        path = os.path.join(self.base, 'dockerbump_loop.py')
        with open(path, 'wb') as f:
            f.write(to_bytes(source))
        os.chmod(path, 0o644)
        precompile(path)
        # Nothing is imported from the current folder, and that is ours.
        sys.path[:] = [p for p in sys.path if p not in ('', os.getcwd())]
        os.chdir(self.base)
        self.moddir = None
        self.runs = 0
        self.warm = warm_supported()
        self.zygote = None
        self.zygote_failures = 0
        # Requests that arrived while an item ran, for after it.
        self.deferred = []

    def user_arg(self):
        return '%d:%d' % self.user if self.user else '-'

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
            os.chmod(tmp, 0o755)
            for name in MODULE_NAMES:
                if modules.get(name) is not None:
                    path = os.path.join(tmp, name + '.py')
                    with open(path, 'wb') as f:
                        f.write(to_bytes(modules[name]))
                    os.chmod(path, 0o644)
            os.rename(tmp, moddir)
            for name in MODULE_NAMES:
                precompile(os.path.join(moddir, name + '.py'))
        self.moddir = moddir

    def hello(self):
        self.send({'type': 'hello',
                   'args': {'protocol': PROTOCOL,
                            'python': '%d.%d.%d' % sys.version_info[:3],
                            'pid': os.getpid(), 'warm': self.warm,
                            'isolated': bool(self.user)}})

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
            if self.zygote is not None:
                self.zygote.stop()
            shutil.rmtree(self.base, ignore_errors=True)

    def zygote_for(self, level):
        """The warm parent for `level` and the current modules, started
        when needed; None when there is none to be had."""
        key = (self.moddir, level)
        z = self.zygote
        if z is not None and z.key == key and z.alive():
            return z
        if z is not None:
            z.stop()
            self.zygote = None
        if not self.warm:
            return None
        try:
            self.zygote = Zygote(self, self.moddir, level)
        except (ZygoteError, OSError):
            self.zygote_failures += 1
            if self.zygote_failures >= 3:
                self.warm = False
            return None
        return self.zygote

    def start_runner(self, level):
        for _ in range(2):
            z = self.zygote_for(level)
            if z is None:
                break
            try:
                return WarmRunner(self, z)
            except (ZygoteError, OSError):
                z.stop()
                self.sweep()
        return ColdRunner(self)

    def run(self, req):
        started = time.time()
        timeout = float(req.get('timeout') or DEFAULT_TIMEOUT)
        budget = int(req.get('max_output') or DEFAULT_MAX_OUTPUT)
        if 'modules' in req:
            self.set_modules(req['modules'])
        self.runs += 1
        workdir = os.path.join(self.base, 'run-%d' % self.runs)
        os.mkdir(workdir)
        os.chmod(workdir, 0o700)
        if self.user:
            os.chown(workdir, self.user[0], self.user[1])
        child = dict(req)
        child['_moddir'] = self.moddir
        child['_workdir'] = workdir
        child.pop('modules', None)
        final = None
        runner = None
        try:
            runner = self.start_runner(req.get('level') or 'load')
        except OSError as e:
            final = {'type': 'crash',
                     'args': {'exitcode': None, 'signal': None,
                              'reason': 'spawn', 'message': str(e)}}
        if runner is not None:
            # The server's request, whole: clean() is for what goes out.
            request = to_bytes(json.dumps(child)) + b'\n'
            final = self.pump(runner, request, time.time() + timeout, timeout,
                              budget)
        self.sweep()
        shutil.rmtree(workdir, ignore_errors=True)
        if final is not None:
            self.send(final)
        self.send({'type': 'completed',
                   'args': {'duration_ms': int((time.time() - started) * 1000),
                            'warm': bool(runner is not None and runner.warm)}})

    def forward_item(self, forward, line):
        """Passes on what an item may say; anything else is garbage."""
        msg = decode_line(line)
        kind = msg.get('type') if msg is not None else None
        if msg is None or not isinstance(kind, (str, text_type)):
            return forward({'type': 'entryLog',
                            'args': {'message': to_text(line),
                                     'source': 'garbage'}})
        # A synchronous request is named after its method (demisto.error()
        # sends "error"): the server answers it, whatever the name.
        if msg.get('sync') is True:
            if not isinstance(msg.get('id'), int_types):
                return forward({'type': 'entryLog',
                                'args': {'message': to_text(line),
                                         'source': 'garbage'}})
            return forward({'type': kind, 'sync': True, 'id': msg['id'],
                            'args': msg.get('args')})
        if kind not in ITEM_MESSAGES:
            return forward({'type': 'entryLog',
                            'args': {'message': to_text(line),
                                     'source': 'garbage'}})
        return forward({'type': kind, 'args': msg.get('args')})

    def pump(self, runner, pending, deadline, timeout, budget):
        """Relays between the runner and the server until the runner ends.
        Returns the final message, or None when the item ended by itself."""
        state = {'sent': 0, 'done': False}
        final = None
        exited_at = None
        drained_at = None
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
                read = runner.proto.total + runner.output.total
                if state['sent'] > budget or runner.proto.size > budget \
                        or read > 16 * budget:
                    final = {'type': 'crash',
                             'args': {'exitcode': None, 'signal': None,
                                      'reason': 'output-limit'}}
                    break
                if now >= deadline:
                    final = {'type': 'timeout', 'args': {'seconds': timeout}}
                    break
                if exited_at is None and runner.reap(False):
                    exited_at = now
                drained = runner.proto.eof and runner.output.eof
                if drained and drained_at is None:
                    drained_at = now
                # Done once the runner exited and its pipes are drained, or
                # a process it left behind keeps them open for too long, or
                # its exit cannot be told (a parent an item stopped).
                if exited_at is not None and (
                        drained or now - exited_at > EXIT_GRACE):
                    break
                if drained_at is not None and now - drained_at > EXIT_GRACE:
                    break
                rlist = [rd.fd for rd in (runner.proto, runner.output)
                         if not rd.eof] + runner.extra_fds()
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
                for fd in runner.extra_fds():
                    if fd in r:
                        runner.on_readable(fd)
                if runner.proto.fd in r:
                    runner.proto.fill()
                    for line in self.lines(runner.proto):
                        if state['done']:
                            continue
                        msg = decode_line(line)
                        if msg is not None and msg.get('type') == 'done':
                            state['done'] = True
                        else:
                            self.forward_item(forward, line)
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
        if final is None and not state['done']:
            status = runner.status
            if status == UNKNOWN:
                status = None
            code = os.WEXITSTATUS(status) \
                if status is not None and os.WIFEXITED(status) else None
            if code == ISOLATION_FAILED and not runner.warm:
                final = {'type': 'error', 'args': {
                    'message': 'the item could not be run as the '
                               'unprivileged user %s' % self.user_arg()}}
            else:
                final = {'type': 'crash',
                         'args': {'exitcode': code,
                                  'signal': os.WTERMSIG(status)
                                  if status is not None and
                                  os.WIFSIGNALED(status) else None,
                                  'reason': 'exited'}}
        return final

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

    def reap_children(self):
        z = self.zygote
        try:
            while True:
                pid, _ = os.waitpid(-1, os.WNOHANG)
                if not pid:
                    return
                if z is not None and pid == z.pid:
                    z.dead = True
        except OSError:
            return

    def sweep(self):
        """Leaves no process of the item behind. As PID 1 of the container,
        everything but the warm parent is the item's: stop and kill it all,
        again and again until nothing is left (a process forked while the
        kill walked the process list would survive one round), reaping as
        it goes; then wake the warm parent (an item may have stopped it) and
        empty the shared memory folders."""
        if not self.pid1:
            self.reap_children()
            return
        give_up = time.time() + 5.0
        while True:
            z = self.zygote
            keep = z.pid if z is not None and not z.dead else None
            others = [pid for pid in list_pids() if pid != 1 and pid != keep]
            if others:
                try:
                    os.kill(-1, signal.SIGSTOP)
                except OSError:
                    pass
                for pid in list_pids():
                    if pid != 1 and pid != keep:
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except OSError:
                            pass
            if keep is not None:
                try:
                    os.kill(keep, signal.SIGCONT)
                except OSError:
                    pass
            self.reap_children()
            if not others or time.time() > give_up:
                break
            time.sleep(0.002)
        if self.user:
            for folder in ('/dev/shm', '/dev/mqueue'):
                empty_folder(folder)


def list_pids():
    try:
        return [int(n) for n in os.listdir('/proc') if n.isdigit()]
    except OSError:
        return []


def empty_folder(folder):
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        path = os.path.join(folder, name)
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)
        except OSError:
            pass


def main():
    mode = sys.argv[1:2]
    if mode == ['runner']:
        runner_main(parse_user(sys.argv[2] if len(sys.argv) > 2 else ''))
        return
    if mode == ['zygote']:
        zygote_main(parse_user(sys.argv[2]), sys.argv[3] or None, sys.argv[4])
        return
    load_supervisor_modules()
    user = None
    for arg in sys.argv[1:]:
        if arg.startswith('isolate='):
            user = parse_user(arg[len('isolate='):])
    source = globals().get('_dockerbump_loop_source')
    if source is None:
        with open(os.path.abspath(__file__), 'rb') as f:
            source = f.read()
    Supervisor(to_text(source), user).serve()


if __name__ == '__main__':
    main()
