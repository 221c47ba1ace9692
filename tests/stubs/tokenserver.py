#!/usr/bin/env python3
"""A token service for docker-registry's `auth: token` mode, for the tests.

  tokenserver.py --dir DIR --port-file F --log F --user U --password P

At start it writes DIR/key.pem and DIR/cert.pem (a fresh RSA key and its self-signed
certificate: the registry's `rootcertbundle`). GET /token?service=S&scope=repository:NAME:ACTIONS
with the right Basic credentials answers {"token", "access_token", "expires_in", "issued_at"}:
a JWT signed RS256, whose `kid` is the key's libtrust fingerprint (what distribution 2.8 looks
up in its root bundle), granting the requested actions. Anything else is 401. Each request is
logged as a JSON line (path, status, whether credentials came). Exits with its parent or after
--lifetime seconds.
"""
import argparse
import base64
import datetime
import hashlib
import json
import os
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

ISSUER = "dockerbump-test-issuer"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def libtrust_kid(public_key):
    der = public_key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    s = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(s[i:i + 4] for i in range(0, len(s), 4))


def make_key(directory):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dockerbump test token signer")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256()))
    with open(os.path.join(directory, "cert.pem"), "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    return key


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def reply(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        cfg = self.server.cfg
        with cfg["lock"]:
            cfg["log"].write(json.dumps({"time": time.time(), "path": urlsplit(self.path).path,
                                         "query": urlsplit(self.path).query, "status": status,
                                         "auth": bool(self.headers.get("Authorization"))}) + "\n")

    def do_GET(self):
        cfg = self.server.cfg
        u = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        want = "Basic " + base64.b64encode(
            ("%s:%s" % (cfg["user"], cfg["password"])).encode()).decode()
        if u.path != "/token":
            return self.reply(404, {"error": "not found"})
        if self.headers.get("Authorization") != want:
            return self.reply(401, {"error": "credentials required"})
        access = []
        for scope in q.get("scope", "").split(" "):
            parts = scope.split(":")
            if len(parts) == 3 and parts[0] == "repository":
                access.append({"type": "repository", "name": parts[1],
                               "actions": parts[2].split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "kid": cfg["kid"]}
        claims = {"iss": ISSUER, "sub": cfg["user"], "aud": q.get("service", ""),
                  "exp": now + 300, "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex,
                  "access": access}
        signing_input = (b64url(json.dumps(header).encode()) + "." +
                         b64url(json.dumps(claims).encode())).encode()
        sig = cfg["key"].sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        token = signing_input.decode() + "." + b64url(sig)
        self.reply(200, {"token": token, "access_token": token, "expires_in": 300,
                         "issued_at": datetime.datetime.now(datetime.timezone.utc)
                         .strftime("%Y-%m-%dT%H:%M:%SZ")})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--lifetime", type=float, default=600)
    a = ap.parse_args()
    key = make_key(a.dir)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.cfg = {"key": key, "kid": libtrust_kid(key.public_key()), "user": a.user,
                  "password": a.password, "lock": threading.Lock(),
                  "log": open(a.log, "a", buffering=1)}
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(a.port_file + ".tmp", a.port_file)
    parent = os.getppid()

    def watchdog():
        deadline = time.time() + a.lifetime
        while time.time() < deadline and os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watchdog, daemon=True).start()
    server.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    sys.exit(main())
