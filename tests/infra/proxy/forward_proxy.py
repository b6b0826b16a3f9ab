# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small loopback HTTP forward proxy with a JSON-lines request log, for the network tests.

It serves CONNECT tunnels (HTTPS) and absolute-form requests (plain HTTP), optionally demands
Basic proxy credentials, and only connects to loopback targets. Each log line names the method,
the target, the answer status and the UID that owns the client socket (read from /proc/net/tcp:
sandbox workstations share the host's network namespace, so this is the developer user whose
Claude Code made the request).

    python tests/infra/proxy/forward_proxy.py --port-file DIR/proxy.port --log DIR/proxy.log [--user U --password P]
"""
from __future__ import annotations

import argparse
import base64
import ipaddress
import json
import os
import select
import socket
import socketserver
import sys
import threading
import time
import urllib.parse

IDLE_TIMEOUT = 60
CONNECT_TIMEOUT = 10
MAX_HEADER = 65536


def socket_uid(port: int) -> int | None:
    """UID owning the local TCP socket bound to 127.x:PORT (the client side of a loopback connection)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as handle:
                lines = handle.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                return int(fields[7])
    return None


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class Handler(socketserver.BaseRequestHandler):
    """One client connection: one CONNECT tunnel or a series of absolute-form requests."""

    server: "Proxy"

    def _read_head(self, sock: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                return b""
            data += chunk
            if len(data) > MAX_HEADER:
                return b""
        return data

    def _answer(self, status: int, reason: str, extra: str = "") -> None:
        self.request.sendall(("HTTP/1.1 %d %s\r\n%sContent-Length: 0\r\nConnection: close\r\n\r\n" % (status, reason, extra)).encode())

    def handle(self) -> None:
        sock = self.request
        sock.settimeout(IDLE_TIMEOUT)
        uid = socket_uid(self.client_address[1])
        head = self._read_head(sock)
        if not head:
            return
        header, _sep, rest = head.partition(b"\r\n\r\n")
        lines = header.decode("latin-1").split("\r\n")
        method, target, version = (lines[0].split(" ") + ["", ""])[:3]
        headers = {}
        for line in lines[1:]:
            name, _sep, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        entry = {"time": time.time(), "uid": uid, "method": method, "target": target}
        if self.server.credentials and headers.get("proxy-authorization", "") != "Basic " + self.server.credentials:
            entry.update(status=407)
            self.server.log(entry)
            self._answer(407, "Proxy Authentication Required", 'Proxy-Authenticate: Basic realm="test"\r\n')
            return
        if method == "CONNECT":
            host, _sep, port = target.rpartition(":")
        else:
            parsed = urllib.parse.urlsplit(target)
            host, port = parsed.hostname or "", str(parsed.port or 80)
        if not _loopback(host.strip("[]")):
            entry.update(status=403)
            self.server.log(entry)
            self._answer(403, "Forbidden")
            return
        try:
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT)
        except (OSError, ValueError):
            entry.update(status=502)
            self.server.log(entry)
            self._answer(502, "Bad Gateway")
            return
        entry.update(status=200)
        self.server.log(entry)
        with upstream:
            upstream.settimeout(IDLE_TIMEOUT)
            if method == "CONNECT":
                sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                if rest:
                    upstream.sendall(rest)
            else:
                parsed = urllib.parse.urlsplit(target)
                path = urllib.parse.urlunsplit(("", "", parsed.path or "/", parsed.query, ""))
                kept = [line for line in lines[1:] if not line.lower().startswith(("proxy-authorization:", "proxy-connection:"))]
                upstream.sendall(("%s %s %s\r\n" % (method, path, version or "HTTP/1.1")).encode("latin-1")
                                 + "\r\n".join(kept).encode("latin-1") + b"\r\n\r\n" + rest)
            self._pump(sock, upstream)

    @staticmethod
    def _pump(left: socket.socket, right: socket.socket) -> None:
        """Copy both ways until one side closes or nothing moves for IDLE_TIMEOUT seconds."""
        sockets = [left, right]
        while True:
            readable = select.select(sockets, [], [], IDLE_TIMEOUT)[0]
            if not readable:
                return
            for sock in readable:
                try:
                    data = sock.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                (right if sock is left else left).sendall(data)


class Proxy(socketserver.ThreadingTCPServer):
    """Threaded loopback proxy; log() appends one JSON line per request."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, log_path: str, user: str = "", password: str = ""):
        super().__init__(address, Handler)
        self.log_path = log_path
        self.credentials = base64.b64encode(("%s:%s" % (user, password)).encode()).decode() if user else ""
        self._lock = threading.Lock()

    def log(self, entry: dict) -> None:
        with self._lock, open(self.log_path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", required=True, help="written with the port once listening")
    parser.add_argument("--log", required=True, help="JSON-lines request log")
    parser.add_argument("--user", default="")
    parser.add_argument("--password", default=os.environ.get("FORWARD_PROXY_PASSWORD", ""))
    args = parser.parse_args(argv)
    server = Proxy((args.host, args.port), args.log, args.user, args.password)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(str(server.server_address[1]))
    os.replace(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
