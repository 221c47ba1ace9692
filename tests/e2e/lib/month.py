"""A month of nights (tests/e2e/lib/month.bash): the maintainers' days and the checks of
every night, against the GitHub or the GitLab stand-in and a bare remote.

    month.py CONTEXT.json setup                 the canary packs, the first tags
    month.py CONTEXT.json day N                 the day before night N: merges, closes, hand
                                                edits, a moving base, new tags
    month.py CONTEXT.json check N               every invariant after night N's matrix
    month.py CONTEXT.json refs                  the remote's refs, one per line (for the
                                                quiet rerun)
    month.py CONTEXT.json quiet N REFS SINCE    the rerun of night N wrote nothing
    month.py CONTEXT.json summary               what the month must have shown

The context (written by month.bash) names the forge, the stand-ins' URLs, the remote, the
maintainer's clone, the config values and the journal, where facts are kept from one call to
the next. Everything random comes from random.Random seeded with the seed and the night, and
the order of every merge is printed, so a failing night can be replayed.
"""

import json
import os
import random
import re
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone

LIST_STATUSES = {"waiting", "declined", "verify-failed", "unparseable", "error"}
DASHBOARD_SECTIONS = {"Blocked by verification": "verify-failed", "Errors": "error",
                      "Declined": "declined", "Unparseable": "unparseable",
                      "Waiting": "waiting"}
IMAGE_LINE = re.compile(r"^(\s*)dockerimage:\s*(['\"]?)([a-z0-9][a-z0-9._/-]*):([A-Za-z0-9_][A-Za-z0-9_.-]*)")
MARKER = re.compile(r"<!-- dockerbump:v1 (\{.*?\}) -->", re.S)


class Failure(Exception):
    pass


def fail(msg):
    raise Failure(msg)


# --- plumbing -------------------------------------------------------------------------------

def http(url, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="GET" if body is None else "POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


def git(*args, cwd=None, check=True):
    r = subprocess.run(["git"] + list(args), cwd=cwd, capture_output=True, text=True,
                       timeout=120)
    if check and r.returncode:
        fail("git %s: %s%s" % (" ".join(args), r.stdout, r.stderr))
    return r


def rgit(ctx, *args, check=True):
    """git on the bare remote."""
    return git("--git-dir", ctx["remote"], *args, check=check)


def epoch(iso):
    if not iso:
        return 0
    return int(datetime.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=timezone.utc).timestamp())


def tagkey(tag):
    """Numeric tags compare by build number, the last component (the SDK's rule), then the
    version, every component as a number; anything else is older than all."""
    if tag and re.fullmatch(r"\d+(\.\d+)+", tag):
        parts = [int(x) for x in tag.split(".")]
        return (1, parts[-1], parts[:-1])
    return (0, 0, [])


def fnv(name):
    h = 2166136261
    for c in name.encode():
        h = ((h ^ c) * 16777619) & 0xffffffff
    return h


def group_of(ctx, pack):
    if pack in ctx["canary_packs"]:
        return "canary"
    return str(fnv(pack) % ctx["groups"])


def branch_group(ctx, branch):
    rest = branch[len(ctx["prefix"]):]
    if rest == "canary":
        return "canary"
    m = re.fullmatch(r"group-(\d+)", rest)
    return m.group(1) if m else None


def shard_of_group(ctx, g):
    return 1 if g in (None, "canary") else int(g) % ctx["shards"] + 1


def night_time(ctx, n):
    return ctx["t0"] + n * 86400


def load_journal(ctx):
    if os.path.exists(ctx["journal"]):
        with open(ctx["journal"]) as f:
            return json.load(f)
    return {"merged": [], "closed": [], "bot_closed": [], "declined_seen": [],
            "released_seen": [], "edits": [],
            "tags": {}, "known_closed": [], "nights": [], "skipped_released": []}


def save_journal(ctx, j):
    tmp = ctx["journal"] + ".tmp"
    with open(tmp, "w") as f:
        json.dump(j, f, indent=1, sort_keys=True)
    os.replace(tmp, ctx["journal"])


# --- the forge, as one shape for both stand-ins ---------------------------------------------

