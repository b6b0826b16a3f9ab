# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark the Bedrock emulator: start-up time and requests per second.

Run from the repository root:  .venv/bin/python bench/emulator_bench.py [--requests 3000] [--json-out FILE]

* start-up: ``python -m bedrock_emulator --port 0`` until the "listening" line, and until /_emulator/health answers;
* raw keep-alive: one SigV4-signed ListInferenceProfiles request (botocore's signer) replayed over persistent
  HTTP/1.1 connections, 1 and 4 client threads (measures the server, not the client);
* boto3: signed ``list_foundation_models`` calls through a real client (client cost included);
* runtime: InvokeModelWithResponseStream replayed raw (event-stream frames, chunked transfer).

Every loop is bounded by --requests; traffic goes to 127.0.0.1 only. Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EMULATOR_DIR = os.path.join(ROOT, "tests", "infra", "emulator")
sys.path.insert(0, EMULATOR_DIR)

from botocore.auth import SigV4Auth  # noqa: E402  pylint: disable=wrong-import-position
from botocore.awsrequest import AWSRequest  # noqa: E402  pylint: disable=wrong-import-position
from botocore.credentials import Credentials  # noqa: E402  pylint: disable=wrong-import-position

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def measure_startup(runs):
    env = dict(os.environ, PYTHONPATH=EMULATOR_DIR)
    listening, first_api = [], []
    for dummy in range(runs):
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "bedrock_emulator", "--port", "0"], stdout=subprocess.PIPE, text=True, env=env)
        try:
            line = proc.stdout.readline().strip()
            listening.append(time.perf_counter() - started)
            url = line.split(" ", 1)[1]
            # First signed API call answered (the signing itself is done by this process, so it is included).
            headers = signed_request(url, "GET", "/foundation-models")
            request = urllib.request.Request(url + "/foundation-models", headers=headers)
            with urllib.request.urlopen(request, timeout=10) as response:  # nosec - loopback emulator
                response.read()
            first_api.append(time.perf_counter() - started)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    return {"runs": runs, "listening_s_median": round(statistics.median(listening), 3), "listening_s_max": round(max(listening), 3),
            "first_api_response_s_median": round(statistics.median(first_api), 3), "first_api_response_s_max": round(max(first_api), 3)}


def signed_request(url, method, path, body=b"", region="us-east-1"):
    request = AWSRequest(method=method, url=url + path, data=body, headers={"Content-Type": "application/json"} if body else {})
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "bedrock", region).add_auth(request)
    return dict(request.headers.items())


def replay(url, method, path, headers, body, total, threads):
    """Send ``total`` copies of one signed request over ``threads`` keep-alive connections; return req/s and status counts."""
    parsed = urllib.parse.urlsplit(url)
    per_thread = max(1, total // threads)
    statuses = {}
    lock = threading.Lock()

    def worker():
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
        local = {}
        for dummy in range(per_thread):
            conn.request(method, path, body=body or None, headers=headers)
            response = conn.getresponse()
            response.read()
            local[response.status] = local.get(response.status, 0) + 1
        conn.close()
        with lock:
            for key, value in local.items():
                statuses[key] = statuses.get(key, 0) + value

    workers = [threading.Thread(target=worker) for dummy in range(threads)]
    started = time.perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - started
    return {"requests": per_thread * threads, "threads": threads, "seconds": round(elapsed, 3),
            "req_per_s": round(per_thread * threads / elapsed, 1), "statuses": statuses}


def boto3_calls(url, total, threads=1):
    import boto3  # pylint: disable=import-outside-toplevel
    from botocore.config import Config  # pylint: disable=import-outside-toplevel

    client = boto3.client("bedrock", endpoint_url=url, region_name="us-east-1", aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                          config=Config(retries={"total_max_attempts": 1}))
    client.list_foundation_models()  # warm-up: connection and endpoint resolution
    per_thread = max(1, total // threads)

    def worker():
        for dummy in range(per_thread):
            client.list_foundation_models()

    workers = [threading.Thread(target=worker) for dummy in range(threads)]
    started = time.perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - started
    return {"requests": per_thread * threads, "threads": threads, "seconds": round(elapsed, 3), "req_per_s": round(per_thread * threads / elapsed, 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per throughput run (bounded)")
    parser.add_argument("--startup-runs", type=int, default=5)
    parser.add_argument("--json-out", help="also write the figures as JSON to this file (e.g. bench/results/emulator.json)")
    args = parser.parse_args(argv)

    from bedrock_emulator import EmulatorServer  # pylint: disable=import-outside-toplevel

    results = {"load_average_before": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count(),
               "startup": measure_startup(args.startup_runs)}
    server = EmulatorServer().start()
    try:
        path = "/inference-profiles?type=SYSTEM_DEFINED"
        headers = signed_request(server.url, "GET", path)
        results["control_plane_raw_1_thread"] = replay(server.url, "GET", path, headers, b"", args.requests, 1)
        results["control_plane_raw_4_threads"] = replay(server.url, "GET", path, headers, b"", args.requests, 4)
        body = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}).encode()
        stream_path = "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream"
        stream_headers = signed_request(server.url, "POST", stream_path, body)
        results["runtime_stream_raw_1_thread"] = replay(server.url, "POST", stream_path, stream_headers, body, max(1, args.requests // 3), 1)
        results["control_plane_boto3_1_thread"] = boto3_calls(server.url, max(1, args.requests // 6))
        results["control_plane_boto3_4_threads"] = boto3_calls(server.url, max(4, args.requests // 6), threads=4)
        results["server_counters_total"] = server.counters()["total"]
    finally:
        server.stop()

    startup = results["startup"]
    print("host: %d CPUs, load average %s before the run" % (results["cpus"], results["load_average_before"]))
    print("start-up: listening in %.3f s (median of %d, max %.3f); first signed API response %.3f s (max %.3f)"
          % (startup["listening_s_median"], startup["runs"], startup["listening_s_max"], startup["first_api_response_s_median"],
             startup["first_api_response_s_max"]))
    for key in ("control_plane_raw_1_thread", "control_plane_raw_4_threads", "runtime_stream_raw_1_thread", "control_plane_boto3_1_thread",
                "control_plane_boto3_4_threads"):
        item = results[key]
        statuses = ", statuses %s" % item["statuses"] if "statuses" in item else ""
        print("%-30s %8.1f req/s  (%d requests in %.2f s%s)" % (key, item["req_per_s"], item["requests"], item["seconds"], statuses))
    if args.json_out:
        os.makedirs(os.path.dirname(os.path.abspath(args.json_out)), exist_ok=True)
        with open(args.json_out, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
