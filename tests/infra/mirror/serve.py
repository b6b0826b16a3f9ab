# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Serve a directory over HTTP on a loopback address and count what it serves.

``GET /_stats`` returns ``{"requests": N, "bytes": B, "paths": {...}}`` (bytes of
response bodies served since start or the last ``POST /_stats/reset``), which the
benchmark uses to measure what workstations fetch from the mirror.

``--blackhole`` accepts connections and never answers: a stand-in for an
unreachable registry or mirror that lets tests prove their timeouts are bounded.

Usable as a module: ``MirrorServer(directory).start()`` returns the bound port.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import ipaddress
import json
import os
import socket
import sys
import threading
import time


class _Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.bytes = 0
        self.paths: dict[str, int] = {}

    def add(self, path: str, size: int) -> None:
        with self.lock:
            self.requests += 1
            self.bytes += size
            self.paths[path] = self.paths.get(path, 0) + size

    def snapshot(self) -> dict:
        with self.lock:
            return {"requests": self.requests, "bytes": self.bytes, "paths": dict(self.paths)}

    def reset(self) -> None:
        with self.lock:
            self.requests = 0
            self.bytes = 0
            self.paths = {}


class _Handler(http.server.SimpleHTTPRequestHandler):
    stats: _Stats

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def do_GET(self):
        if self.path.rstrip("/") == "/_stats":
            body = json.dumps(self.stats.snapshot()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def do_POST(self):
        if self.path.rstrip("/") == "/_stats/reset":
            self.stats.reset()
            self.send_response(204)
            self.end_headers()
            return
        self.send_error(405)

    def copyfile(self, source, outputfile):
        before = source.tell()
        super().copyfile(source, outputfile)
        self.stats.add(self.path, source.tell() - before)


def _check_loopback(address: str) -> None:
    if not ipaddress.ip_address(address).is_loopback:
        raise ValueError("refusing to bind %s: only loopback addresses (127.0.0.0/8, ::1) are allowed" % address)


class MirrorServer:
    """A threaded static file server bound to a loopback address."""

    def __init__(self, directory: str, bind: str = "127.0.0.1", port: int = 0) -> None:
        _check_loopback(bind)
        self.stats = _Stats()
        handler = type("Handler", (_Handler,), {"stats": self.stats})
        self.httpd = http.server.ThreadingHTTPServer((bind, port), functools.partial(handler, directory=directory))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        """The bound port."""
        return self.httpd.server_address[1]

    def start(self) -> int:
        """Start serving in a daemon thread; return the port."""
        self.thread.start()
        return self.port

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.httpd.shutdown()
        self.httpd.server_close()


class Blackhole:
    """A loopback listener that accepts connections and never answers."""

    def __init__(self, bind: str = "127.0.0.1", port: int = 0) -> None:
        _check_loopback(bind)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((bind, port))
        self.sock.listen(64)

    @property
    def port(self) -> int:
        """The bound port."""
        return self.sock.getsockname()[1]

    def stop(self) -> None:
        """Close the listener (pending connections are reset)."""
        self.sock.close()


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=".", help="directory to serve")
    parser.add_argument("--bind", default="127.0.0.1", help="loopback address to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=0, help="port, 0 picks a free one (default: %(default)s)")
    parser.add_argument("--port-file", help="write the bound port to this file once listening")
    parser.add_argument("--blackhole", action="store_true", help="accept connections and never answer")
    args = parser.parse_args(argv)
    try:
        server = Blackhole(args.bind, args.port) if args.blackhole else MirrorServer(os.path.abspath(args.dir), args.bind, args.port)
    except (ValueError, OSError) as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 2
    if args.port_file:
        with open(args.port_file + ".tmp", "w", encoding="utf-8") as handle:
            handle.write("%d\n" % server.port)
        os.replace(args.port_file + ".tmp", args.port_file)
    print("serving %s on http://%s:%d/" % ("nothing (blackhole)" if args.blackhole else args.dir, args.bind, server.port), flush=True)
    try:
        if args.blackhole:
            while True:
                time.sleep(3600)
        else:
            server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop() if args.blackhole else server.httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