def forge_state(ctx):
    s = http(ctx["forge_url"] + "/_stub/state")
    prs, issues, comments = [], [], {}
    if ctx["forge"] == "github":
        r = s["repos"][ctx["repo"]]
        for p in r["pulls"]:
            prs.append({"number": p["number"], "head": p["head"]["ref"], "base": p["base"]["ref"],
                        "state": "merged" if p["merged_at"] else p["state"],
                        "merged_at": epoch(p["merged_at"]), "closed_at": epoch(p["closed_at"]),
                        "labels": [x["name"] for x in p["labels"]], "title": p["title"],
                        "body": p["body"] or "", "draft": p.get("draft", False)})
        for i in r["issues"]:
            issues.append({"number": i["number"], "title": i["title"], "body": i["body"] or "",
                           "state": i["state"], "labels": [x["name"] for x in i["labels"]]})
        for n, cs in r["comments"].items():
            comments[int(n)] = [c["body"] for c in cs]
    else:
        r = s["projects"][ctx["repo"]]
        for m in r["merge_requests"]:
            prs.append({"number": m["iid"], "head": m["source_branch"],
                        "base": m["target_branch"],
                        "state": {"opened": "open"}.get(m["state"], m["state"]),
                        "merged_at": epoch(m["merged_at"]), "closed_at": epoch(m["closed_at"]),
                        "labels": list(m["labels"]), "title": m["title"],
                        "body": m["description"] or "", "draft": m["draft"]})
        for i in r["issues"]:
            issues.append({"number": i["iid"], "title": i["title"],
                           "body": i["description"] or "",
                           "state": {"opened": "open"}.get(i["state"], i["state"]),
                           "labels": list(i["labels"])})
        for k, notes in r["notes"].items():
            kind, _, n = k.partition("!")
            if kind == "mr":
                comments[int(n)] = [x["body"] for x in notes]
    bot = [p for p in prs if ctx["label"] in p["labels"] and p["head"].startswith(ctx["prefix"])]
    return {"prs": bot, "all_prs": prs, "issues": issues, "comments": comments}


def marker(body):
    """The image:tag pairs a pull request's marker says it carries, and its group."""
    found = MARKER.findall(body)
    if not found:
        fail("a bot pull request without a marker: %r" % body[-300:])
    m = json.loads(found[-1])
    pairs = set()
    for image, tags in m["images"].items():
        for t in tags if isinstance(tags, list) else [tags]:
            pairs.add((image, t))
    return m, pairs


def harness_act(ctx, what, number, when):
    key = "merged_at" if what == "merge" else "closed_at"
    http(ctx["forge_url"] + "/_stub/" + what, {"repo": ctx["repo"], "number": number, key: when})


# --- the maintainer's day --------------------------------------------------------------------

def human(ctx, *args, check=True):
    return git(*args, cwd=ctx["human"], check=check)


def human_sync(ctx):
    human(ctx, "fetch", "-q", "--prune", "origin")
    human(ctx, "checkout", "-q", "-B", "main", "origin/main")


def human_commit(ctx, msg, when):
    env_date = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))
    human(ctx, "add", "-A")
    human(ctx, "-c", "user.name=maintainer", "-c", "user.email=maintainer@example.invalid",
          "commit", "-q", "--date", env_date, "-m", msg)
    human(ctx, "push", "-q", "origin", "main")


def pack_items(ctx, pack):
    """The YAML files of a pack in the maintainer's clone."""
    root = os.path.join(ctx["human"], "Packs", pack)
    out = []
    for d, _, files in os.walk(root):
        for f in sorted(files):
            if f.endswith(".yml") and ("/Integrations" in d or "/Scripts" in d):
                out.append(os.path.join(d, f))
    return sorted(out)


def open_pr_packs(ctx, st):
    """pack -> the open bot pull request whose branch carries it."""
    out = {}
    for p in st["prs"]:
        if p["state"] != "open":
            continue
        for path in changed_paths(ctx, "main", p["head"]):
            m = re.match(r"Packs/([^/]+)/", path)
            if m:
                out[m.group(1)] = p
    return out


def changed_paths(ctx, base, head):
    r = rgit(ctx, "diff", "--name-only", "refs/heads/%s" % base, "refs/heads/%s" % head,
             check=False)
    return [x for x in r.stdout.splitlines() if x]


def pending_packs(ctx, night):
    """Packs with items of the previous night's reports that were bumped or waiting."""
    out = set()
    for k in range(1, ctx["shards"] + 1):
        path = os.path.join(ctx["reports"], "n%d" % (night - 1), "s%d.json" % k)
        if not os.path.exists(path):
            continue
        with open(path) as f:
            rep = json.load(f)
        for it in rep["items"]:
            if it["status"] in ("bumped", "waiting") and it.get("pack"):
                out.add(it["pack"])
    return out


