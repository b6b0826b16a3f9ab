# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP(S) server: ThreadingHTTPServer with HTTP/1.1 keep-alive, request log, counters, admin API."""

from __future__ import annotations

import collections
import datetime
import json
import ssl
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .protocol import shared_models
from .scenario import ScenarioError, load_scenario
from .service import Account, Call

MAX_BODY = 32 * 1024 * 1024
ADMIN_PREFIX = "/_emulator/"
LOG_LIMIT = 200000


class State:
    """Scenario, request log, counters and fault call counts; shared by all handler threads."""

    def __init__(self, scenario, log_path=None):
        self.scenario = scenario
        self.lock = threading.Lock()
        self._log = collections.deque(maxlen=LOG_LIMIT)
        self._log_file = open(log_path, "a", encoding="utf-8") if log_path else None  # pylint: disable=consider-using-with
        self._calls = collections.Counter()
        self._ops = collections.Counter()
        self._status = collections.defaultdict(collections.Counter)
        self._errors = collections.Counter()

    def count_call(self, operation):
        with self.lock:
            self._calls[operation] += 1
            return self._calls[operation]

    def record(self, entry):
        line = json.dumps(entry, sort_keys=True)
        with self.lock:
            self._log.append(entry)
            op = entry.get("operation") or "Unknown"
            self._ops[op] += 1
            self._status[op][str(entry.get("status"))] += 1
            if entry.get("error_code"):
                self._errors[entry["error_code"]] += 1
            if self._log_file:
                self._log_file.write(line + "\n")
                self._log_file.flush()

    def requests(self):
        with self.lock:
            return [dict(e) for e in self._log]

    def counters(self):
        with self.lock:
            return {
                "total": sum(self._ops.values()),
                "operations": dict(self._ops),
                "status": {op: dict(c) for op, c in self._status.items()},
                "errors": dict(self._errors),
                "fault_calls": dict(self._calls),
            }

    def reset(self):
        with self.lock:
            self._log.clear()
            self._calls.clear()
            self._ops.clear()
            self._status.clear()
            self._errors.clear()

    def close(self):
        if self._log_file:
            self._log_file.close()
            self._log_file = None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "BedrockEmulator/1.0"
    timeout = 120  # idle keep-alive connections are closed after this many seconds
    disable_nagle_algorithm = True  # TCP_NODELAY: no 40 ms delayed-ACK stalls on keep-alive connections
    wbufsize = 64 * 1024  # headers and body leave in one write; flushed after each response

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Silence the default stderr access log; the JSON-lines log is the record."""

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            body = bytearray()
            while True:
                size_line = self.rfile.readline(1024)
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(body)
                if len(body) + size > MAX_BODY:
                    raise ValueError("body too large")
                body += self.rfile.read(size)
                self.rfile.readline(1024)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length) if length else b""

    def _send(self, status, headers, body):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def _send_json(self, status, data):
        self._send(status, [("Content-Type", "application/json")], json.dumps(data, sort_keys=True).encode("utf-8"))

    def _handle(self):
        state = self.server.state
        split = urllib.parse.urlsplit(self.path)
        try:
            body = self._read_body()
        except ValueError:
            self._send(400, [("Content-Type", "application/json"), ("x-amzn-ErrorType", "ValidationException")],
                       b'{"message": "Malformed request body"}')
            self.close_connection = True
            return
        if split.path.startswith(ADMIN_PREFIX):
            self._admin(split, body)
            return
        call = Call(self.command, split.path, split.query, list(self.headers.items()), body)
        try:
            response = self.server.account.dispatch(call)
        except Exception as exc:  # pylint: disable=broad-except
            # dispatch() answers errors itself; this only guards against a bug there.
            call.log.update(status=500, error_code="InternalServerException", internal_error="%s: %s" % (type(exc).__name__, exc))
            state.record(call.log)
            self._send(500, [("Content-Type", "application/json"), ("x-amzn-ErrorType", "InternalServerException")],
                       b'{"message": "Internal server error"}')
            return
        call.log["time"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
        if self.server.client_cert_subject_of(self):
            call.log["client_cert_subject"] = self.server.client_cert_subject_of(self)
        state.record(call.log)
        if response.stream is None:
            self._send(response.status, response.headers, response.body)
            return
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for frame in response.stream:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _admin(self, split, body):
        state = self.server.state
        name = split.path[len(ADMIN_PREFIX):].strip("/")
        if self.command == "GET" and name == "health":
            self._send_json(200, {"status": "ok", "url": self.server.url})
        elif self.command == "GET" and name == "requests":
            self._send_json(200, state.requests())
        elif self.command == "GET" and name == "counters":
            self._send_json(200, state.counters())
        elif self.command == "GET" and name == "scenario":
            self._send_json(200, state.scenario.raw)
        elif self.command == "POST" and name == "reset":
            state.reset()
            self._send_json(200, {"reset": True})
        elif self.command == "POST" and name == "scenario":
            # Body: {"scenario": name-or-path (optional), "overrides": {...}}; replaces the scenario, resets counters.
            try:
                data = json.loads(body.decode("utf-8") or "{}")
                scenario = load_scenario(data.get("scenario") or self.server.scenario_name, data.get("overrides"))
            except (ValueError, ScenarioError, AttributeError) as exc:
                self._send_json(400, {"error": str(exc)})
                return
            state.scenario = scenario
            state.reset()
            self._send_json(200, {"scenario": "replaced"})
        else:
            self._send_json(404, {"error": "unknown admin endpoint", "endpoints": [
                "GET /_emulator/health", "GET /_emulator/requests", "GET /_emulator/counters", "GET /_emulator/scenario",
                "POST /_emulator/reset", "POST /_emulator/scenario"]})

    do_GET = _handle
    do_POST = _handle
    do_PUT = _handle
    do_DELETE = _handle
    do_PATCH = _handle
    do_HEAD = _handle
    do_OPTIONS = _handle


class EmulatorServer(ThreadingHTTPServer):
    """The emulator. ``start()`` serves in a daemon thread; ``url`` is the base URL."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, scenario="default", overrides=None, host="127.0.0.1", port=0, log_path=None,
                 tls_cert=None, tls_key=None, client_ca=None, models=None):
        self.scenario_name = scenario
        self.state = State(load_scenario(scenario, overrides), log_path=log_path)
        self.account = Account(models or shared_models(), self.state)
        self.ssl_context = None
        if tls_cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls_cert, tls_key)
            if client_ca:
                ctx.load_verify_locations(client_ca)
                ctx.verify_mode = ssl.CERT_REQUIRED
            self.ssl_context = ctx
        elif client_ca:
            raise ValueError("--client-ca needs --tls-cert and --tls-key")
        super().__init__((host, port), Handler)
        self._thread = None

    @property
    def url(self):
        host, port = self.server_address[:2]
        return "%s://%s:%d" % ("https" if self.ssl_context else "http", host, port)

    def finish_request(self, request, client_address):
        # TLS handshake in the worker thread, so a slow or failing client never blocks accept().
        if self.ssl_context is not None:
            try:
                request = self.ssl_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        super().finish_request(request, client_address)

    @staticmethod
    def client_cert_subject_of(handler):
        getpeercert = getattr(handler.connection, "getpeercert", None)
        if getpeercert is None:
            return None
        cert = getpeercert()
        if not cert:
            return None
        return ",".join("%s=%s" % pair for rdn in cert.get("subject", ()) for pair in rdn)

    def start(self):
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1}, name="bedrock-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self.shutdown()
        self.server_close()
        self.state.close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def requests(self):
        return self.state.requests()

    def counters(self):
        return self.state.counters()

    def reset(self):
        self.state.reset()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
