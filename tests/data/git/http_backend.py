#!/usr/bin/env python3
"""A smart-HTTP git server on loopback for the push tests: `git http-backend` behind HTTP Basic
authentication, so pushes go through the same code as pushes to GitHub (smart protocol,
report-status, side-band, 401 and the credential callback).

    http_backend.py ROOT PORT_FILE USER PASSWORD

Serves the repositories under ROOT at http://127.0.0.1:<port>/<name>; writes the port to
PORT_FILE once listening, and appends one line per refused authentication to
ROOT/auth-failures.log. Stops on SIGTERM.
"""
import base64
import http.server
import os
import signal
import subprocess
import sys


def main():
    root, port_file, user, password = sys.argv[1:5]
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def read_body(self):
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                body = bytearray()
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return bytes(body)
                    body += self.rfile.read(size)
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length", "0")))

        def reply(self, code, headers, body):
            self.send_response(code)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def serve(self):
            body = self.read_body()
            if self.headers.get("Authorization") != expected:
                with open(os.path.join(root, "auth-failures.log"), "a") as log:
                    log.write(self.path + "\n")
                self.reply(401, [("WWW-Authenticate", 'Basic realm="test"')], b"")
                return
            path, _, query = self.path.partition("?")
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": root,
                "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_PROJECT_ROOT": root,
                "GIT_HTTP_EXPORT_ALL": "1",
                "REMOTE_USER": user,
                "REMOTE_ADDR": "127.0.0.1",
                "REQUEST_METHOD": self.command,
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
            }
            out = subprocess.run(["git", "http-backend"], input=body, env=env,
                                 capture_output=True, timeout=60).stdout
            head, _, payload = out.partition(b"\r\n\r\n")
            code, headers = 200, []
            for line in head.decode("latin-1").split("\r\n"):
                name, _, value = line.partition(":")
                if name.lower() == "status":
                    code = int(value.split()[0])
                elif name:
                    headers.append((name, value.strip()))
            self.reply(code, headers, payload)

        do_GET = serve
        do_POST = serve

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
