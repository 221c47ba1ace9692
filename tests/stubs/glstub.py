#!/usr/bin/env python3
"""An in-memory stand-in for the part of GitLab's REST API v4 that dockerbump uses.

GitLab is too big to run in a test, so the merge-request tests talk to this instead. It keeps
projects, merge requests, issues, labels and notes in memory, records every API request,
answers with faults on demand, and refuses what GitLab refuses.

    glstub.py --port-file F --git-dir BARE [--log F] [--repo group/sub/name[=BARE]]...
              [--prefix /api/v4] [--token-env VAR] [--read-token-env VAR] [--lifetime S]
              [--parent PID] [--fault JSON]...

Start, stop, tokens (--token-env default GITLAB_TOKEN: Developer; --read-token-env default
GITLAB_READ_TOKEN: Reporter, reads only), the control endpoints, the request log and the
faults are forgestub.py's; "repo" in a control request is the project's path, "number" its
merge request's iid.

API (below --prefix, e.g. http://127.0.0.1:PORT/api/v4 as api_url). A project is addressed
by its numeric id or its URL-encoded path (group%2Fsub%2Fname). The token comes in
PRIVATE-TOKEN (or Authorization: Bearer).
    GET  /projects/:id                       default_branch, permissions.project_access
    GET  /projects/:id/merge_requests        ?state=opened|closed|locked|merged|all&labels=a,b
                                             &source_branch&target_branch&order_by=created_at|
                                             updated_at&sort=desc|asc&per_page&page
    POST /projects/:id/merge_requests        {source_branch, target_branch, title,
                                             description, labels, remove_source_branch}
    GET  /projects/:id/merge_requests/:iid
    PUT  /projects/:id/merge_requests/:iid   {title, description, target_branch, labels,
                                             add_labels, remove_labels, state_event}
    GET  /projects/:id/merge_requests/:iid/notes
    POST /projects/:id/merge_requests/:iid/notes   {body}
    GET  /projects/:id/issues                ?state=opened|closed|all&labels&search&in=title
    POST /projects/:id/issues                {title, description, labels}
    GET  /projects/:id/issues/:iid
    PUT  /projects/:id/issues/:iid           {title, description, labels, add_labels,
                                             remove_labels, state_event}
    GET  /projects/:id/labels, /labels/:name
    POST /projects/:id/labels                {name, color, description}

What it refuses, as GitLab does:
    401 {"message": "401 Unauthorized"} without a token or with another one; 403
    {"message": "403 Forbidden"} for a write with the Reporter token; 404 "404 Project Not
    Found" for a project that was not declared, "404 Not found" for an unknown merge request,
    issue or label; 400 {"error": "title is missing"} for a missing parameter; 400
    {"message": {"source_branch": ["does not exist"]}} (or target_branch) for a branch that
    is not in the bare repository; 422 for the same branch as source and target; 409
    {"message": ["Another open merge request already exists for this source branch: !N"]};
    400 for a description over 1,000,000 characters; 400 {"message": {"color": ["must be a
    valid color code"]}} for a label colour that is not #RGB, #RRGGBB or a CSS colour name;
    409 "Label already exists".

Pagination: per_page (default 20) honoured up to 100; `Link` with next/prev/first/last and
X-Page, X-Per-Page, X-Next-Page (empty on the last page), X-Prev-Page, X-Total,
X-Total-Pages.

Merge request fields: id, iid, project_id, title, description, state, created_at,
updated_at, merged_at, closed_at, source_branch, target_branch, source_project_id,
target_project_id, labels (names), draft and work_in_progress (from a "Draft:", "[Draft]"
or "(Draft)" title prefix), web_url, author. A seeded pull request with "fork": true comes
from another project.
"""

import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import forgestub as fs  # noqa: E402

DESCRIPTION_MAX = 1000000
COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
CSS_COLORS = {"red", "green", "blue", "black", "white", "gray", "grey", "orange", "purple",
              "yellow", "pink", "brown", "navy", "teal", "maroon", "olive", "silver", "lime"}
DRAFT = re.compile(r"^\s*(\[draft\]|\(draft\)|draft:|draft\s-\s|draft\s|draft$)", re.I)
DEVELOPER, REPORTER = 30, 20


class State(fs.BaseState):
    def reset(self):
        super().reset()
        self.repos = {}
        for i, name in enumerate(self.refs):
            self.repos[name] = {"id": 100 + i, "path": name, "next_mr": 1, "next_issue": 1,
                                "mrs": {}, "issues": {}, "labels": {}, "notes": {}}
        self.next_id = 1


