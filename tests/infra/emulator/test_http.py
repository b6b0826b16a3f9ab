# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP/1.1 behaviour: keep-alive across plain and streamed (chunked) answers, concurrent clients, consistent counters."""

from __future__ import annotations

import http.client
import json
import threading
import urllib.parse

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.eventstream import EventStreamBuffer

STREAM_PATH = "/model/us.anthropic.claude-haiku-4-5-20251001-v1%3A0/invoke-with-response-stream"
BODY = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]}).encode()


def signed_headers(emu, method, path, body=b""):
    request = AWSRequest(method=method, url=emu.url + path, data=body, headers={"Content-Type": "application/json"} if body else {})
    SigV4Auth(Credentials(emu.access_key_id, emu.secret_access_key), "bedrock", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def test_keep_alive_across_json_and_event_stream_answers(bedrock_emulator):
    emu = bedrock_emulator()
    parsed = urllib.parse.urlsplit(emu.url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
    try:
        conn.request("GET", "/foundation-models", headers=signed_headers(emu, "GET", "/foundation-models"))
        first = conn.getresponse()
        assert first.status == 200 and json.loads(first.read())["modelSummaries"]
        sock = conn.sock
        conn.request("POST", STREAM_PATH, body=BODY, headers=signed_headers(emu, "POST", STREAM_PATH, BODY))
        streamed = conn.getresponse()
        assert streamed.status == 200 and streamed.getheader("Transfer-Encoding") == "chunked"
        buf = EventStreamBuffer()
        buf.add_data(streamed.read())
        assert [m.headers[":event-type"] for m in buf][-1] == "chunk"
        conn.request("GET", "/inference-profiles?type=APPLICATION", headers=signed_headers(emu, "GET", "/inference-profiles?type=APPLICATION"))
        third = conn.getresponse()
        assert third.status == 200 and json.loads(third.read())["inferenceProfileSummaries"]
        assert conn.sock is sock  # one TCP connection for all three requests
    finally:
        conn.close()


def test_concurrent_clients_counters_add_up(bedrock_emulator):
    emu = bedrock_emulator()
    parsed = urllib.parse.urlsplit(emu.url)
    headers = signed_headers(emu, "GET", "/foundation-models")
    threads, per_thread = 8, 25
    statuses = []
    lock = threading.Lock()

    def worker():
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
        local = []
        try:
            for dummy in range(per_thread):
                conn.request("GET", "/foundation-models", headers=headers)
                response = conn.getresponse()
                response.read()
                local.append(response.status)
        finally:
            conn.close()
        with lock:
            statuses.extend(local)

    workers = [threading.Thread(target=worker) for dummy in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=120)
    assert statuses == [200] * (threads * per_thread)
    counters = emu.counters()
    assert counters["total"] == threads * per_thread
    assert counters["status"]["ListFoundationModels"] == {"200": threads * per_thread}
    assert len(emu.requests()) == threads * per_thread
    assert len({e["request_id"] for e in emu.requests()}) == threads * per_thread
