#!/usr/bin/env python3
"""A Docker Hub stand-in for the tests: the web API's tag listing, login, and faults.

Serves, on 127.0.0.1 and a free port (written to --port-file):

  GET  /v2/namespaces/NS/repositories/REPO/tags?page=P&page_size=N&ordering=last_updated
       Docker Hub's shape: {"count", "next" (absolute URL or null), "previous", "results":
       [{"name", "last_updated", "tag_last_pushed", "digest", ...}]}, newest first.
  POST /v2/auth/token   {"identifier", "secret"} -> {"access_token"} (when --user is set,
       the tag listing needs "Authorization: Bearer <that token>").
  GET  /v2/NAME/tags/list?n=N&last=L
       the OCI listing, with `Link: <...>; rel="next"` pagination (relative links, or absolute
       with --v2-absolute-links) and an ETag; --v2-basic puts it behind Basic auth,
       --v2-realm URL behind the Bearer flow with that token realm (a 401 naming it; a URL
       that starts with "/" is on this stand-in, e.g. /token).
  GET  /token?service=S&scope=SCOPE    a token realm: with --user, Basic credentials must match;
       answers {"token", "expires_in"} (a token the --v2-realm listing accepts).
  GET  /_control/tags?image=IMAGE      the tag set as served (ground truth for tests)
  POST /_control/faults                JSON list of fault rules, replacing the current ones
  POST /_control/add                   {"image", "count"}: append newer tags to an image
  POST /_control/set                   {"image", "tags": [{"name", "last_updated"}...]}:
                                       the image's tag list, exactly (null time: none)

Tag sets: --gen IMAGE=COUNT (deterministic: builds grow from 6 to 7 digits, Python versions
cycle, a few non-numeric tags) and/or --tags FILE ({"image": [{"name", "last_updated",
"digest"}...]}). --page-size-fixed N serves N tags a page whatever the client asks (a registry
that ignores page_size and n); --lean sends only name, last_updated and digest per hub result
(tag_last_pushed when last_updated is null), so a page of 80k tags stays under the client's
16 MiB cap.

Fault rules (--fault MATCH=MODE[:k=v,...], or the control endpoint) apply to requests whose
path+query contains MATCH, `times` times (default: always):
  status     code=N [retry_after=S] [x_retry_after=S (seconds from now, sent as an epoch)]
  hang       seconds=S (default 30): hold the request, then drop it
  truncate   a 200 whose JSON is cut in half (Content-Length matches)
  cut        announce the full length, send half, close
  huge       mb=N (default 100): a body of N MiB, streamed chunk by chunk (chunked encoding)
  huge_cl    the same with a Content-Length header
  loop       the `next` link points back at the same page
  offsite    the `next` link points at another server
  badnames   add invalid names to the page: "../../x", "3.10\\n", 300 characters, "caf\\u00e9"
  badutf8    add a name with raw non-UTF-8 bytes
  nulname    add a name holding "\u0000" (hub and v2 listings)
  notjson    a 200 with an HTML body
  redirect   to=URL: 307 to URL + the request's path and query (any method)
  slowloris  interval=S (default 2): a 200 announcing 100000 bytes, then one byte every S
             seconds, for at most 120 s

Every request is logged as one JSON line to --log: time, method, path, query, status, fault,
host (the Host header), auth (whether an Authorization header came; never its value),
body_keys (the keys of a JSON body, never their values). The server exits after --lifetime
seconds (default 600) or as soon as its parent process is gone.
"""
import argparse
import base64
import hashlib
import json
import os
import secrets
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Server(ThreadingHTTPServer):
    # A real service takes many connections at once; the default backlog of 5 would drop
    # the SYNs of a client that fetches several things in parallel (a 1 s retransmit each).
    request_queue_size = 128
from urllib.parse import parse_qs, quote, urlsplit

BASE_TIME = 1700000000  # generated tags are dated from here on, one hour apart


def iso(ts, digits=6):
    dt = datetime.fromtimestamp(int(ts), tz=timezone.utc)
    frac = ts - int(ts)
    s = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        s += "." + str(int(round(frac * 10**digits))).zfill(digits)[:digits]
    return s + "Z"


