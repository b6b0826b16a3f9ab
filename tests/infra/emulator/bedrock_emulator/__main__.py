# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Command line: python -m bedrock_emulator --scenario default --port 0 [--url-file F] [--log F]."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading

from .scenario import ScenarioError, bundled_scenarios
from .server import EmulatorServer


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bedrock_emulator", description="Local Amazon Bedrock emulator")
    parser.add_argument("--scenario", default="default", help="bundled scenario name (%s) or a YAML path" % ", ".join(bundled_scenarios()))
    parser.add_argument("--overrides", help="JSON or YAML file deep-merged over the scenario")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (loopback by default)")
    parser.add_argument("--port", type=int, default=0, help="port (0 = any free port)")
    parser.add_argument("--url-file", help="write the bound URL to this file once listening")
    parser.add_argument("--log", help="append a JSON-lines request log to this file")
    parser.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate (chain)")
    parser.add_argument("--tls-key", help="PEM private key for --tls-cert")
    parser.add_argument("--client-ca", help="require client certificates signed by this CA (mTLS)")
    parser.add_argument("--check", action="store_true", help="validate the scenario and exit")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    overrides = None
    if args.overrides:
        import yaml  # pylint: disable=import-outside-toplevel
        with open(args.overrides, encoding="utf-8") as handle:
            overrides = yaml.safe_load(handle)
    if bool(args.tls_cert) != bool(args.tls_key):
        print("error: --tls-cert and --tls-key go together", file=sys.stderr)
        return 2
    try:
        server = EmulatorServer(args.scenario, overrides=overrides, host=args.host, port=args.port, log_path=args.log,
                                tls_cert=args.tls_cert, tls_key=args.tls_key, client_ca=args.client_ca)
    except (ScenarioError, ValueError, OSError) as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 2
    if args.check:
        print(json.dumps({"scenario": args.scenario, "regions": server.state.scenario.regions, "models": sorted(server.state.scenario.models)}))
        server.server_close()
        return 0
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server.start()
    if args.url_file:
        tmp = args.url_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(server.url + "\n")
        os.replace(tmp, args.url_file)
    print("listening %s" % server.url, flush=True)
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