def day(ctx, night):
    """What happens between night-1 and night: the maintainers merge or close some pull
    requests, edit packs by hand, the base moves, and new tags appear."""
    j = load_journal(ctx)
    rng = random.Random("%s-day-%d" % (ctx["seed"], night))
    now = night_time(ctx, night)
    noon = now - 12 * 3600
    st = forge_state(ctx)
    human_sync(ctx)
    sched = ctx["schedule"]
    log = []

    # 1. Reviews. The canary is merged the day after it opens; the others at random; on a
    # few days one is closed unmerged instead.
    # (by branch: the numbers depend on which shard wrote first)
    opened = sorted((p for p in st["prs"] if p["state"] == "open"), key=lambda p: p["head"])
    close_today = night in sched["close"]
    for p in opened:
        canary = p["head"] == ctx["prefix"] + "canary"
        _, carried = marker(p["body"])
        if close_today and not canary:
            harness_act(ctx, "close", p["number"], noon)
            j["closed"].append({"night": night, "number": p["number"], "head": p["head"],
                                "group": branch_group(ctx, p["head"]),
                                "carried": sorted(carried), "at": noon})
            log.append("closed #%d (%s) unmerged" % (p["number"], p["head"]))
            close_today = False
            continue
        if not canary and rng.random() >= ctx["merge_rate"]:
            continue
        r = human(ctx, "merge", "-q", "--no-ff", "-m", "Merge pull request #%d" % p["number"],
                  "origin/" + p["head"], check=False)
        if r.returncode:
            fail("night %d: the maintainer cannot merge #%d (%s): %s%s" % (
                night, p["number"], p["head"], r.stdout, r.stderr))
        human(ctx, "push", "-q", "origin", "main")
        if rng.random() < 0.5:  # "delete branch on merge", on some days
            human(ctx, "push", "-q", "origin", "--delete", p["head"])
        harness_act(ctx, "merge", p["number"], noon)
        j["merged"].append({"night": night, "number": p["number"], "head": p["head"],
                            "carried": sorted(carried), "at": noon})
        log.append("merged #%d (%s)" % (p["number"], p["head"]))
    human(ctx, "fetch", "-q", "--prune", "origin")

    # 2. Hand edits, on the packs the bot is working on.
    st = forge_state(ctx)
    on_prs = open_pr_packs(ctx, st)
    pending = sorted(pending_packs(ctx, night) - set(ctx["canary_packs"]))
    edit = sched["edits"].get(str(night))
    if edit:
        log.append(hand_edit(ctx, j, night, edit, on_prs, pending, rng, noon))

    # 3. The base moves every day.
    notes = os.path.join(ctx["human"], "Docs", "nightly.md")
    os.makedirs(os.path.dirname(notes), exist_ok=True)
    with open(notes, "a") as f:
        f.write("Day %d: the maintainers were here.\n" % night)
    human_commit(ctx, "Docs: day %d" % night, noon + 3600)

    # 4. New tags.
    for image, count in sched["tags"].get(str(night), {}).items():
        add_tags(ctx, j, image, count, now - 10 * 3600)
        log.append("%d new tag%s of %s" % (count, "" if count == 1 else "s", image))
    save_journal(ctx, j)
    print("day %d: %s" % (night, "; ".join(log) or "nothing but the base moving"))


def hand_edit(ctx, j, night, kind, on_prs, pending, rng, when):
    # Prefer a pack that is on an open pull request alone (its group then has nothing left:
    # the bot must close it), then any pack on a pull request, then any pending pack.
    by_head = {}
    for pack, p in on_prs.items():
        by_head.setdefault(p["head"], []).append(pack)
    alone = sorted(ps[0] for ps in by_head.values() if len(ps) == 1
                   and ps[0] not in ctx["canary_packs"])
    shared = sorted(p for p in on_prs if p not in ctx["canary_packs"])
    choice = (alone or shared or pending)
    if kind == "add":
        choice = pending or shared
    if not choice:
        return "no pack to %s" % kind
    pack = rng.choice(choice)
    if kind == "bump":
        head = on_prs[pack]["head"] if pack in on_prs else None
        if head:
            # The maintainer takes the pack's YAML files from the bot's branch by hand,
            # without the release note.
            files = [p for p in changed_paths(ctx, "main", head)
                     if p.startswith("Packs/%s/" % pack) and p.endswith(".yml")]
            human(ctx, "checkout", "origin/" + head, "--", *files)
        else:
            bump_by_hand(ctx, pack)
        human_commit(ctx, "%s: Docker images bumped by hand" % pack, when)
    elif kind == "add":
        src = os.path.join(ctx["human"], "Packs", pack)
        name = "Month%s%d" % (re.sub(r"[^A-Za-z0-9]", "", pack), night)
        dst = os.path.join(ctx["human"], "Packs", name)
        subprocess.run(["cp", "-a", src, dst], check=True)
        meta = os.path.join(dst, "pack_metadata.json")
        if os.path.exists(meta):
            with open(meta) as f:
                text = f.read()
            with open(meta, "w") as f:
                f.write(text.replace('"name": "%s"' % pack, '"name": "%s"' % name, 1))
        human_commit(ctx, "%s: a new pack" % name, when)
        pack = name
    elif kind == "delete":
        human(ctx, "rm", "-r", "-q", "Packs/" + pack)
        human_commit(ctx, "%s: removed" % pack, when)
    elif kind == "optout":
        for path in pack_items(ctx, pack):
            opt_out(path)
        human_commit(ctx, "%s: autoUpdateDockerImage: false" % pack, when)
    j["edits"].append({"night": night, "kind": kind, "pack": pack,
                       "on_pr": on_prs[pack]["number"] if pack in on_prs else None,
                       "group": group_of(ctx, pack)})
    return "%s pack %s%s" % (kind, pack, " (on #%d)" % on_prs[pack]["number"]
                             if pack in on_prs else "")