def gen_tags(image, count, start=0):
    """Deterministic tags: build numbers from 6 digits growing past 7, versions cycling, each
    one an hour newer than the last. Returns newest first."""
    out = []
    minors = [9, 10, 11, 12]
    for i in range(start, start + count):
        minor = minors[(i // 7) % len(minors)]
        build = 90000 + i * 997
        ts = BASE_TIME + i * 3600 + (i % 1000) / 1000.0
        name = "3.%d.%d.%d" % (minor, 1 + (i // 28) % 15, build)
        digest = "sha256:" + hashlib.sha256(("%s:%s" % (image, name)).encode()).hexdigest()
        out.append({"name": name, "last_updated": iso(ts, 9 if i % 5 == 0 else 6),
                    "tag_last_pushed": iso(ts), "digest": digest, "_ts": ts})
    if start == 0:
        newest = BASE_TIME + (count + 1) * 3600
        extra = [("latest", None, newest), ("1.3-alpine", newest - 7200, newest - 7200),
                 ("0123abcd4567ef89", newest - 5400, newest - 5400)]
        for name, lu, pushed in extra:
            out.append({"name": name, "last_updated": iso(lu) if lu else None,
                        "tag_last_pushed": iso(pushed), "digest": None, "_ts": pushed})
    return out


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.images = {}
        self.faults = []
        self.tokens = set()
        self.args = args
        self.log = open(args.log, "a", buffering=1) if args.log else None
        self.generated = {}

    def sort(self, image):
        self.images[image].sort(key=lambda t: t["_ts"], reverse=True)

    def add_generated(self, image, count):
        start = self.generated.get(image, 0)
        tags = gen_tags(image, count, start)
        self.generated[image] = start + count
        self.images.setdefault(image, []).extend(tags)
        self.sort(image)

    def take_fault(self, target):
        with self.lock:
            for rule in self.faults:
                if rule["match"] in target and rule.get("times", -1) != 0:
                    if rule.get("times", -1) > 0:
                        rule["times"] -= 1
                    return rule
        return None

    def write_log(self, entry):
        if self.log:
            with self.lock:
                self.log.write(json.dumps(entry) + "\n")


def parse_fault(spec):
    match, _, rest = spec.partition("=")
    mode, _, params = rest.partition(":")
    rule = {"match": match, "mode": mode}
    for kv in filter(None, params.split(",")):
        k, _, v = kv.partition("=")
        rule[k] = int(v) if v.lstrip("-").isdigit() else v
    return rule


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hubstub/1"

    def log_message(self, fmt, *a):  # the JSON request log replaces the default one
        pass

    # --- plumbing ---

    def setup(self):
        super().setup()
        self.status_sent = None
        self.fault_name = None
        self.body_keys = None

    def finish_log(self):
        u = urlsplit(self.path)
        self.server.state.write_log({
            "time": time.time(), "method": self.command, "path": u.path, "query": u.query,
            "status": self.status_sent, "fault": self.fault_name,
            "host": self.headers.get("Host"), "auth": bool(self.headers.get("Authorization")),
            "body_keys": self.body_keys})

    def send(self, status, body=b"", ctype="application/json", headers=()):
        if isinstance(body, str):
            body = body.encode()
        self.status_sent = status
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.finish_log()

    def send_json(self, status, obj, headers=(), raw_names=()):
        body = json.dumps(obj).encode()
        for placeholder, raw in raw_names:
            body = body.replace(json.dumps(placeholder).encode(), b'"' + raw + b'"')
        self.send(status, body, headers=headers)

    def base_url(self):
        return "http://%s" % (self.headers.get("Host") or "127.0.0.1")

    # --- faults that replace the whole answer ---

    def answer_fault(self, rule):
        mode = rule["mode"]
        self.fault_name = mode
        if mode == "status":
            hdrs = []
            if "retry_after" in rule:
                hdrs.append(("Retry-After", str(rule["retry_after"])))
            if "x_retry_after" in rule:
                hdrs.append(("X-Retry-After", str(int(time.time()) + int(rule["x_retry_after"]))))
            self.send(int(rule.get("code", 500)), '{"message": "stub fault"}', headers=hdrs)
            return True
        if mode == "hang":
            self.status_sent = "hang"
            self.finish_log()
            time.sleep(min(float(rule.get("seconds", 30)), 120))
            self.close_connection = True
            return True
        if mode == "notjson":
            self.send(200, "<html><body>maintenance</body></html>", ctype="text/html")
            return True
        if mode == "redirect":
            self.send(307, '{"message": "moved"}', headers=[("Location", rule["to"] + self.path)])
            return True
        if mode == "slowloris":
            self.trickle(float(rule.get("interval", 2)))
            return True
        if mode in ("huge", "huge_cl"):
            self.stream_huge(int(rule.get("mb", 100)) << 20, mode == "huge_cl")
            return True
        return False

    def stream_huge(self, size, with_length):
        self.status_sent = 200
        self.finish_log()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if with_length:
            self.send_header("Content-Length", str(size))
        else:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        head = b'{"count": 1, "next": null, "results": [{"name": "'
        chunk = b"a" * 65536
        sent = 0
        try:
            for piece in [head] + [chunk] * (size // len(chunk) + 1):
                if sent >= size:
                    break
                piece = piece[: size - sent]
                if with_length:
                    self.wfile.write(piece)
                else:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                sent += len(piece)
            if not with_length:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def trickle(self, interval):
        self.status_sent = 200
        self.finish_log()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        deadline = time.time() + 120
        try:
            self.wfile.write(b"{")
            self.wfile.flush()
            while time.time() < deadline:
                time.sleep(interval)
                self.wfile.write(b" ")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def send_body_fault(self, rule, status, body, headers=()):
        """truncate / cut act on a body that was built normally."""
        if rule and rule["mode"] == "truncate":
            self.send(status, body[: len(body) // 2], headers=headers)
            return True
        if rule and rule["mode"] == "cut":
            self.status_sent = status
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.finish_log()
            return True
        return False

    # --- routes ---

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        u = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        st = self.server.state
        if u.path == "/_control/tags":
            with st.lock:
                tags = [{k: v for k, v in t.items() if not k.startswith("_")}
                        for t in st.images.get(q.get("image", ""), [])]
            return self.send_json(200, tags)
        rule = st.take_fault(self.path)
        if rule and self.answer_fault(rule):
            return
        parts = u.path.split("/")
        # /v2/namespaces/NS/repositories/REPO/tags
        if len(parts) == 7 and parts[1:3] == ["v2", "namespaces"] and parts[4] == "repositories" \
                and parts[6] == "tags":
            return self.hub_tags("%s/%s" % (parts[3], parts[5]), q, rule)
        if u.path.startswith("/v2/") and u.path.endswith("/tags/list"):
            return self.v2_tags(u.path[4:-len("/tags/list")], q, rule)
        if u.path == "/token":
            return self.token(q)
        self.send_json(404, {"message": "not found"})

    def basic_ok(self):
        st = self.server.state
        want = "Basic " + base64.b64encode(
            ("%s:%s" % (st.args.user, st.args.password)).encode()).decode()
        return self.headers.get("Authorization") == want

    def token(self, q):
        st = self.server.state
        if st.args.user and not self.basic_ok():
            return self.send_json(401, {"details": "credentials required"})
        token = secrets.token_hex(16)
        with st.lock:
            st.tokens.add(token)
        self.send_json(200, {"token": token, "expires_in": 300})

    def do_POST(self):
        u = urlsplit(self.path)
        st = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(min(length, 1 << 20))
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self.send_json(400, {"message": "bad json"})
        if isinstance(body, dict):
            self.body_keys = sorted(body)
        if u.path == "/_control/faults":
            with st.lock:
                st.faults = list(body)
            return self.send_json(200, {"ok": True})
        if u.path == "/_control/add":
            with st.lock:
                st.add_generated(body["image"], int(body.get("count", 1)))
            return self.send_json(200, {"ok": True})
        if u.path == "/_control/set":
            tags = [tag_entry(t) for t in body["tags"]]
            with st.lock:
                st.images[body["image"]] = tags
                st.sort(body["image"])
            return self.send_json(200, {"ok": True, "tags": len(tags)})
        rule = st.take_fault(self.path)
        if rule and self.answer_fault(rule):
            return
        if u.path == "/v2/auth/token":
            if st.args.user and body.get("identifier") == st.args.user \
                    and body.get("secret") == st.args.password:
                token = secrets.token_hex(16)
                with st.lock:
                    st.tokens.add(token)
                return self.send_json(200, {"access_token": token})
            return self.send_json(401, {"message": "incorrect authentication credentials"})
        self.send_json(404, {"message": "not found"})

    def authorized_hub(self):
        st = self.server.state
        if not st.args.user:
            return True
        h = self.headers.get("Authorization", "")
        with st.lock:
            return h.startswith("Bearer ") and h[7:] in st.tokens

    def hub_tags(self, image, q, rule):
        st = self.server.state
        if not self.authorized_hub():
            return self.send_json(401, {"message": "authentication required"})
        with st.lock:
            tags = list(st.images.get(image, []))
        if image not in st.images:
            return self.send_json(404, {"message": "object not found", "errinfo": {}})
        try:
            page = max(1, int(q.get("page", "1")))
            size = max(1, min(int(q.get("page_size", "10")), st.args.page_size_max))
            if st.args.page_size_fixed:
                size = st.args.page_size_fixed
        except ValueError:
            return self.send_json(400, {"message": "bad page"})
        if q.get("ordering") == "name":
            tags.sort(key=lambda t: t["name"])
        chunk = tags[(page - 1) * size: page * size]
        results = []
        for i, t in enumerate(chunk):
            if st.args.lean:
                r = {"name": t["name"], "last_updated": t["last_updated"], "digest": t["digest"]}
                if not t["last_updated"]:
                    r["tag_last_pushed"] = t["tag_last_pushed"]
                results.append(r)
                continue
            results.append({"creator": 1, "id": 1000 + i, "images": [], "last_updater": 1,
                            "last_updater_username": "stub", "repository": 1, "v2": True,
                            "full_size": 123456, "tag_status": "active",
                            "tag_last_pulled": None, "media_type":
                                "application/vnd.oci.image.index.v1+json",
                            "content_type": "image", "name": t["name"],
                            "last_updated": t["last_updated"],
                            "tag_last_pushed": t["tag_last_pushed"], "digest": t["digest"]})
        raw_names = []
        if rule and rule["mode"] == "badnames":
            self.fault_name = "badnames"
            for bad in ["../../x", "3.10\n", "9" * 300, "caf\u00e9", ""]:
                results.insert(0, dict(results[0] if results else {}, name=bad))
        if rule and rule["mode"] == "badutf8":
            self.fault_name = "badutf8"
            results.insert(0, dict(results[0] if results else {}, name="@@RAW@@"))
            raw_names.append(("@@RAW@@", b"3.10.\xff\xfe.1"))
        if rule and rule["mode"] == "nulname":
            self.fault_name = "nulname"
            results.insert(0, dict(results[0] if results else {}, name="3.10.\u0000.1"))
        base = "%s/v2/namespaces/%s/repositories/%s/tags" % ((self.base_url(),)
                                                              + tuple(image.split("/")))
        order = "&ordering=" + quote(q["ordering"]) if "ordering" in q else ""
        nxt = None
        if page * size < len(tags):
            nxt = "%s?page=%d&page_size=%d%s" % (base, page + 1, size, order)
        if rule and rule["mode"] == "loop":
            self.fault_name = "loop"
            nxt = "%s?page=%d&page_size=%d%s" % (base, page, size, order)
        if rule and rule["mode"] == "offsite":
            self.fault_name = "offsite"
            nxt = "http://elsewhere.invalid/v2/x?page=%d" % (page + 1)
        prev = "%s?page=%d&page_size=%d%s" % (base, page - 1, size, order) if page > 1 else None
        doc = {"count": len(tags), "next": nxt, "previous": prev, "results": results}
        if rule and rule["mode"] in ("truncate", "cut"):
            self.fault_name = rule["mode"]
            return self.send_body_fault(rule, 200, json.dumps(doc).encode())
        self.send_json(200, doc, raw_names=raw_names)

    def v2_tags(self, name, q, rule):
        st = self.server.state
        if st.args.v2_basic and not self.basic_ok():
            return self.send_json(401, {"errors": [{"code": "UNAUTHORIZED"}]},
                                  headers=[("WWW-Authenticate", 'Basic realm="hubstub"')])
        if st.args.v2_realm:
            h = self.headers.get("Authorization", "")
            with st.lock:
                ok = h.startswith("Bearer ") and h[7:] in st.tokens
            if not ok:
                realm = st.args.v2_realm
                if realm.startswith("/"):
                    realm = self.base_url() + realm
                challenge = 'Bearer realm="%s",service="hubstub",scope="repository:%s:pull"' % (
                    realm, name)
                return self.send_json(401, {"errors": [{"code": "UNAUTHORIZED"}]},
                                      headers=[("WWW-Authenticate", challenge)])
        with st.lock:
            if name not in st.images:
                return self.send_json(404, {"errors": [{"code": "NAME_UNKNOWN"}]})
            names = sorted(t["name"] for t in st.images[name])
        etag = '"%s"' % hashlib.sha256("\n".join(names).encode()).hexdigest()[:32]
        try:
            n = max(1, min(int(q.get("n", "100")), st.args.page_size_max))
        except ValueError:
            n = 100
        if st.args.page_size_fixed:
            n = st.args.page_size_fixed
        last = q.get("last")
        if last is not None:
            names = [x for x in names if x > last]
        page, more = names[:n], len(names) > n
        hdrs = [("ETag", etag)] if last is None else []
        if last is None and self.headers.get("If-None-Match") == etag:
            self.status_sent = 304
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return self.finish_log()
        if more:
            link = "/v2/%s/tags/list?n=%d&last=%s" % (name, n, quote(page[-1]))
            if st.args.v2_absolute_links:
                link = self.base_url() + link
            if rule and rule["mode"] == "loop":
                self.fault_name = "loop"
                link = "/v2/%s/tags/list?n=%d" % (name, n)
            hdrs.append(("Link", '<%s>; rel="next"' % link))
        if rule and rule["mode"] == "nulname":
            self.fault_name = "nulname"
            page = ["3.10.\u0000.1"] + page
        self.send_json(200, {"name": name, "tags": page}, headers=hdrs)


def tag_entry(t):
    """A served tag from {"name", "last_updated", "digest"} (a --tags file, /_control/set)."""
    lu = t.get("last_updated")
    ts = datetime.strptime(lu[:19], "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=timezone.utc).timestamp() if lu else 0
    return dict(t, tag_last_pushed=t.get("tag_last_pushed", lu), _ts=ts, digest=t.get("digest"))


def watchdog(lifetime, parent):
    deadline = time.time() + lifetime
    while time.time() < deadline:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(0.5)
    os._exit(0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log")
    ap.add_argument("--tags", help="JSON file: {image: [{name, last_updated, digest}]}")
    ap.add_argument("--gen", action="append", default=[], help="IMAGE=COUNT")
    ap.add_argument("--fault", action="append", default=[], help="MATCH=MODE[:k=v,...]")
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--v2-basic", action="store_true")
    ap.add_argument("--v2-absolute-links", action="store_true")
    ap.add_argument("--page-size-max", type=int, default=100)
    ap.add_argument("--page-size-fixed", type=int, default=0)
    ap.add_argument("--lean", action="store_true")
    ap.add_argument("--v2-realm")
    ap.add_argument("--lifetime", type=float, default=600)
    args = ap.parse_args()

    st = State(args)
    for spec in args.gen:
        image, _, count = spec.partition("=")
        st.add_generated(image, int(count))
    if args.tags:
        with open(args.tags) as f:
            for image, tags in json.load(f).items():
                st.images.setdefault(image, []).extend(tag_entry(t) for t in tags)
                st.sort(image)
    st.faults = [parse_fault(s) for s in args.fault]

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.state = st
    port = server.server_address[1]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, args.port_file)
    print(port, flush=True)
    threading.Thread(target=watchdog, args=(args.lifetime, os.getppid()), daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