def validation(field, message):
    return {"message": {field: [message]}}


class Handler(fs.BaseHandler):
    server_version = "glstub/1"
    auth_header = "PRIVATE-TOKEN"
    default_per_page = 20

    def token_of(self):
        v = self.headers.get("PRIVATE-TOKEN")
        if v is not None:
            return v
        v = self.headers.get("Authorization")
        if v is None:
            return None
        return v[len("Bearer "):] if v.startswith("Bearer ") else False

    def ratelimit_headers(self, remaining, reset):
        return {"RateLimit-Remaining": str(remaining), "RateLimit-Reset": str(reset),
                "RateLimit-Limit": "600"}

    def refuse(self, status, what="Project"):
        messages = {401: "401 Unauthorized", 403: "403 Forbidden",
                    404: "404 %s Not Found" % what if what == "Project" else "404 Not found"}
        return self.send(status, {"message": messages[status]})

    def backend_fault(self, kind, path, body):
        return self.send(500, {"message": "stub: unknown fault kind %r" % kind})

    # --- model -> API -----------------------------------------------------------------------

    def project_url(self, repo):
        return "%s/%s" % (self.base_url(), repo["path"])

    def mr_json(self, repo, mr):
        draft = bool(DRAFT.match(mr["title"]))
        return {
            "id": mr["id"], "iid": mr["iid"], "project_id": repo["id"],
            "title": mr["title"], "description": mr["description"], "state": mr["state"],
            "created_at": fs.iso(mr["created_at"]), "updated_at": fs.iso(mr["updated_at"]),
            "merged_at": fs.iso(mr["merged_at"]) if mr["merged_at"] else None,
            "closed_at": fs.iso(mr["closed_at"]) if mr["closed_at"] else None,
            "source_branch": mr["source_branch"], "target_branch": mr["target_branch"],
            "source_project_id": mr["source_project_id"], "target_project_id": repo["id"],
            "labels": list(mr["labels"]), "draft": draft, "work_in_progress": draft,
            "web_url": "%s/-/merge_requests/%d" % (self.project_url(repo), mr["iid"]),
            "author": {"username": "dockerbump-bot"},
        }

    def issue_json(self, repo, it):
        return {
            "id": it["id"], "iid": it["iid"], "project_id": repo["id"], "title": it["title"],
            "description": it["description"], "state": it["state"],
            "created_at": fs.iso(it["created_at"]), "updated_at": fs.iso(it["updated_at"]),
            "closed_at": fs.iso(it["closed_at"]) if it["closed_at"] else None,
            "labels": list(it["labels"]),
            "web_url": "%s/-/issues/%d" % (self.project_url(repo), it["iid"]),
        }

    def label_json(self, repo, name):
        lab = repo["labels"][name.lower()]
        return {"id": lab["id"], "name": lab["name"], "color": lab["color"],
                "description": lab["description"]}

    # --- the API ----------------------------------------------------------------------------

    def api(self, path, query, body):
        if self.authorize(write=False):
            return None
        f = self.take_fault(path)
        if f:
            return self.fault(f, path, body)
        # The raw path keeps %2F: a project path is one segment.
        m = re.fullmatch(r"/projects/([^/]+)(/.*)?", path)
        repo = self.find_project(m.group(1)) if m else None
        if not repo:
            return self.refuse(404)
        if self.command != "GET" and self.authorize(write=True):
            return None
        with fs.LOCK:
            return self.project_api(repo, m.group(2) or "", query, body, path)

    def find_project(self, ident):
        ident = urllib.parse.unquote(ident)
        for repo in fs.STATE.repos.values():
            if repo["path"] == ident or str(repo["id"]) == ident:
                return repo
        return None

    def listing(self, path, query, items):
        page_items, page, last, per_page = fs.paginate(items, query, self.default_per_page)
        headers = {"X-Page": str(page), "X-Per-Page": str(per_page),
                   "X-Next-Page": str(page + 1) if page < last else "",
                   "X-Prev-Page": str(page - 1) if page > 1 else "",
                   "X-Total": str(len(items)), "X-Total-Pages": str(last)}
        links = self.page_links(path, query, page, last)
        if links:
            headers["Link"] = links
        return self.send(200, page_items, headers)

    def project_api(self, repo, rest, query, body, path):
        if rest == "" and self.command == "GET":
            level = DEVELOPER if self.token_of() == fs.STATE.token else REPORTER
            return self.send(200, {
                "id": repo["id"], "path_with_namespace": repo["path"],
                "default_branch": fs.STATE.refs[repo["path"]].default_branch(),
                "web_url": self.project_url(repo),
                "permissions": {"project_access": {"access_level": level,
                                                   "notification_level": 3},
                                "group_access": None}})
        if rest == "/merge_requests" and self.command == "GET":
            return self.listing(path, query, self.mr_list(repo, query))
        if rest == "/merge_requests" and self.command == "POST":
            return self.create_mr(repo, body)
        m = re.fullmatch(r"/merge_requests/(\d+)(/notes)?", rest)
        if m:
            mr = repo["mrs"].get(int(m.group(1)))
            if not mr:
                return self.refuse(404, "Merge Request")
            if m.group(2):
                return self.notes(repo, ("mr", mr["iid"]), mr, query, body, path)
            if self.command == "GET":
                return self.send(200, self.mr_json(repo, mr))
            if self.command == "PUT":
                return self.edit_mr(repo, mr, body)
        if rest == "/issues" and self.command == "GET":
            return self.listing(path, query, self.issue_list(repo, query))
        if rest == "/issues" and self.command == "POST":
            return self.create_issue(repo, body)
        m = re.fullmatch(r"/issues/(\d+)", rest)
        if m:
            it = repo["issues"].get(int(m.group(1)))
            if not it:
                return self.refuse(404, "Issue")
            if self.command == "GET":
                return self.send(200, self.issue_json(repo, it))
            if self.command == "PUT":
                return self.edit_issue(repo, it, body)
        if rest == "/labels" and self.command == "GET":
            return self.listing(path, query, [self.label_json(repo, n) for n in repo["labels"]])
        if rest == "/labels" and self.command == "POST":
            return self.create_label(repo, body)
        m = re.fullmatch(r"/labels/([^/]+)", rest)
        if m and self.command == "GET":
            name = urllib.parse.unquote(m.group(1))
            for lab in repo["labels"].values():
                if lab["name"].lower() == name.lower() or str(lab["id"]) == name:
                    return self.send(200, self.label_json(repo, lab["name"]))
            return self.refuse(404, "Label")
        return self.send(404, {"error": "404 Not Found"})

    def filter_labels(self, items, query):
        wanted = [w.lower() for w in parse_labels(query.get("labels", [None])[0])]
        return [x for x in items if all(w in {n.lower() for n in x["labels"]} for w in wanted)]

    def ordered(self, items, query):
        key = "updated_at" if query.get("order_by", ["created_at"])[0] == "updated_at" \
            else "created_at"
        newest = query.get("sort", ["desc"])[0] != "asc"
        return sorted(items, key=lambda x: (x[key], x["iid"]), reverse=newest)

    def mr_list(self, repo, query):
        state = query.get("state", ["all"])[0]
        src = query.get("source_branch", [None])[0]
        dst = query.get("target_branch", [None])[0]
        items = [mr for mr in repo["mrs"].values()
                 if (state == "all" or mr["state"] == state)
                 and (src is None or mr["source_branch"] == src)
                 and (dst is None or mr["target_branch"] == dst)]
        items = self.ordered(self.filter_labels(items, query), query)
        return [self.mr_json(repo, mr) for mr in items]

    def issue_list(self, repo, query):
        state = query.get("state", ["all"])[0]
        search = (query.get("search", [""])[0] or "").lower()
        items = [it for it in repo["issues"].values()
                 if (state == "all" or it["state"] == state)
                 and (not search or search in it["title"].lower()
                      or search in (it["description"] or "").lower())]
        items = self.ordered(self.filter_labels(items, query), query)
        return [self.issue_json(repo, it) for it in items]

    def missing(self, body, keys):
        if not isinstance(body, dict):
            return self.send(400, {"error": "%s is missing" % keys[0]})
        for k in keys:
            if not body.get(k):
                return self.send(400, {"error": "%s is missing" % k})
        return None

    def create_mr(self, repo, body):
        if self.missing(body, ["source_branch", "target_branch", "title"]) is not None:
            return None
        src, dst = body["source_branch"], body["target_branch"]
        if src == dst:
            return self.send(422, {"message": [
                "You can't use same project/branch for source and target"]})
        for field, branch in (("source_branch", src), ("target_branch", dst)):
            if not self.branch_exists(repo["path"], branch):
                return self.send(400, validation(field, "does not exist"))
        if len(body.get("description") or "") > DESCRIPTION_MAX:
            return self.send(400, validation("description",
                                             "is too long (maximum is 1000000 characters)"))
        for mr in repo["mrs"].values():
            if (mr["state"] == "opened" and mr["source_branch"] == src
                    and mr["target_branch"] == dst):
                return self.send(409, {"message": [
                    "Another open merge request already exists for this source branch: !%d"
                    % mr["iid"]]})
        mr = new_mr(repo, body)
        return self.send(201, self.mr_json(repo, mr))

    def edit_common(self, repo, x, body, description_key="description"):
        """Title, description and labels of an issue or merge request; an error answer, or
        None."""
        if not isinstance(body, dict):
            return self.send(400, {"error": "400 Bad request"})
        if len(body.get(description_key) or "") > DESCRIPTION_MAX:
            return self.send(400, validation(description_key,
                                             "is too long (maximum is 1000000 characters)"))
        if "state_event" in body and body["state_event"] not in ("close", "reopen"):
            return self.send(400, {"error": "state_event does not have a valid value"})
        if "title" in body:
            x["title"] = body["title"]
        if description_key in body:
            x["description"] = body[description_key]
        if "labels" in body:
            x["labels"] = []
            add_labels(repo, x, parse_labels(body["labels"]))
        add_labels(repo, x, parse_labels(body.get("add_labels")))
        gone = {n.lower() for n in parse_labels(body.get("remove_labels"))}
        x["labels"] = [n for n in x["labels"] if n.lower() not in gone]
        return None

    def set_state(self, x, event):
        now = fs.STATE.now()
        if event == "close" and x["state"] == "opened":
            x["state"] = "closed"
            x["closed_at"] = now
        elif event == "reopen" and x["state"] == "closed":
            x["state"] = "opened"
            x["closed_at"] = None
        x["updated_at"] = now

    def edit_mr(self, repo, mr, body):
        if isinstance(body, dict) and "target_branch" in body:
            if not self.branch_exists(repo["path"], body["target_branch"]):
                return self.send(400, validation("target_branch", "does not exist"))
        if self.edit_common(repo, mr, body) is not None:
            return None
        if "target_branch" in body:
            mr["target_branch"] = body["target_branch"]
        if mr["state"] != "merged":
            self.set_state(mr, body.get("state_event"))
        mr["updated_at"] = fs.STATE.now()
        return self.send(200, self.mr_json(repo, mr))

    def create_issue(self, repo, body):
        if self.missing(body, ["title"]) is not None:
            return None
        if len(body.get("description") or "") > DESCRIPTION_MAX:
            return self.send(400, validation("description",
                                             "is too long (maximum is 1000000 characters)"))
        it = new_issue(repo, body, parse_labels(body.get("labels")))
        return self.send(201, self.issue_json(repo, it))

    def edit_issue(self, repo, it, body):
        if self.edit_common(repo, it, body) is not None:
            return None
        self.set_state(it, body.get("state_event"))
        return self.send(200, self.issue_json(repo, it))

    def notes(self, repo, key, x, query, body, path):
        if self.command == "GET":
            return self.listing(path, query, repo["notes"].get(key, []))
        if self.command != "POST":
            return self.send(405, {"message": "405 Method Not Allowed"})
        if self.missing(body, ["body"]) is not None:
            return None
        note = {"id": fs.STATE.next_id, "body": body["body"],
                "created_at": fs.iso(fs.STATE.now()), "author": {"username": "dockerbump-bot"}}
        fs.STATE.next_id += 1
        repo["notes"].setdefault(key, []).append(note)
        x["updated_at"] = fs.STATE.now()
        return self.send(201, note)

    def create_label(self, repo, body):
        if self.missing(body, ["name", "color"]) is not None:
            return None
        color = body["color"]
        if not isinstance(color, str) or not (COLOR.fullmatch(color)
                                              or color.lower() in CSS_COLORS):
            return self.send(400, validation("color", "must be a valid color code"))
        if body["name"].lower() in repo["labels"]:
            return self.send(409, {"message": "Label already exists"})
        make_label(repo, body["name"], color, body.get("description"))
        return self.send(201, self.label_json(repo, body["name"]))

    # --- the harness ------------------------------------------------------------------------

    def dump_state(self):
        out = {}
        for path, repo in fs.STATE.repos.items():
            out[path] = {
                "merge_requests": [self.mr_json(repo, repo["mrs"][i]) for i in sorted(repo["mrs"])],
                "issues": [self.issue_json(repo, repo["issues"][i])
                           for i in sorted(repo["issues"])],
                "labels": [self.label_json(repo, n) for n in repo["labels"]],
                "notes": {"%s!%d" % k: v for k, v in repo["notes"].items()},
            }
        return {"projects": out}

    def seed(self, path, body):
        repo = fs.STATE.repos[path]
        made = []
        for spec in body.get("pulls", body.get("merge_requests", [])):
            mr = new_mr(repo, {"source_branch": spec.get("head", spec.get("source_branch")),
                               "target_branch": spec.get("base", spec.get("target_branch",
                                                                          "main")),
                               "title": spec.get("title", ""),
                               "description": spec.get("body", spec.get("description")),
                               "labels": spec.get("labels", [])})
            if spec.get("fork"):
                mr["source_project_id"] = repo["id"] + 1000
            for k in ("created_at", "updated_at"):
                if spec.get(k):
                    mr[k] = int(spec[k])
            state = spec.get("state", "open")
            if state in ("closed", "merged"):
                mr["state"] = state
                when = int(spec.get("merged_at") or spec.get("closed_at") or mr["created_at"])
                mr["closed_at" if state == "closed" else "merged_at"] = when
            made.append(mr["iid"])
        for spec in body.get("issues", []):
            it = new_issue(repo, {"title": spec.get("title", ""),
                                  "description": spec.get("body", spec.get("description"))},
                           spec.get("labels", []))
            if spec.get("state") == "closed":
                it["state"] = "closed"
                it["closed_at"] = it["created_at"]
            made.append(it["iid"])
        return {"numbers": made}

    def harness_act(self, what, path, body):
        repo = fs.STATE.repos[path]
        mr = repo["mrs"].get(int(body.get("number", body.get("iid", 0))))
        if not mr:
            return None
        now = fs.STATE.now()
        if what == "merge":
            mr["state"] = "merged"
            mr["merged_at"] = int(body.get("merged_at") or now)
            mr["updated_at"] = mr["merged_at"]
        elif what == "close":
            mr["state"] = "closed"
            mr["closed_at"] = int(body.get("closed_at") or now)
            mr["updated_at"] = mr["closed_at"]
        elif what == "labels":
            add_labels(repo, mr, body.get("add", []))
            gone = {n.lower() for n in body.get("remove", [])}
            mr["labels"] = [n for n in mr["labels"] if n.lower() not in gone]
        return self.mr_json(repo, mr)


