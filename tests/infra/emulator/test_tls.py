# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTPS and mutual TLS serving; bearer tokens through boto3 (which sends them only over HTTPS)."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request

import pytest
from botocore.config import Config

from bedrock_emulator.testing_pki import make_pki

US_SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
BODY = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]})


@pytest.fixture
def pki(tmp_path):
    return make_pki(str(tmp_path))


def test_https_with_boto3_and_bearer_token(bedrock_emulator, pki, monkeypatch):
    emu = bedrock_emulator(tls_cert=pki["server.pem"], tls_key=pki["server.key"])
    assert emu.url.startswith("https://127.0.0.1:")
    assert emu.client("sts", verify=pki["ca.pem"]).get_caller_identity()["Account"] == "123456789012"
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", emu.bearer_token)
    out = emu.client("bedrock-runtime", verify=pki["ca.pem"]).invoke_model(modelId=US_SONNET, body=BODY)
    assert json.loads(out["body"].read())["type"] == "message"
    entry = emu.requests("InvokeModel")[-1]
    assert entry["auth"] == "bearer" and "client_cert_subject" not in entry


def test_mtls_requires_a_client_certificate(bedrock_emulator, pki):
    emu = bedrock_emulator(tls_cert=pki["server.pem"], tls_key=pki["server.key"], client_ca=pki["ca.pem"])
    anonymous = ssl.create_default_context(cafile=pki["ca.pem"])
    with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
        with urllib.request.urlopen(emu.url + "/_emulator/health", context=anonymous, timeout=10) as response:  # nosec - loopback
            response.read()
    with_cert = ssl.create_default_context(cafile=pki["ca.pem"])
    with_cert.load_cert_chain(pki["client.pem"], pki["client.key"])
    with urllib.request.urlopen(emu.url + "/_emulator/health", context=with_cert, timeout=10) as response:  # nosec - loopback
        assert json.loads(response.read())["status"] == "ok"
    client = emu.client("bedrock", verify=pki["ca.pem"], config=Config(client_cert=(pki["client.pem"], pki["client.key"])))
    assert client.list_inference_profiles()["inferenceProfileSummaries"]
    assert emu.requests("ListInferenceProfiles")[-1]["client_cert_subject"] == "commonName=fleet-workstation-01"