def bump_by_hand(ctx, pack):
    """Every default-image item of the pack to the newest tag of its image."""
    newest = {}
    for image, tags in ctx["tags_now"].items():
        numeric = [t for t in tags if tagkey(t)[0]]
        if numeric:
            newest[image] = max(numeric, key=tagkey)
    for path in pack_items(ctx, pack):
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "surrogateescape").split("\n")
        for i, line in enumerate(lines):
            m = IMAGE_LINE.match(line)
            if m and m.group(3) in newest:
                lines[i] = line.replace("%s:%s" % (m.group(3), m.group(4)),
                                        "%s:%s" % (m.group(3), newest[m.group(3)]), 1)
        with open(path, "wb") as f:
            f.write("\n".join(lines).encode("utf-8", "surrogateescape"))


def opt_out(path):
    """A top-level `autoUpdateDockerImage: false` (bytes: some files are not UTF-8)."""
    with open(path, "rb") as f:
        text = f.read()
    flag = re.compile(rb"^autoUpdateDockerImage:[^\r\n]*", re.M)
    if flag.search(text):
        text = flag.sub(b"autoUpdateDockerImage: false", text)
    else:
        if text and not text.endswith(b"\n"):
            text += b"\n"
        text += b"autoUpdateDockerImage: false\n"
    with open(path, "wb") as f:
        f.write(text)


def add_tags(ctx, j, image, count, when):
    """`count` newer tags of `image`, the last one the newest build, published at `when`."""
    tags = http(ctx["hub_url"] + "/_control/tags?image=" + image)
    numeric = [t["name"] for t in tags if tagkey(t["name"])[0]]
    best = max(numeric, key=tagkey)
    parts = best.split(".")
    build = int(parts[-1])
    new = []
    for i in range(count):
        build += 1000 + i
        new.append(".".join(parts[:-1] + [str(build)]))
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))
    keep = [{"name": t["name"], "last_updated": t["last_updated"]} for t in tags]
    keep += [{"name": n, "last_updated": stamp} for n in new]
    http(ctx["hub_url"] + "/_control/set", {"image": image, "tags": keep})
    j["tags"].setdefault(image, []).extend({"name": n, "at": when} for n in new)


# --- the checks of a night --------------------------------------------------------------------

def blob(ctx, ref, path):
    r = rgit(ctx, "cat-file", "blob", "%s:%s" % (ref, path), check=False)
    return r.stdout if r.returncode == 0 else None


def check_yaml_bump(ctx, base, head, path):
    """The one change a bot may make to an item: the tag of `dockerimage` to a newer one,
    and perhaps a new `dockerimage45` line. Returns (image, old, new)."""
    old = blob(ctx, base, path)
    new = blob(ctx, head, path)
    if old is None or new is None:
        fail("'%s' is added or removed by '%s'" % (path, head))
    o, n = old.split("\n"), new.split("\n")
    if len(n) == len(o) + 1:
        # A new dockerimage45 line, right after the dockerimage line.
        for i in range(1, len(n)):
            rest = n[:i] + n[i + 1:]
            if "dockerimage45:" in n[i] and IMAGE_LINE.match(n[i - 1]) and \
                    sum(x != y for x, y in zip(rest, o)) == 1:
                n = rest
                break
    if len(n) != len(o):
        fail("'%s' on '%s': lines added or removed beyond a dockerimage45 line" % (path, head))
    diff = [i for i in range(len(o)) if o[i] != n[i]]
    if len(diff) != 1:
        fail("'%s' on '%s': %d lines differ from the base, want 1" % (path, head, len(diff)))
    a, b = IMAGE_LINE.match(o[diff[0]]), IMAGE_LINE.match(n[diff[0]])
    if not a or not b or a.group(3) != b.group(3):
        fail("'%s' on '%s': a change that is no tag bump: %r -> %r" % (path, head, o[diff[0]],
                                                                         n[diff[0]]))
    if o[diff[0]].replace(":" + a.group(4), ":" + b.group(4), 1) != n[diff[0]]:
        fail("'%s' on '%s': more than the tag changed on %r" % (path, head, n[diff[0]]))
    if tagkey(b.group(4)) <= tagkey(a.group(4)):
        fail("'%s' on '%s': %s is not newer than %s (not pending)" % (path, head, b.group(4),
                                                                      a.group(4)))
    return a.group(3), a.group(4), b.group(4)


