#!/usr/bin/env python3
"""Seeds a real registry over the distribution HTTP API: one config blob and one layer blob,
then the same small image manifest PUT under every tag given. Answers a Bearer challenge with
a token from its realm (basic auth with --user/--password). Prints the manifest digest.

  regseed.py --url http://127.0.0.1:PORT --image demisto/python3 --tags-file names.txt
"""
import argparse
import base64
import hashlib
import http.client
import json
import re
import sys
import urllib.parse
import urllib.request


class Client:
    def __init__(self, url, user, password):
        u = urllib.parse.urlsplit(url)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        self.user, self.password = user, password
        self.auth = None

    def token(self, challenge, scope):
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        q = urllib.parse.urlencode({"service": params.get("service", ""), "scope": scope})
        req = urllib.request.Request(params["realm"] + "?" + q)
        if self.user:
            cred = base64.b64encode(("%s:%s" % (self.user, self.password)).encode()).decode()
            req.add_header("Authorization", "Basic " + cred)
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.load(r)["token"]

    def request(self, method, path, body=None, headers=None, scope=None):
        for _ in range(2):
            h = dict(headers or {})
            if self.auth:
                h["Authorization"] = "Bearer " + self.auth
            self.conn.request(method, path, body=body, headers=h)
            r = self.conn.getresponse()
            data = r.read()
            if r.status == 401 and scope and "Bearer" in (r.getheader("WWW-Authenticate") or ""):
                self.auth = self.token(r.getheader("WWW-Authenticate"), scope)
                continue
            return r, data
        return r, data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--tags-file", required=True)
    ap.add_argument("--user")
    ap.add_argument("--password")
    a = ap.parse_args()
    c = Client(a.url, a.user, a.password)
    scope = "repository:%s:pull,push" % a.image

    def upload(blob):
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        r, _ = c.request("POST", "/v2/%s/blobs/uploads/" % a.image, body=b"", scope=scope,
                         headers={"Content-Length": "0"})
        assert r.status == 202, (r.status, "blob upload start")
        loc = urllib.parse.urlsplit(r.getheader("Location"))
        sep = "&" if loc.query else "?"
        path = loc.path + ("?" + loc.query if loc.query else "") + sep + "digest=" + digest
        r, body = c.request("PUT", path, body=blob, scope=scope,
                            headers={"Content-Type": "application/octet-stream"})
        assert r.status == 201, (r.status, body, "blob upload")
        return digest, len(blob)

    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    layer = b"dockerbump test layer\n"
    cd, cs = upload(config)
    ld, ls = upload(layer)
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "size": cs, "digest": cd},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": ls, "digest": ld}]}).encode()
    want = "sha256:" + hashlib.sha256(manifest).hexdigest()
    with open(a.tags_file) as f:
        tags = [t.strip() for t in f if t.strip()]
    for tag in tags:
        r, body = c.request("PUT", "/v2/%s/manifests/%s" % (a.image, tag), body=manifest,
                            scope=scope, headers={
                                "Content-Type":
                                    "application/vnd.docker.distribution.manifest.v2+json"})
        assert r.status == 201, (r.status, body, tag)
        assert r.getheader("Docker-Content-Digest") == want
    print(want)
    return 0


if __name__ == "__main__":
    sys.exit(main())