def parse_labels(value):
    """GitLab takes labels as "a,b" or as a list."""
    if value is None:
        return []
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str) and v.strip()]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def make_label(repo, name, color, description):
    repo["labels"][name.lower()] = {"id": fs.STATE.next_id, "name": name, "color": color,
                                    "description": description}
    fs.STATE.next_id += 1


def add_labels(repo, x, names):
    for name in names:
        if name.lower() not in repo["labels"]:
            # GitLab creates a label it does not know.
            make_label(repo, name, "#6699cc", None)
        if all(n.lower() != name.lower() for n in x["labels"]):
            x["labels"].append(repo["labels"][name.lower()]["name"])


def new_mr(repo, body):
    now = fs.STATE.now()
    mr = {"id": fs.STATE.next_id, "iid": repo["next_mr"], "title": body["title"],
          "description": body.get("description"), "state": "opened", "created_at": now,
          "updated_at": now, "merged_at": None, "closed_at": None,
          "source_branch": body["source_branch"], "target_branch": body["target_branch"],
          "source_project_id": repo["id"], "labels": []}
    fs.STATE.next_id += 1
    repo["next_mr"] += 1
    add_labels(repo, mr, parse_labels(body.get("labels")))
    repo["mrs"][mr["iid"]] = mr
    return mr


def new_issue(repo, body, labels):
    now = fs.STATE.now()
    it = {"id": fs.STATE.next_id, "iid": repo["next_issue"], "title": body["title"],
          "description": body.get("description"), "state": "opened", "created_at": now,
          "updated_at": now, "closed_at": None, "labels": []}
    fs.STATE.next_id += 1
    repo["next_issue"] += 1
    add_labels(repo, it, labels)
    repo["issues"][it["iid"]] = it
    return it


if __name__ == "__main__":
    fs.main("glstub", Handler, State, "GITLAB_TOKEN", "GITLAB_READ_TOKEN")