def check_branch(ctx, pr, base_oid):
    """An open pull request's branch: one commit on the current base, changing only bumps,
    the pack's version and its release note. Returns the packs and the image:tag pairs."""
    head = pr["head"]
    r = rgit(ctx, "rev-parse", "-q", "--verify", "refs/heads/%s^{commit}" % head, check=False)
    if r.returncode:
        fail("open #%d: its branch '%s' is not on the remote" % (pr["number"], head))
    parents = rgit(ctx, "rev-list", "--parents", "-n", "1", "refs/heads/" + head).stdout.split()
    if parents[1:] != [base_oid]:
        fail("open #%d ('%s') is not one commit on the current base %s: parents %s" % (
            pr["number"], head, base_oid[:12], [p[:12] for p in parents[1:]]))
    packs, pairs = set(), set()
    status = rgit(ctx, "diff", "--name-status", "--no-renames", base_oid,
                  "refs/heads/" + head).stdout.splitlines()
    if not status:
        fail("open #%d ('%s') changes nothing" % (pr["number"], head))
    for line in status:
        st, path = line.split("\t", 1)
        m = re.match(r"Packs/([^/]+)/(.*)$", path)
        if not m:
            fail("open #%d ('%s') changes '%s', outside Packs/" % (pr["number"], head, path))
        pack, rest = m.groups()
        packs.add(pack)
        if rest == "pack_metadata.json":
            check_version_bump(ctx, base_oid, head, path)
        elif re.fullmatch(r"ReleaseNotes/\d+_\d+_\d+\.md", rest):
            if st not in ("A", "M"):
                fail("'%s' on '%s': status %s" % (path, head, st))
        elif path.endswith(".yml") and st == "M":
            image, _, new = check_yaml_bump(ctx, base_oid, head, path)
            pairs.add((image, new))
        else:
            fail("open #%d ('%s') changes '%s' (%s)" % (pr["number"], head, path, st))
    g = branch_group(ctx, head)
    for pack in packs:
        if group_of(ctx, pack) != g:
            fail("pack '%s' (group %s) is on '%s'" % (pack, group_of(ctx, pack), head))
    return packs, pairs


def check_version_bump(ctx, base, head, path):
    """Only the currentVersion string, raised by one revision."""
    old, new = blob(ctx, base, path), blob(ctx, head, path)
    a = re.search(r'"currentVersion":\s*"(\d+)\.(\d+)\.(\d+)"', old or "")
    if not a or new is None:
        fail("'%s' on '%s': no currentVersion to bump" % (path, head))
    want = "%s.%s.%d" % (a.group(1), a.group(2), int(a.group(3)) + 1)
    have = "%s.%s.%s" % a.groups()
    if new != old.replace(a.group(0), a.group(0).replace(have, want), 1):
        fail("'%s' on '%s': more than currentVersion %s -> %s changed" % (path, head, have,
                                                                          want))


def parse_dashboard(body):
    out, section = set(), None
    for line in body.split("\n"):
        m = re.match(r"^### (.+?) \((\d+)\)$", line)
        if m:
            section = DASHBOARD_SECTIONS.get(m.group(1))
            continue
        if line.startswith("### "):
            section = None
            continue
        if section and line.startswith("- ... and"):
            fail("the dashboard cut its list of %s items" % section)
        m = re.match(r"^- `((?:\\.|[^`\\])*)`", line)
        if section and m:
            path = re.sub(r"\\(.)", r"\1", m.group(1))
            path = path.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
            out.add((section, path))
    return out


def read_reports(ctx, night, run="n"):
    out = {}
    for k in range(1, ctx["shards"] + 1):
        with open(os.path.join(ctx["reports"], "%s%d" % (run, night), "s%d.json" % k)) as f:
            out[k] = json.load(f)
    return out


def released_by(ctx, st, image, tag, now):
    """The merged bot pull request that released image:tag by `now`, or None."""
    best = None
    for p in st["prs"]:
        if p["state"] != "merged":
            continue
        _, carried = marker(p["body"])
        if (image, tag) in carried and p["merged_at"] + ctx["cadence_hours"] * 3600 <= now:
            if best is None or p["merged_at"] < best["merged_at"]:
                best = p
    return best


def canary_holds(ctx, reps, canary, image, tag):
    """Whether every item of the canary group on `image` is on `tag` or newer in the base
    (its items as the shards' reports say, each in its own shard)."""
    if not canary:
        return False
    g = branch_group(ctx, canary)
    rep = reps[shard_of_group(ctx, g)]
    froms = [it.get("from") for it in rep["items"]
             if it.get("image") == image and it.get("pack") and group_of(ctx, it["pack"]) == g
             and it["status"] in ("bumped", "up-to-date", "waiting", "declined")]
    return bool(froms) and all(tagkey(f) >= tagkey(tag) for f in froms)


