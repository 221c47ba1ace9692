"""What the forge stand-ins (ghstub.py, glstub.py) share: an HTTP server on loopback that
records every request, answers with faults on demand, paginates like the real APIs, reads
branches from a bare git repository on every request, and takes orders from a test harness
on control endpoints.

Not run on its own; ghstub.py and glstub.py import it and bring the API.

Control endpoints (no prefix, no token, not recorded in the request log):
    GET  /_stub/state            the backend's whole state as JSON
    GET  /_stub/log[?since=N]    the request log from entry N on (default 0), a JSON list
    POST /_stub/faults           a fault, or a list of faults (below)
    POST /_stub/reset            forgets everything but the declared repositories
    POST /_stub/clock            {"now": EPOCH} sets the stand-in's clock (null: real time);
                                 every time the API writes (created_at, merged_at...) is from it
    POST /_stub/merge            {"repo", "number", "merged_at": EPOCH (default: the clock)}
    POST /_stub/close            {"repo", "number", "closed_at": EPOCH}: closed, not merged
    POST /_stub/labels           {"repo", "number", "add": [...], "remove": [...]}
    POST /_stub/seed             {"repo", "pulls": [{head, base, title, body, labels, state:
                                 open|closed|merged, created_at, merged_at, closed_at, fork,
                                 draft}...], "issues": [{title, body, labels, state}...]};
                                 no branch is checked: a harness's fast way to a big state
The harness performs the git side of a merge itself.

Request log entries: method, path (without the API prefix), query (name -> list of values),
host, headers (lower-case names; the token's header replaced by "[expected token]",
"[read-only token]", "[other token]" or "[not bearer]"), body (parsed JSON, else text),
status. Also appended to --log as JSON lines.

A fault: {"method": "POST" | "*", "path": regex matched against the whole path (without the
prefix), "kind": ..., "times": n (default 1; -1: forever), "retry_after": s, "reset_in": s}.
Kinds every stand-in knows:
    401          the token is refused
    403          a refusal that is not a rate limit (the token lacks a permission)
    403-retry    secondary rate limit with retry-after (default 1 s)
    403-reset    primary rate limit: remaining 0, reset now+reset_in
    429          rate limit with retry-after
    404          not found
    500          server error
    redirect     307 to the same path on http://localhost:PORT (another host name)
    badjson      200 with a body that is not JSON
    link-loop    a listing page whose rel="next" is the page itself
    link-offsite a listing page whose rel="next" is on another host
    no-link      a listing page without a Link header (GitLab still sends X-Next-Page)
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Server(ThreadingHTTPServer):
    # A real service takes many connections at once; the default backlog of 5 would drop
    # the SYNs of a client that fetches several things in parallel (a 1 s retransmit each).
    request_queue_size = 128

LOCK = threading.RLock()  # re-entrant: answers are sent (and recorded) while it is held
ARGS = None
STATE = None


def iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch)))


class GitRefs:
    """The branches of a bare repository, read with the git command line on every question,
    so a push the harness makes between two requests counts at once."""

    BRANCH = re.compile(r"[A-Za-z0-9._/+=,@-]{1,255}")

    def __init__(self, git_dir):
        self.git_dir = git_dir

    def git(self, *args):
        return subprocess.run(["git", "--git-dir", self.git_dir] + list(args),
                              capture_output=True, text=True, timeout=30)

    def exists(self, branch):
        if not isinstance(branch, str) or not self.BRANCH.fullmatch(branch) or branch[0] == "-":
            return False
        return self.git("rev-parse", "--verify", "-q", "refs/heads/" + branch).returncode == 0

    def ahead(self, base, head):
        """Commits on head that base lacks (GitHub: "No commits between")."""
        r = self.git("rev-list", "--count", "refs/heads/%s..refs/heads/%s" % (base, head))
        return int(r.stdout.strip() or 0) if r.returncode == 0 else 0

    def default_branch(self):
        r = self.git("symbolic-ref", "--short", "HEAD")
        name = r.stdout.strip()
        return name if r.returncode == 0 and name else "main"


class BaseState:
    """What every stand-in keeps; a backend adds its repositories in reset()."""

    def __init__(self, args, token, read_token):
        self.args = args
        self.token = token
        self.read_token = read_token
        self.clock = None
        self.refs = {}
        for spec in args.repo:
            name, _, git_dir = spec.partition("=")
            self.refs[name] = GitRefs(git_dir or args.git_dir)
        self.reset()

    def reset(self):
        self.faults = []
        self.log = []
        self.writes_in_flight = 0
        self.max_concurrent_writes = 0
        self.clock = None

    def now(self):
        return self.clock if self.clock is not None else int(time.time())

    def add_faults(self, spec):
        for f in spec if isinstance(spec, list) else [spec]:
            f.setdefault("method", "*")
            f.setdefault("times", 1)
            f["re"] = re.compile(f["path"])
            self.faults.append(f)


def paginate(items, query, default_per_page):
    """One page of `items` as the API pages: per_page honoured up to 100, pages from 1.
    Returns the page's items, the page number, the last page number and per_page."""
    try:
        per_page = int(query.get("per_page", [default_per_page])[0])
    except ValueError:
        per_page = default_per_page
    per_page = max(1, min(per_page, 100))
    try:
        page = max(1, int(query.get("page", ["1"])[0]))
    except ValueError:
        page = 1
    last = max(1, (len(items) + per_page - 1) // per_page)
    return items[(page - 1) * per_page:page * per_page], page, last, per_page


class BaseHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    auth_header = "Authorization"  # the header that carries the token
    default_per_page = 30

    def log_message(self, fmt, *args):  # quiet: the request log is the record
        pass

    # --- plumbing ---------------------------------------------------------------------------

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        text = raw.decode("utf-8", "replace")
        try:
            return json.loads(text) if text else None
        except ValueError:
            return text

    def send(self, status, obj=None, headers=None, raw=None):
        body = raw if raw is not None else (b"" if obj is None else json.dumps(obj).encode())
        # Recorded before the answer leaves: a client that asks for the log right after its
        # answer must find its request there.
        if self.pending is not None:
            self.record(status, *self.pending)
            self.pending = None
        # Likewise a write stops counting as in flight before its answer is out.
        if self.writing:
            with LOCK:
                STATE.writes_in_flight -= 1
            self.writing = False
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in self.standard_headers(headers or {}).items():
            self.send_header(k, v)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def standard_headers(self, headers):
        return {}

    def token_of(self):
        """The token the request carries, None when it carries none, or False when the
        header is there but not of the accepted form."""
        v = self.headers.get(self.auth_header)
        if v is None:
            return None
        if self.auth_header.lower() == "authorization":
            return v[len("Bearer "):] if v.startswith("Bearer ") else False
        return v

    def record(self, status, path, query, body):
        hdrs = {}
        for k, v in self.headers.items():
            k = k.lower()
            if k in ("authorization", "private-token"):
                v = self.describe_credential(k, v)
            hdrs[k] = v
        entry = {
            "method": self.command,
            "path": path,
            "query": query,
            "host": self.headers.get("Host"),
            "headers": hdrs,
            "body": body,
            "status": status,
        }
        with LOCK:
            STATE.log.append(entry)
            if ARGS.log:
                with open(ARGS.log, "a", encoding="utf-8") as f:
                    f.write(json.dumps(entry) + "\n")

    @staticmethod
    def describe_credential(name, value):
        """What the log says instead of a token: never the token itself."""
        if name == "authorization":
            if not value.startswith("Bearer "):
                return "[not bearer]"
            value = value[len("Bearer "):]
        if value == STATE.token:
            return "[expected token]"
        if STATE.read_token and value == STATE.read_token:
            return "[read-only token]"
        return "[other token]"

    def base_url(self):
        return "http://%s" % (self.headers.get("Host") or "127.0.0.1")

    def page_links(self, path, query, page, last):
        """The Link header of a listing page: next, last, first, prev, as GitHub and GitLab
        send them (absolute URLs with every other parameter kept)."""
        def url(p):
            q = {k: v for k, v in query.items() if k != "page"}
            q["page"] = [str(p)]
            return "<%s%s%s?%s>" % (self.base_url(), ARGS.prefix, path,
                                    urllib.parse.urlencode(q, doseq=True))
        mode = getattr(self, "link_mode", None)
        if mode == "no-link":
            return ""
        if mode == "link-loop":
            return url(page) + '; rel="next"'
        if mode == "link-offsite":
            return url(page + 1).replace("127.0.0.1", "localhost") + '; rel="next"'
        links = []
        if page < last:
            links.append(url(page + 1) + '; rel="next"')
            links.append(url(last) + '; rel="last"')
        if page > 1:
            links.append(url(1) + '; rel="first"')
            links.append(url(page - 1) + '; rel="prev"')
        return ", ".join(links)

    # --- dispatch ---------------------------------------------------------------------------

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PATCH(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def dispatch(self):
        self.pending = None
        self.writing = False
        self.link_mode = None
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        body = self.read_body()
        if url.path.startswith("/_stub/"):
            try:
                with LOCK:
                    return self.control(url.path, query, body)
            except (KeyError, TypeError, ValueError) as e:
                return self.send(400, {"message": "bad control request: %r" % (e,)})
        path = url.path
        if ARGS.prefix:
            if not path.startswith(ARGS.prefix + "/"):
                self.pending = (path, query, body)
                return self.send(404, {"message": "Not Found"})
            path = path[len(ARGS.prefix):]
        self.pending = (path, query, body)
        if self.command != "GET":
            with LOCK:
                STATE.writes_in_flight += 1
                STATE.max_concurrent_writes = max(STATE.max_concurrent_writes,
                                                  STATE.writes_in_flight)
            self.writing = True
            # Long enough for a second writer to show up if the client let one.
            time.sleep(ARGS.write_delay)
        try:
            self.api(path, query, body)
        except Exception as e:  # a stub bug must not look like a hang
            traceback.print_exc()
            self.send(500, {"message": "stub error: %r" % (e,)})

    def control(self, path, query, body):
        if path == "/_stub/state" and self.command == "GET":
            out = self.dump_state()
            out["max_concurrent_writes"] = STATE.max_concurrent_writes
            return self.send(200, out)
        if path == "/_stub/log" and self.command == "GET":
            since = int(query.get("since", ["0"])[0])
            return self.send(200, STATE.log[since:])
        if path == "/_stub/faults" and self.command == "POST":
            STATE.add_faults(body)
            return self.send(200, {"faults": len(STATE.faults)})
        if path == "/_stub/reset" and self.command == "POST":
            STATE.reset()
            return self.send(200, {})
        if path == "/_stub/clock" and self.command == "POST":
            STATE.clock = None if body.get("now") is None else int(body["now"])
            return self.send(200, {"now": STATE.now()})
        if self.command == "POST" and path in ("/_stub/merge", "/_stub/close", "/_stub/labels",
                                              "/_stub/seed"):
            repo = body.get("repo") or body.get("project")
            if repo not in STATE.repos:
                return self.send(404, {"message": "no such repository %r" % (repo,)})
            if path == "/_stub/seed":
                return self.send(201, self.seed(repo, body))
            out = self.harness_act(path[len("/_stub/"):], repo, body)
            if out is None:
                return self.send(404, {"message": "no such pull request"})
            return self.send(200, out)
        self.send(404, {"message": "no such control endpoint"})

    # --- faults -----------------------------------------------------------------------------

    def take_fault(self, path):
        """The fault this request meets, or None; the Link faults only change the page's
        links and let the request go on."""
        with LOCK:
            for f in STATE.faults:
                if f["times"] == 0:
                    continue
                if f["method"] not in ("*", self.command) or not f["re"].fullmatch(path):
                    continue
                if f["times"] > 0:
                    f["times"] -= 1
                if f["kind"] in ("link-loop", "link-offsite", "no-link"):
                    self.link_mode = f["kind"]
                    return None
                return dict(f)
        return None

    def fault(self, f, path, body):
        kind = f["kind"]
        after = str(f.get("retry_after", 1))
        if kind == "403-retry":
            return self.send(403, {"message": "You have exceeded a secondary rate limit. "
                                              "Please wait."}, {"Retry-After": after})
        if kind == "403-reset":
            reset = int(time.time()) + int(f.get("reset_in", 1))
            return self.send(403, {"message": "API rate limit exceeded for user ID 1."},
                             self.ratelimit_headers(0, reset))
        if kind == "429":
            return self.send(429, {"message": "You have exceeded a secondary rate limit."},
                             dict(self.ratelimit_headers(0, int(time.time()) + 1),
                                  **{"Retry-After": after}))
        if kind == "500":
            return self.send(500, {"message": "Server Error"})
        if kind == "badjson":
            return self.send(200, raw=b"<html>not json</html>")
        if kind == "redirect":
            port = self.server.server_address[1]
            target = "http://localhost:%d%s" % (port, self.path)
            return self.send(307, {"message": "Moved"}, {"Location": target})
        if kind in ("401", "403", "404"):
            return self.refuse(int(kind))
        return self.backend_fault(kind, path, body)

    def ratelimit_headers(self, remaining, reset):
        return {"X-RateLimit-Remaining": str(remaining), "X-RateLimit-Reset": str(reset)}

    # --- shared checks ----------------------------------------------------------------------

    def authorize(self, write):
        """None when the request may go on, else the answer has been sent."""
        t = self.token_of()
        if t is None or t is False or t not in (STATE.token, STATE.read_token):
            return self.refuse(401) or True
        if write and t != STATE.token:
            return self.refuse(403) or True
        return None

    def branch_exists(self, repo, branch):
        return STATE.refs[repo].exists(branch)


def watch_parent(pid, original_ppid):
    """Exits when the watched process is gone, or when this process was re-parented (its
    parent died: a crashed test must not leave the stub behind)."""
    while True:
        time.sleep(0.2)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        except PermissionError:
            pass
        if os.getppid() != original_ppid:
            break
    os._exit(0)


def main(description, handler, state_class, default_token_env, default_read_env):
    global ARGS, STATE
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--port-file", required=True)
    p.add_argument("--log")
    p.add_argument("--repo", action="append", default=[],
                   help="a repository (NAME, or NAME=GITDIR for its own bare repository)")
    p.add_argument("--git-dir", required=True,
                   help="the bare repository whose branches the API checks on every request")
    p.add_argument("--prefix", default="")
    p.add_argument("--token-env", default=default_token_env)
    p.add_argument("--read-token-env", default=default_read_env,
                   help="the variable of a token that may read but not write")
    p.add_argument("--lifetime", type=float, default=300)
    p.add_argument("--parent", type=int, default=os.getppid())
    p.add_argument("--fault", action="append", default=[], help="a fault as JSON")
    p.add_argument("--write-delay", type=float, default=0.02,
                   help="seconds each write is held, so overlapping writes show")
    ARGS = p.parse_args()
    ARGS.prefix = ARGS.prefix.rstrip("/")

    token = os.environ.get(ARGS.token_env)
    if not token:
        sys.exit("%s: $%s is empty" % (description, ARGS.token_env))
    read_token = os.environ.get(ARGS.read_token_env) or None
    STATE = state_class(ARGS, token, read_token)
    for spec in ARGS.fault:
        STATE.add_faults(json.loads(spec))

    server = Server(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    tmp = ARGS.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.replace(tmp, ARGS.port_file)

    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    threading.Thread(target=watch_parent, args=(ARGS.parent, os.getppid()), daemon=True).start()
    timer = threading.Timer(ARGS.lifetime, lambda: os._exit(0))
    timer.daemon = True
    timer.start()
    server.serve_forever()
