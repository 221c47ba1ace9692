#!/usr/bin/env python3
"""An in-memory stand-in for the part of GitHub's REST API that dockerbump uses.

GitHub cannot run on loopback, so the pull-request tests talk to this instead. It keeps
repositories, pull requests and their labels in memory, records every API request, and
answers with faults on demand.

    ghstub.py --port-file F [--log F] [--repo owner/name]... [--prefix /api/v3]
              [--token-env VAR] [--lifetime S] [--parent PID] [--fault JSON]...

It binds 127.0.0.1 on a free port and writes the port to --port-file (atomically) once it
is listening. It exits after --lifetime seconds (default 300), on SIGTERM, and when the
process --parent (default: its parent) is gone. The expected token is read from the
environment variable --token-env (default GITHUB_TOKEN), never from the command line.

API (below --prefix, e.g. http://127.0.0.1:PORT/api/v3 as api_url):
    GET   /repos/{o}/{r}/pulls?head=o:branch&state=open|closed|all
    POST  /repos/{o}/{r}/pulls                  {title, head, base, body, draft}
    GET   /repos/{o}/{r}/pulls/{n}
    PATCH /repos/{o}/{r}/pulls/{n}              {title, body, base, state}
    GET   /repos/{o}/{r}/issues/{n}/labels
    POST  /repos/{o}/{r}/issues/{n}/labels      {labels: [...]}
Every API request needs `Authorization: Bearer <token>` (else 401) and a User-Agent (else
403, as on GitHub). A repository that was not declared with --repo is a 404.

Control (no prefix, no token, not recorded in the request log):
    GET  /_stub/state     {"repos": {"o/r": {"pulls": [...]}}, "max_concurrent_writes": n}
    GET  /_stub/log       the request log, a JSON list
    POST /_stub/faults    a fault, or a list of faults (below)
    POST /_stub/pulls     seeds a pull request: {repo, head, base, title, body, labels, state}
    POST /_stub/reset     forgets pull requests, faults and the log

Request log: one JSON object per request, also appended to --log as JSON lines: method,
path (without the prefix), query (name -> list of values), host, headers (lower-case names;
the Authorization value replaced by "[expected token]", "[other token]" or "[not bearer]"),
body (parsed JSON, else text), status.

A fault: {"method": "POST" | "*", "path": regex matched against the whole path (without
prefix), "kind": ..., "times": n (default 1; -1: forever), "retry_after": s, "reset_in": s}.
Kinds:
    401          Bad credentials
    403          a refusal that is not a rate limit (the token lacks a permission)
    403-retry    secondary rate limit with retry-after (default 1 s)
    403-reset    primary rate limit: x-ratelimit-remaining 0, x-ratelimit-reset now+reset_in
    429          secondary rate limit with retry-after
    404          Not Found
    exists       POST /pulls: creates the pull request (as a racing run would), then answers
                 422 "A pull request already exists for owner:branch."
    422          another validation failure ("No commits between base and head")
    500          Server Error
    redirect     307 to the same path on http://localhost:PORT (another host name)
    badjson      200 with a body that is not JSON
"""

import argparse
import json
import os
import re
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.RLock()  # re-entrant: answers are sent (and recorded) while it is held


class State:
    def __init__(self, repos, token):
        self.token = token
        self.declared = list(repos)
        self.reset()

    def reset(self):
        self.repos = {r: {"pulls": {}, "next": 1} for r in self.declared}
        self.faults = []
        self.log = []
        self.writes_in_flight = 0
        self.max_concurrent_writes = 0


STATE = None
ARGS = None


