#!/usr/bin/env python3
"""An in-memory stand-in for the part of GitHub's REST API that dockerbump uses.

GitHub cannot run on loopback, so the pull-request tests talk to this instead. It keeps
repositories, issues, pull requests, labels and comments in memory, records every API
request, answers with faults on demand, and refuses what GitHub refuses.

    ghstub.py --port-file F --git-dir BARE [--log F] [--repo owner/name[=BARE]]...
              [--prefix /api/v3] [--token-env VAR] [--read-token-env VAR] [--lifetime S]
              [--parent PID] [--fault JSON]...

It binds 127.0.0.1 on a free port and writes the port to --port-file (atomically) once it
is listening. It exits after --lifetime seconds (default 300), on SIGTERM, and when the
process --parent (default: its parent) is gone. The tokens are read from the environment
(--token-env, default GITHUB_TOKEN: may write; --read-token-env, default
GITHUB_READ_TOKEN: may only read), never from the command line.

API (below --prefix, e.g. http://127.0.0.1:PORT/api/v3 as api_url):
    GET   /repos/{o}/{r}                      permissions (push: false for the read token),
                                              default_branch (the bare repository's HEAD)
    GET   /repos/{o}/{r}/issues               ?labels=a,b&state=open|closed|all&sort=created|
                                              updated&direction=desc|asc&per_page&page
                                              issues and pull requests (with pull_request
                                              {html_url, merged_at}), Link pagination
    POST  /repos/{o}/{r}/issues               {title, body, labels}
    GET   /repos/{o}/{r}/issues/{n}
    PATCH /repos/{o}/{r}/issues/{n}           {title, body, state, labels}
    GET   /repos/{o}/{r}/issues/{n}/comments
    POST  /repos/{o}/{r}/issues/{n}/comments  {body}
    GET   /repos/{o}/{r}/issues/{n}/labels
    POST  /repos/{o}/{r}/issues/{n}/labels    {labels: [...]} (unknown labels are created)
    GET   /repos/{o}/{r}/labels, /labels/{name}
    POST  /repos/{o}/{r}/labels               {name, color, description}
    GET   /repos/{o}/{r}/pulls                ?head=o:branch&base=&state=&per_page&page
    POST  /repos/{o}/{r}/pulls                {title, head, base, body, draft}
    GET   /repos/{o}/{r}/pulls/{n}
    PATCH /repos/{o}/{r}/pulls/{n}            {title, body, base, state}

What it refuses, as GitHub does:
    401 without a token or with another one ("Bad credentials"); 403 without a User-Agent,
    and for a write with the read-only token ("Resource not accessible by personal access
    token"); 404 for a repository that was not declared, an unknown issue or label;
    422 "Validation Failed" for a head or base branch that does not exist in the bare
    repository (field head/base, code invalid), a head without commits over the base ("No
    commits between"), an open pull request for the same head and base ("A pull request
    already exists for o:branch."), a missing title/head/base, a body over 65,536
    characters, a label colour that is not six hex digits, a label that exists; state
    changes of a merged pull request.

Pagination: per_page (default 30) honoured up to 100; `Link` with next/last/first/prev.

See forgestub.py for the control endpoints, the request log and the faults; GitHub adds:
    exists       POST /pulls: creates the pull request (as a racing run would), then answers
                 422 "A pull request already exists for owner:branch."
    422          another validation failure ("No commits between master and the head branch")
"""

import os
import re
import urllib.parse
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import forgestub as fs  # noqa: E402

BODY_MAX = 65536
COLOR = re.compile(r"[0-9a-fA-F]{6}")


class State(fs.BaseState):
    def reset(self):
        super().reset()
        self.repos = {name: {"next": 1, "issues": {}, "labels": {}, "comments": {}}
                      for name in self.refs}


def validation_failed(resource, field, code, message=None):
    e = {"resource": resource, "field": field, "code": code}
    if message:
        e["message"] = message
    return {"message": "Validation Failed", "errors": [e],
            "documentation_url": "https://docs.github.com/rest"}


def wrong_type(resource, body, keys):
    """GitHub's answer when a field is not a string (or null where it may be): 422."""
    for k in keys:
        if k in body and body[k] is not None and not isinstance(body[k], str):
            return validation_failed(resource, k, "invalid")
    return None


def already_exists(label):
    return {
        "message": "Validation Failed",
        "errors": [{"resource": "PullRequest", "code": "custom",
                    "message": "A pull request already exists for %s." % label}],
        "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
    }