def check(ctx, night):
    j = load_journal(ctx)
    now = night_time(ctx, night)
    st = forge_state(ctx)
    reps = read_reports(ctx, night)
    base_oid = rgit(ctx, "rev-parse", "refs/heads/main").stdout.strip()
    opened = [p for p in st["prs"] if p["state"] == "open"]
    facts = {"night": night, "open": len(opened)}

    # Never more than max_open, every one on the base by its name, labelled.
    if len(opened) > ctx["max_open"]:
        fail("%d open bot pull requests, max_open %d" % (len(opened), ctx["max_open"]))
    heads = [p["head"] for p in opened]
    if len(set(heads)) != len(heads):
        fail("two open pull requests on one branch: %s" % sorted(heads))
    pack_on = {}
    carried_by = {}
    new_tags = {(image, t["name"]) for image, ts in j["tags"].items() for t in ts}
    # Every shard names the same canary for an image.
    canary_of = {}
    for k, rep in reps.items():
        for image, ro in (rep.get("rollout") or {}).items():
            if ro.get("canary") and canary_of.setdefault(image, ro["canary"]) != ro["canary"]:
                fail("shard %d says the canary of %s is '%s', another shard '%s'" % (
                    k, image, ro["canary"], canary_of[image]))
    for image in ctx["canary_images"]:
        if canary_of.get(image, ctx["prefix"] + "canary") != ctx["prefix"] + "canary":
            fail("the canary of %s is '%s', not the canary packs" % (image, canary_of[image]))
    for p in opened:
        if p["base"] != "main":
            fail("#%d targets '%s', not 'main'" % (p["number"], p["base"]))
        packs, pairs = check_branch(ctx, p, base_oid)
        for pack in packs:
            if pack in pack_on:
                fail("pack '%s' is on two open branches: '%s' and '%s'" % (
                    pack, pack_on[pack], p["head"]))
            pack_on[pack] = p["head"]
        m, carried = marker(p["body"])
        if m["branch"] != p["head"] or carried != pairs:
            fail("#%d ('%s'): its marker says %s on '%s', its branch carries %s" % (
                p["number"], p["head"], sorted(carried), m["branch"], sorted(pairs)))
        carried_by[p["number"]] = pairs
        # A tag reaches a group other than the image's canary only once released: by the
        # canary's pull request carrying it, merged at least cadence_hours ago; a tag no
        # pull request of the canary ever carried, only when every canary item runs it or
        # newer in the base (rollout.h: a canary bumped by hand).
        for image, tag in sorted(pairs):
            canary = canary_of.get(image)
            if p["head"] == canary:
                continue
            rel = released_by(ctx, st, image, tag, now)
            by_canary = [q for q in st["prs"] if q["head"] == canary
                         and (image, tag) in marker(q["body"])[1]]
            if by_canary:
                if rel is None:
                    fail("#%d ('%s') carries %s:%s, which the canary's #%d carried, but no "
                         "merge %dh old released it" % (p["number"], p["head"], image, tag,
                                                        by_canary[0]["number"],
                                                        ctx["cadence_hours"]))
                if image in ctx["canary_images"] and rel["head"] != canary:
                    fail("%s:%s was released by #%d ('%s'), not by the canary" % (
                        image, tag, rel["number"], rel["head"]))
            elif rel is None:
                if not canary_holds(ctx, reps, canary, image, tag):
                    fail("#%d ('%s') carries %s:%s: no merge released it and the canary "
                         "does not run it" % (p["number"], p["head"], image, tag))
                if (image, tag) in new_tags:
                    j["skipped_released"].append([night, p["number"], image, tag])
            j["released_seen"].append([night, p["number"], image, tag])

    # The shards: disjoint branches, each in its own groups; items as the forge says.
    seen_branch = {}
    for k, rep in reps.items():
        for b in rep["branches"]:
            if not (b["name"] or "").startswith(ctx["prefix"]):
                fail("shard %d reports a branch named %r" % (k, b["name"]))
            g = branch_group(ctx, b["name"])
            if b.get("group") is not None and g is not None and shard_of_group(ctx, g) != k:
                fail("shard %d reports '%s', a branch of shard %d" % (
                    k, b["name"], shard_of_group(ctx, g)))
            if b["name"] in seen_branch:
                fail("'%s' was written by shard %d and shard %d" % (
                    b["name"], seen_branch[b["name"]], k))
            seen_branch[b["name"]] = k
        for it in rep["items"]:
            if it["status"] == "waiting" and "slot" in (it.get("reason") or ""):
                facts["waiting_slot"] = facts.get("waiting_slot", 0) + 1
            if it["status"] == "declined":
                j["declined_seen"].append([night, it["path"], it.get("image"), it.get("to")])
            if it["status"] == "error":
                fail("shard %d: '%s' is in error: %s" % (k, it["path"], it.get("reason")))

    # Closed unmerged by a maintainer: those targets stay declined, never proposed again to
    # the group, until a newer tag is released to it.
    for c in j["closed"]:
        for image, tag in c["carried"]:
            newer = [t for t in j["tags"].get(image, []) if tagkey(t["name"]) > tagkey(tag)]
            for p in opened:
                if branch_group(ctx, p["head"]) == c["group"] and (image, tag) in carried_by[p["number"]]:
                    fail("#%d proposes %s:%s again to group %s after #%d was closed unmerged" % (
                        p["number"], image, tag, c["group"], c["number"]))
            if newer or c["night"] >= night:
                continue
            k = shard_of_group(ctx, c["group"])
            for it in reps[k]["items"]:
                if it.get("image") == image and it.get("to") == tag and \
                        group_of(ctx, it.get("pack") or "") == c["group"] and \
                        it["status"] not in ("declined", "up-to-date", "opted-out", "skipped"):
                    fail("'%s' (%s:%s) is %s, but #%d carrying it was closed unmerged" % (
                        it["path"], image, tag, it["status"], c["number"]))

    # Bot closes: with a comment saying why, and the branch gone (unless reopened since).
    harness_closed = {c["number"] for c in j["closed"]}
    known = set(j["known_closed"])
    for p in st["prs"]:
        if p["state"] != "closed" or p["number"] in known:
            continue
        known.add(p["number"])
        if p["number"] in harness_closed:
            continue
        if not st["comments"].get(p["number"]):
            fail("#%d was closed by the bot without a comment" % p["number"])
        # What it proposed is pending no more: every item of its group is on the tag it
        # carried or newer (its items may wait for a newer tag still).
        g = branch_group(ctx, p["head"])
        _, carried = marker(p["body"])
        for it in reps[shard_of_group(ctx, g)]["items"]:
            if not it.get("pack") or group_of(ctx, it["pack"]) != g or \
                    it["status"] not in ("bumped", "waiting"):
                continue
            for image, tag in carried:
                if it.get("image") == image and tagkey(it.get("from")) < tagkey(tag):
                    fail("#%d (%s) carrying %s:%s was closed as having nothing pending, but "
                         "'%s' on %s is %s: %s" % (p["number"], p["head"], image, tag,
                                                   it["path"], it.get("from"), it["status"],
                                                   it.get("reason")))
        if p["head"] not in heads and rgit(ctx, "rev-parse", "-q", "--verify",
                                            "refs/heads/" + p["head"], check=False).returncode == 0:
            fail("#%d was closed, but its branch '%s' is still on the remote" % (
                p["number"], p["head"]))
        j["bot_closed"].append({"night": night, "number": p["number"], "head": p["head"],
                                "comment": st["comments"][p["number"]][-1][:300]})
    j["known_closed"] = sorted(known)

    # Each shard's dashboard lists exactly its report's items that need a look.
    for k, rep in reps.items():
        title = "dockerbump dashboard (shard %d/%d)" % (k, ctx["shards"])
        boards = [i for i in st["issues"] if i["title"] == title and i["state"] == "open"]
        if len(boards) != 1:
            fail("shard %d: %d open dashboard issues titled %r" % (k, len(boards), title))
        got = parse_dashboard(boards[0]["body"])
        want = {(it["status"], it["path"]) for it in rep["items"]
                if it["status"] in LIST_STATUSES}
        if got != want:
            fail("shard %d: the dashboard differs from the report: only on the dashboard %s; "
                 "only in the report %s" % (k, sorted(got - want)[:5], sorted(want - got)[:5]))

    # Every open branch merges into the base, in any order.
    merge_all(ctx, night, heads)
    j["nights"].append(facts)
    save_journal(ctx, j)
    print("night %d: %d open (%s), %d branches in reports, checked" % (
        night, len(opened), ", ".join("#%d %s" % (p["number"], p["head"][len(ctx["prefix"]):])
                                      for p in opened), len(seen_branch)))