def now_epoch():
    return int(time.time())


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ghstub/1"

    # Quiet: the request log is the record.
    def log_message(self, fmt, *args):
        pass

    # --- plumbing ---------------------------------------------------------------------------

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        text = raw.decode("utf-8", "replace")
        try:
            return raw, (json.loads(text) if text else None)
        except ValueError:
            return raw, text

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
        self.send_header("X-GitHub-Api-Version-Selected", "2022-11-28")
        self.send_header("X-RateLimit-Limit", "5000")
        if not headers or "X-RateLimit-Remaining" not in headers:
            self.send_header("X-RateLimit-Remaining", "4999")
            self.send_header("X-RateLimit-Reset", str(now_epoch() + 3600))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def record(self, status, path, query, body):
        hdrs = {}
        for k, v in self.headers.items():
            k = k.lower()
            if k == "authorization":
                if not v.startswith("Bearer "):
                    v = "[not bearer]"
                elif v[len("Bearer "):] == STATE.token:
                    v = "[expected token]"
                else:
                    v = "[other token]"
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
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        raw, body = self.read_body()
        if url.path.startswith("/_stub/"):
            return self.control(url.path, body)
        path = url.path
        self.pending = (path, query, body)
        if ARGS.prefix:
            if not path.startswith(ARGS.prefix + "/"):
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
            self.send(500, {"message": "stub error: %r" % (e,)})

    def control(self, path, body):
        with LOCK:
            if path == "/_stub/state" and self.command == "GET":
                out = {
                    "repos": {
                        r: {"pulls": [d["pulls"][n] for n in sorted(d["pulls"])]}
                        for r, d in STATE.repos.items()
                    },
                    "max_concurrent_writes": STATE.max_concurrent_writes,
                }
                return self.send(200, out)
            if path == "/_stub/log" and self.command == "GET":
                return self.send(200, STATE.log)
            if path == "/_stub/faults" and self.command == "POST":
                for f in body if isinstance(body, list) else [body]:
                    f.setdefault("method", "*")
                    f.setdefault("times", 1)
                    f["re"] = re.compile(f["path"])
                    STATE.faults.append(f)
                return self.send(200, {"faults": len(STATE.faults)})
            if path == "/_stub/pulls" and self.command == "POST":
                repo = STATE.repos[body["repo"]]
                pr = new_pr(body["repo"], repo, body, self.base_url())
                pr["state"] = body.get("state", "open")
                for name in body.get("labels", []):
                    pr["labels"].append({"name": name})
                return self.send(201, pr)
            if path == "/_stub/reset" and self.command == "POST":
                STATE.reset()
                return self.send(200, {})
        self.send(404, {"message": "no such control endpoint"})

    def base_url(self):
        return "http://%s" % (self.headers.get("Host") or "127.0.0.1")

    # --- faults -----------------------------------------------------------------------------

    def take_fault(self, path):
        with LOCK:
            for f in STATE.faults:
                if f["times"] == 0:
                    continue
                if f["method"] not in ("*", self.command) or not f["re"].fullmatch(path):
                    continue
                if f["times"] > 0:
                    f["times"] -= 1
                return dict(f)
        return None

    def fault(self, f, path, body):
        kind = f["kind"]
        after = str(f.get("retry_after", 1))
        if kind == "401":
            return self.send(401, {"message": "Bad credentials"})
        if kind == "403":
            return self.send(403, {"message": "Resource not accessible by personal access token"})
        if kind == "403-retry":
            return self.send(
                403,
                {"message": "You have exceeded a secondary rate limit. Please wait."},
                {"Retry-After": after},
            )
        if kind == "403-reset":
            reset = now_epoch() + int(f.get("reset_in", 1))
            return self.send(
                403,
                {"message": "API rate limit exceeded for user ID 1."},
                {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
            )
        if kind == "429":
            return self.send(
                429,
                {"message": "You have exceeded a secondary rate limit."},
                {"Retry-After": after},
            )
        if kind == "404":
            return self.send(404, {"message": "Not Found"})
        if kind == "422":
            return self.send(422, {
                "message": "Validation Failed",
                "errors": [{"resource": "PullRequest", "code": "custom",
                            "message": "No commits between master and the head branch"}]})
        if kind == "500":
            return self.send(500, {"message": "Server Error"})
        if kind == "badjson":
            return self.send(200, raw=b"<html>not json</html>")
        if kind == "redirect":
            port = self.server.server_address[1]
            target = "http://localhost:%d%s" % (port, self.path)
            return self.send(307, {"message": "Moved"}, {"Location": target})
        if kind == "exists":
            m = re.fullmatch(r"/repos/([^/]+/[^/]+)/pulls", path)
            with LOCK:
                repo = STATE.repos[m.group(1)]
                pr = new_pr(m.group(1), repo, body, self.base_url())
            return self.send(422, already_exists(pr["head"]["label"]))
        return self.send(500, {"message": "stub: unknown fault kind %r" % kind})

    # --- the API ----------------------------------------------------------------------------

    def api(self, path, query, body):
        if not self.headers.get("User-Agent"):
            return self.send(
                403, {"message": "Request forbidden by administrative rules. "
                                 "Please make sure your request has a User-Agent header"})
        auth = self.headers.get("Authorization") or ""
        if not auth.startswith("Bearer ") or auth[len("Bearer "):] != STATE.token:
            return self.send(401, {"message": "Bad credentials" if auth else
                                   "Requires authentication"})
        f = self.take_fault(path)
        if f:
            return self.fault(f, path, body)

        m = re.fullmatch(r"/repos/([^/]+)/([^/]+)(/.*)", path)
        if not m or "%s/%s" % (m.group(1), m.group(2)) not in STATE.repos:
            return self.send(404, {"message": "Not Found"})
        full, rest = "%s/%s" % (m.group(1), m.group(2)), m.group(3)
        with LOCK:
            repo = STATE.repos[full]
            return self.repo_api(full, repo, rest, query, body)

    def repo_api(self, full, repo, rest, query, body):
        pulls = repo["pulls"]
        if rest == "/pulls" and self.command == "GET":
            state = query.get("state", ["open"])[0]
            head = query.get("head", [None])[0]
            out = [
                p for n, p in sorted(pulls.items(), reverse=True)
                if (state == "all" or p["state"] == state)
                and (head is None or p["head"]["label"] == head)
            ]
            return self.send(200, out)
        if rest == "/pulls" and self.command == "POST":
            if not isinstance(body, dict):
                return self.send(400, {"message": "Problems parsing JSON"})
            missing = [k for k in ("head", "base") if not body.get(k)]
            if not body.get("title") and not body.get("issue"):
                missing.append("title")
            if missing:
                return self.send(422, {
                    "message": "Validation Failed",
                    "errors": [{"resource": "PullRequest", "field": k, "code": "missing_field"}
                               for k in missing]})
            label = head_label(full, body["head"])
            for p in pulls.values():
                if (p["state"] == "open" and p["head"]["label"] == label
                        and p["base"]["ref"] == body["base"]):
                    return self.send(422, already_exists(label))
            pr = new_pr(full, repo, body, self.base_url())
            return self.send(201, pr)
        m = re.fullmatch(r"/pulls/(\d+)", rest)
        if m:
            pr = pulls.get(int(m.group(1)))
            if not pr:
                return self.send(404, {"message": "Not Found"})
            if self.command == "GET":
                return self.send(200, pr)
            if self.command == "PATCH":
                for k in ("title", "body", "state"):
                    if k in body:
                        pr[k] = body[k]
                if "base" in body:
                    pr["base"]["ref"] = body["base"]
                pr["updated_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                return self.send(200, pr)
        m = re.fullmatch(r"/issues/(\d+)/labels", rest)
        if m:
            pr = pulls.get(int(m.group(1)))
            if not pr:
                return self.send(404, {"message": "Not Found"})
            if self.command == "POST":
                names = body.get("labels") if isinstance(body, dict) else body
                if not isinstance(names, list):
                    return self.send(422, {"message": "Validation Failed"})
                if not names:
                    pr["labels"] = []  # GitHub: an empty list removes every label
                for name in names:
                    if all(l["name"].lower() != name.lower() for l in pr["labels"]):
                        pr["labels"].append({"name": name})
            return self.send(200, pr["labels"])
        return self.send(404, {"message": "Not Found"})


def head_label(full, head):
    return head if ":" in head else "%s:%s" % (full.split("/")[0], head)


def already_exists(label):
    return {
        "message": "Validation Failed",
        "errors": [{"resource": "PullRequest", "code": "custom",
                    "message": "A pull request already exists for %s." % label}],
        "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
    }


def new_pr(full, repo, body, base_url):
    n = repo["next"]
    repo["next"] += 1
    label = head_label(full, body["head"])
    pr = {
        "number": n,
        "state": "open",
        "title": body.get("title", ""),
        "body": body.get("body"),
        "draft": bool(body.get("draft", False)),
        "html_url": "%s/%s/pull/%d" % (base_url, full, n),
        "url": "%s/repos/%s/pulls/%d" % (base_url, full, n),
        "head": {"ref": label.split(":", 1)[1], "label": label,
                 "repo": {"full_name": full}},
        "base": {"ref": body["base"], "repo": {"full_name": full}},
        "labels": [],
        "user": {"login": "dockerbump-bot"},
    }
    repo["pulls"][n] = pr
    return pr


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


def main():
    global STATE, ARGS
    p = argparse.ArgumentParser(description="GitHub REST API stand-in for tests")
    p.add_argument("--port-file", required=True)
    p.add_argument("--log")
    p.add_argument("--repo", action="append", default=[])
    p.add_argument("--prefix", default="")
    p.add_argument("--token-env", default="GITHUB_TOKEN")
    p.add_argument("--lifetime", type=float, default=300)
    p.add_argument("--parent", type=int, default=os.getppid())
    p.add_argument("--fault", action="append", default=[], help="a fault as JSON")
    p.add_argument("--write-delay", type=float, default=0.02,
                   help="seconds each write is held, so overlapping writes show")
    ARGS = p.parse_args()
    ARGS.prefix = ARGS.prefix.rstrip("/")

    token = os.environ.get(ARGS.token_env)
    if not token:
        sys.exit("ghstub: $%s is empty" % ARGS.token_env)
    STATE = State(ARGS.repo, token)
    for spec in ARGS.fault:
        f = json.loads(spec)
        f.setdefault("method", "*")
        f.setdefault("times", 1)
        f["re"] = re.compile(f["path"])
        STATE.faults.append(f)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
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


if __name__ == "__main__":
    main()