class Handler(fs.BaseHandler):
    server_version = "ghstub/2"

    def standard_headers(self, headers):
        out = {"X-GitHub-Api-Version-Selected": "2022-11-28", "X-RateLimit-Limit": "5000"}
        if "X-RateLimit-Remaining" not in headers:
            out["X-RateLimit-Remaining"] = "4999"
            out["X-RateLimit-Reset"] = str(fs.STATE.now() + 3600)
        return out

    def refuse(self, status):
        messages = {401: "Bad credentials" if self.headers.get("Authorization")
                    else "Requires authentication",
                    403: "Resource not accessible by personal access token",
                    404: "Not Found"}
        return self.send(status, {"message": messages[status],
                                  "documentation_url": "https://docs.github.com/rest"})

    def backend_fault(self, kind, path, body):
        if kind == "422":
            return self.send(422, validation_failed(
                "PullRequest", "base", "custom",
                "No commits between master and the head branch"))
        if kind == "exists":
            m = re.fullmatch(r"/repos/([^/]+/[^/]+)/pulls", path)
            with fs.LOCK:
                repo = fs.STATE.repos[m.group(1)]
                pr = new_issue(m.group(1), repo, body, pull=True)
            return self.send(422, already_exists(pr["pull"]["label"]))
        return self.send(500, {"message": "stub: unknown fault kind %r" % kind})

    # --- model -> API -----------------------------------------------------------------------

    def labels_json(self, repo, names):
        out = []
        for n in names:
            lab = repo["labels"].get(n.lower(), {"name": n, "color": "ededed",
                                                 "description": None})
            out.append({"name": lab["name"], "color": lab["color"],
                        "description": lab["description"], "default": False})
        return out

    def issue_json(self, full, repo, it):
        base = self.base_url()
        out = {
            "number": it["number"],
            "title": it["title"],
            "body": it["body"],
            "state": it["state"],
            "labels": self.labels_json(repo, it["labels"]),
            "html_url": "%s/%s/%s/%d" % (base, full, "pull" if it.get("pull") else "issues",
                                         it["number"]),
            "url": "%s%s/repos/%s/issues/%d" % (base, fs.ARGS.prefix, full, it["number"]),
            "created_at": fs.iso(it["created_at"]),
            "updated_at": fs.iso(it["updated_at"]),
            "closed_at": fs.iso(it["closed_at"]) if it["closed_at"] else None,
            "user": {"login": "dockerbump-bot"},
            "comments": len(repo["comments"].get(it["number"], [])),
        }
        p = it.get("pull")
        if p:
            out["draft"] = p["draft"]
            out["pull_request"] = {
                "url": "%s%s/repos/%s/pulls/%d" % (base, fs.ARGS.prefix, full, it["number"]),
                "html_url": out["html_url"],
                "merged_at": fs.iso(p["merged_at"]) if p["merged_at"] else None,
            }
        return out

    def pull_json(self, full, repo, it):
        p = it["pull"]
        out = self.issue_json(full, repo, it)
        del out["pull_request"]
        out["url"] = "%s%s/repos/%s/pulls/%d" % (self.base_url(), fs.ARGS.prefix, full,
                                                 it["number"])
        out["merged_at"] = fs.iso(p["merged_at"]) if p["merged_at"] else None
        out["merged"] = bool(p["merged_at"])
        out["head"] = {"ref": p["ref"], "label": p["label"],
                       "repo": {"full_name": p["head_repo"]} if p["head_repo"] else None}
        out["base"] = {"ref": p["base"], "label": "%s:%s" % (full.split("/")[0], p["base"]),
                       "repo": {"full_name": full}}
        return out

    # --- the API ----------------------------------------------------------------------------

    def api(self, path, query, body):
        if not self.headers.get("User-Agent"):
            return self.send(403, {"message": "Request forbidden by administrative rules. "
                                              "Please make sure your request has a User-Agent "
                                              "header"})
        if self.authorize(write=False):
            return None
        f = self.take_fault(path)
        if f:
            return self.fault(f, path, body)
        m = re.fullmatch(r"/repos/([^/]+)/([^/]+)(/.*)?", path)
        full = "%s/%s" % (m.group(1), m.group(2)) if m else None
        if not m or full not in fs.STATE.repos:
            return self.refuse(404)
        if self.command != "GET" and self.authorize(write=True):
            return None
        with fs.LOCK:
            return self.repo_api(full, fs.STATE.repos[full], m.group(3) or "", query, body)

    def listing(self, path, query, items):
        page_items, page, last, _ = fs.paginate(items, query, self.default_per_page)
        links = self.page_links(path, query, page, last)
        return self.send(200, page_items, {"Link": links} if links else None)

    def repo_api(self, full, repo, rest, query, body):
        path = "/repos/%s%s" % (full, rest)
        if rest == "" and self.command == "GET":
            t = self.token_of()
            push = t == fs.STATE.token
            return self.send(200, {
                "id": 1, "name": full.split("/")[1], "full_name": full, "private": False,
                "html_url": "%s/%s" % (self.base_url(), full),
                "default_branch": fs.STATE.refs[full].default_branch(),
                "permissions": {"admin": False, "maintain": False, "push": push,
                                "triage": push, "pull": True}})
        if rest == "/issues" and self.command == "GET":
            return self.listing(path, query, self.issue_list(full, repo, query))
        if rest == "/issues" and self.command == "POST":
            return self.create_issue(full, repo, body)
        m = re.fullmatch(r"/issues/(\d+)(/comments|/labels)?", rest)
        if m:
            it = repo["issues"].get(int(m.group(1)))
            if not it:
                return self.refuse(404)
            return self.issue_api(full, repo, it, m.group(2), query, body, path)
        if rest == "/labels" and self.command == "GET":
            return self.listing(path, query, self.labels_json(
                repo, [lab["name"] for lab in repo["labels"].values()]))
        if rest == "/labels" and self.command == "POST":
            return self.create_label(repo, body)
        m = re.fullmatch(r"/labels/([^/]+)", rest)
        if m and self.command == "GET":
            name = urllib.parse.unquote(m.group(1))
            if name.lower() not in repo["labels"]:
                return self.refuse(404)
            return self.send(200, self.labels_json(repo, [name])[0])
        if rest == "/pulls" and self.command == "GET":
            return self.listing(path, query, self.pull_list(full, repo, query))
        if rest == "/pulls" and self.command == "POST":
            return self.create_pull(full, repo, body)
        m = re.fullmatch(r"/pulls/(\d+)", rest)
        if m:
            it = repo["issues"].get(int(m.group(1)))
            if not it or not it.get("pull"):
                return self.refuse(404)
            if self.command == "GET":
                return self.send(200, self.pull_json(full, repo, it))
            if self.command == "PATCH":
                return self.edit(full, repo, it, body, pull=True)
        return self.refuse(404)

    def issue_list(self, full, repo, query):
        state = query.get("state", ["open"])[0]
        wanted = [n.strip().lower() for n in query.get("labels", [""])[0].split(",") if n.strip()]
        key = "updated_at" if query.get("sort", ["created"])[0] == "updated" else "created_at"
        newest = query.get("direction", ["desc"])[0] != "asc"
        out = []
        for it in repo["issues"].values():
            have = {n.lower() for n in it["labels"]}
            if state != "all" and it["state"] != state:
                continue
            if any(w not in have for w in wanted):
                continue
            out.append(it)
        out.sort(key=lambda it: (it[key], it["number"]), reverse=newest)
        return [self.issue_json(full, repo, it) for it in out]

    def pull_list(self, full, repo, query):
        state = query.get("state", ["open"])[0]
        head = query.get("head", [None])[0]
        base = query.get("base", [None])[0]
        out = []
        for n in sorted(repo["issues"], reverse=True):
            it = repo["issues"][n]
            p = it.get("pull")
            if not p or (state != "all" and it["state"] != state):
                continue
            if head is not None and p["label"] != head:
                continue
            if base is not None and p["base"] != base:
                continue
            out.append(self.pull_json(full, repo, it))
        return out

    def check_labels(self, names):
        return isinstance(names, list) and all(isinstance(n, str) and n for n in names)

    def create_issue(self, full, repo, body):
        if not isinstance(body, dict):
            return self.send(400, {"message": "Problems parsing JSON"})
        if wrong_type("Issue", body, ("title", "body")):
            return self.send(422, wrong_type("Issue", body, ("title", "body")))
        if not body.get("title"):
            return self.send(422, validation_failed("Issue", "title", "missing_field"))
        if len(body.get("body") or "") > BODY_MAX:
            return self.send(422, validation_failed(
                "Issue", "body", "custom", "body is too long (maximum is 65536 characters)"))
        if "labels" in body and not self.check_labels(body["labels"]):
            return self.send(422, validation_failed("Issue", "labels", "invalid"))
        it = new_issue(full, repo, body, pull=False)
        return self.send(201, self.issue_json(full, repo, it))

    def issue_api(self, full, repo, it, sub, query, body, path):
        n = it["number"]
        if sub is None and self.command == "GET":
            return self.send(200, self.issue_json(full, repo, it))
        if sub is None and self.command == "PATCH":
            return self.edit(full, repo, it, body, pull=False)
        if sub == "/comments" and self.command == "GET":
            return self.listing(path, query, repo["comments"].get(n, []))
        if sub == "/comments" and self.command == "POST":
            if not isinstance(body, dict) or not body.get("body"):
                return self.send(422, validation_failed("IssueComment", "body", "missing_field"))
            c = {"id": len(repo["comments"].get(n, [])) + 1, "body": body["body"],
                 "created_at": fs.iso(fs.STATE.now())}
            repo["comments"].setdefault(n, []).append(c)
            it["updated_at"] = fs.STATE.now()
            return self.send(201, c)
        if sub == "/labels" and self.command == "GET":
            return self.listing(path, query, self.labels_json(repo, it["labels"]))
        if sub == "/labels" and self.command == "POST":
            names = body.get("labels") if isinstance(body, dict) else body
            if not isinstance(names, list) or not all(isinstance(x, str) for x in names):
                return self.send(422, validation_failed("Label", "labels", "invalid"))
            if not names:
                it["labels"] = []  # GitHub: an empty list removes every label
            add_labels(repo, it, names)
            return self.send(200, self.labels_json(repo, it["labels"]))
        return self.refuse(404)

    def create_label(self, repo, body):
        if not isinstance(body, dict) or not body.get("name"):
            return self.send(422, validation_failed("Label", "name", "missing_field"))
        color = body.get("color", "ededed")
        if not isinstance(color, str) or not COLOR.fullmatch(color):
            return self.send(422, validation_failed("Label", "color", "invalid"))
        if body["name"].lower() in repo["labels"]:
            return self.send(422, validation_failed("Label", "name", "already_exists"))
        repo["labels"][body["name"].lower()] = {"name": body["name"], "color": color.lower(),
                                                "description": body.get("description")}
        return self.send(201, self.labels_json(repo, [body["name"]])[0])

    def create_pull(self, full, repo, body):
        if not isinstance(body, dict):
            return self.send(400, {"message": "Problems parsing JSON"})
        bad = wrong_type("PullRequest", body, ("title", "head", "base", "body"))
        if bad or ("draft" in body and not isinstance(body["draft"], bool)):
            return self.send(422, bad or validation_failed("PullRequest", "draft", "invalid"))
        for k in ("head", "base", "title"):
            if not body.get(k):
                return self.send(422, validation_failed("PullRequest", k, "missing_field"))
        owner = full.split("/")[0]
        head = body["head"]
        if ":" in head:
            head_owner, head = head.split(":", 1)
            if head_owner != owner:
                return self.send(422, validation_failed("PullRequest", "head", "invalid"))
        for k, branch in (("base", body["base"]), ("head", head)):
            if not self.branch_exists(full, branch):
                return self.send(422, validation_failed("PullRequest", k, "invalid"))
        if len(body.get("body") or "") > BODY_MAX:
            return self.send(422, validation_failed(
                "Issue", "body", "custom", "body is too long (maximum is 65536 characters)"))
        label = "%s:%s" % (owner, head)
        for it in repo["issues"].values():
            p = it.get("pull")
            if p and it["state"] == "open" and p["label"] == label and p["base"] == body["base"]:
                return self.send(422, already_exists(label))
        if not fs.STATE.refs[full].ahead(body["base"], head):
            return self.send(422, validation_failed(
                "PullRequest", "base", "custom",
                "No commits between %s and %s" % (body["base"], head)))
        it = new_issue(full, repo, dict(body, head=head), pull=True)
        return self.send(201, self.pull_json(full, repo, it))

    def edit(self, full, repo, it, body, pull):
        if not isinstance(body, dict):
            return self.send(400, {"message": "Problems parsing JSON"})
        if wrong_type("Issue", body, ("title", "body", "base", "state")):
            return self.send(422, wrong_type("Issue", body, ("title", "body", "base", "state")))
        if len(body.get("body") or "") > BODY_MAX:
            return self.send(422, validation_failed(
                "Issue", "body", "custom", "body is too long (maximum is 65536 characters)"))
        p = it.get("pull")
        if "base" in body and pull:
            if not self.branch_exists(full, body["base"]):
                return self.send(422, validation_failed("PullRequest", "base", "invalid"))
        if "state" in body:
            if body["state"] not in ("open", "closed"):
                return self.send(422, validation_failed("Issue", "state", "invalid"))
            if p and p["merged_at"]:
                return self.send(422, validation_failed(
                    "PullRequest", "state", "custom",
                    "Cannot change state of a merged pull request"))
        if "labels" in body and not pull:
            if not self.check_labels(body["labels"]):
                return self.send(422, validation_failed("Issue", "labels", "invalid"))
            it["labels"] = []
            add_labels(repo, it, body["labels"])
        for k in ("title", "body"):
            if k in body:
                it[k] = body[k]
        if "base" in body and pull:
            p["base"] = body["base"]
        if "state" in body and body["state"] != it["state"]:
            it["state"] = body["state"]
            it["closed_at"] = fs.STATE.now() if body["state"] == "closed" else None
        it["updated_at"] = fs.STATE.now()
        if pull:
            return self.send(200, self.pull_json(full, repo, it))
        return self.send(200, self.issue_json(full, repo, it))

    # --- the harness ------------------------------------------------------------------------

    def dump_state(self):
        out = {}
        for full, repo in fs.STATE.repos.items():
            issues = [repo["issues"][n] for n in sorted(repo["issues"])]
            out[full] = {
                "pulls": [self.pull_json(full, repo, it) for it in issues if it.get("pull")],
                "issues": [self.issue_json(full, repo, it) for it in issues
                           if not it.get("pull")],
                "labels": self.labels_json(repo, [lab["name"] for lab in
                                                  repo["labels"].values()]),
                "comments": {str(n): c for n, c in repo["comments"].items()},
            }
        return {"repos": out}

    def seed(self, full, body):
        repo = fs.STATE.repos[full]
        made = []
        for spec in body.get("pulls", []):
            it = new_issue(full, repo, spec, pull=True)
            apply_seed_state(it, spec)
            made.append(it["number"])
        for spec in body.get("issues", []):
            it = new_issue(full, repo, spec, pull=False)
            apply_seed_state(it, spec)
            made.append(it["number"])
        return {"numbers": made}

    def harness_act(self, what, full, body):
        repo = fs.STATE.repos[full]
        it = repo["issues"].get(int(body.get("number", 0)))
        if not it:
            return None
        now = fs.STATE.now()
        if what == "merge":
            if not it.get("pull"):
                return None
            when = int(body.get("merged_at") or now)
            it["state"] = "closed"
            it["pull"]["merged_at"] = when
            it["closed_at"] = when
            it["updated_at"] = when
        elif what == "close":
            when = int(body.get("closed_at") or now)
            it["state"] = "closed"
            it["closed_at"] = when
            it["updated_at"] = when
        elif what == "labels":
            add_labels(repo, it, body.get("add", []))
            gone = {n.lower() for n in body.get("remove", [])}
            it["labels"] = [n for n in it["labels"] if n.lower() not in gone]
        if it.get("pull"):
            return self.pull_json(full, repo, it)
        return self.issue_json(full, repo, it)