def merge_all(ctx, night, heads):
    d = ctx["merger"]
    git("fetch", "-q", "--prune", "origin", "+refs/heads/*:refs/remotes/origin/*", cwd=d)
    git("checkout", "-q", "-f", "-B", "trial", "origin/main", cwd=d)
    order = sorted(heads)
    rng = random.Random("%s-merge-%d" % (ctx["seed"], night))
    rng.shuffle(order)
    print("night %d: merge order %s" % (night, " ".join(order) or "(none)"))
    for h in order:
        r = git("-c", "user.name=merger", "-c", "user.email=merger@example.invalid", "merge",
                "-q", "--no-ff", "--no-edit", "origin/" + h, cwd=d, check=False)
        if r.returncode:
            git("merge", "--abort", cwd=d, check=False)
            fail("night %d: merging '%s' after %s conflicts: %s%s" % (
                night, h, order[:order.index(h)], r.stdout, r.stderr))


def refs(ctx):
    print(rgit(ctx, "for-each-ref", "--format=%(objectname) %(refname)").stdout, end="")


def quiet(ctx, night, refs_file, since):
    with open(refs_file) as f:
        before = f.read()
    after = rgit(ctx, "for-each-ref", "--format=%(objectname) %(refname)").stdout
    if before != after:
        b, a = set(before.splitlines()), set(after.splitlines())
        fail("night %d: the rerun moved refs: before %s, after %s" % (
            night, sorted(b - a), sorted(a - b)))
    log = http(ctx["forge_url"] + "/_stub/log?since=%d" % int(since))
    writes = [(e["method"], e["path"]) for e in log if e["method"] != "GET"]
    if writes:
        fail("night %d: the rerun wrote to the forge: %s" % (night, writes[:10]))
    reps = read_reports(ctx, night, "q")
    for k, rep in reps.items():
        for b in rep["branches"]:
            pr = b.get("pull_request") or {}
            if pr.get("outcome") not in (None, "unchanged", "waiting"):
                fail("night %d rerun, shard %d: '%s' %s" % (night, k, b["name"],
                                                            pr.get("outcome")))
    print("night %d rerun: %d reads, no write, no ref moved" % (night, len(log)))


def summary(ctx):
    j = load_journal(ctx)
    nights = len(j["nights"])
    facts = {
        "merged by the maintainers": len(j["merged"]),
        "closed unmerged by the maintainers": len(j["closed"]),
        "closed by the bot (cleanup)": len(j["bot_closed"]),
        "non-canary proposals of released tags": len({(x[1], x[2], x[3])
                                                      for x in j["released_seen"]}),
        "declined item-nights": len(j["declined_seen"]),
        "nights where a group waited for a slot": sum(1 for n in j["nights"]
                                                      if n.get("waiting_slot")),
        "hand edits": len(j["edits"]),
    }
    for k, v in facts.items():
        print("month: %s: %d" % (k, v))
    if nights >= ctx["full_month"]:
        for k, v in facts.items():
            if not v:
                fail("the month never showed: %s" % k)
        kinds = {e["kind"] for e in j["edits"]}
        if kinds != {"bump", "add", "delete", "optout"}:
            fail("hand edits made: %s" % sorted(kinds))
        # A pull request closed unmerged: its items were reported declined afterwards
        # (unless a newer tag had been released to them by then).
        if not any(d[0] >= c["night"] and (d[2], d[3]) in {tuple(x) for x in c["carried"]}
                   for c in j["closed"] for d in j["declined_seen"]):
            fail("no pull request closed unmerged left its items declined")
    skipped = {}
    for n, number, image, tag in j["skipped_released"]:
        skipped.setdefault((image, tag), set()).add((n, number))
    for (image, tag), seen in sorted(skipped.items()):
        print("month: %s:%s, which no canary pull request carried (the canary went past it "
              "to a newer tag), was proposed on nights %s by %d pull requests" % (
                  image, tag, ",".join(str(n) for n in sorted({x[0] for x in seen})),
                  len({x[1] for x in seen})))
    for e in j["edits"]:
        print("month: day %d: %s %s%s" % (e["night"], e["kind"], e["pack"],
                                           " (on #%d)" % e["on_pr"] if e["on_pr"] else ""))
    for c in j["bot_closed"]:
        print("month: night %d: the bot closed #%d (%s): %s" % (
            c["night"], c["number"], c["head"], c["comment"].split("\n")[0][:120]))


def setup(ctx):
    """Picks the canary packs (two packs with several demisto/python3 bumps) and writes the
    first tag list of every image the repository uses."""
    with open(ctx["manifest"]) as f:
        m = json.load(f)
    counts = {}
    for it in m["items"]:
        if it["expect"]["status"] == "bump" and it["image"] == "demisto/python3" and \
                not it["hidden_pack"]:
            counts[it["pack"]] = counts.get(it["pack"], 0) + 1
    canary = sorted(p for p, n in counts.items() if 2 <= n <= 4)[:2]
    tags = {}
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ctx["t0"] - 30 * 86400))
    for image, used in m["images"].items():
        names = sorted(set(t for t in used if t))
        tags[image] = [{"name": t, "last_updated": stamp} for t in names]
    print(json.dumps({"canary_packs": canary, "tags": tags}))


def main():
    with open(sys.argv[1]) as f:
        ctx = json.load(f)
    cmd, args = sys.argv[2], sys.argv[3:]
    try:
        if cmd == "setup":
            setup(ctx)
        elif cmd == "day":
            ctx["tags_now"] = {}
            for image in ctx["images"]:
                ctx["tags_now"][image] = [t["name"] for t in http(
                    ctx["hub_url"] + "/_control/tags?image=" + image)]
            day(ctx, int(args[0]))
        elif cmd == "check":
            check(ctx, int(args[0]))
        elif cmd == "refs":
            refs(ctx)
        elif cmd == "quiet":
            quiet(ctx, int(args[0]), args[1], args[2])
        elif cmd == "summary":
            summary(ctx)
        else:
            fail("unknown command %r" % cmd)
    except Failure as e:
        print("FAIL: %s" % e, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