def add_labels(repo, it, names):
    for name in names:
        if name.lower() not in repo["labels"]:
            # GitHub creates a label it does not know, grey.
            repo["labels"][name.lower()] = {"name": name, "color": "ededed",
                                            "description": None}
        if all(n.lower() != name.lower() for n in it["labels"]):
            it["labels"].append(repo["labels"][name.lower()]["name"])


def new_issue(full, repo, body, pull):
    n = repo["next"]
    repo["next"] += 1
    now = fs.STATE.now()
    it = {"number": n, "title": body.get("title", ""), "body": body.get("body"),
          "state": "open", "labels": [], "created_at": now, "updated_at": now,
          "closed_at": None}
    if pull:
        head = body["head"].split(":", 1)[-1]
        fork = body.get("fork")
        owner = (fork or full).split("/")[0]
        it["pull"] = {"ref": head, "label": "%s:%s" % (owner, head),
                      "head_repo": fork or full, "base": body.get("base", "main"),
                      "draft": bool(body.get("draft", False)), "merged_at": None}
    add_labels(repo, it, body.get("labels") or [])
    repo["issues"][n] = it
    return it


def apply_seed_state(it, spec):
    for k in ("created_at", "updated_at"):
        if spec.get(k):
            it[k] = int(spec[k])
    state = spec.get("state", "open")
    if state in ("closed", "merged"):
        it["state"] = "closed"
        it["closed_at"] = int(spec.get("closed_at") or spec.get("merged_at") or it["created_at"])
    if state == "merged" and it.get("pull"):
        it["pull"]["merged_at"] = int(spec.get("merged_at") or it["closed_at"])


if __name__ == "__main__":
    fs.main("ghstub", Handler, State, "GITHUB_TOKEN", "GITHUB_READ_TOKEN")
