# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible_collections.claude_fleet.bedrock.plugins.filter.smoke_remedy import FilterModule, smoke_remedy


@pytest.mark.parametrize(
    "output, rc, cause, words",
    [
        ("Error: self-signed certificate in certificate chain", 1, "tls_trust", "claude_fleet_network_ca_certificates"),
        ("API Error: unable to get local issuer certificate", 1, "tls_trust", "NODE_EXTRA_CA_CERTS"),
        ("AccessDeniedException: User: arn:aws:iam::1:user/x is not authorized to perform: bedrock:InvokeModel", 1,
         "access_denied", "bedrock:InvokeModel"),
        ("ValidationException: Invocation of model ID x with on-demand throughput isn't supported.", 1,
         "on_demand_not_supported", "inference profile"),
        ("Model use case details have not been submitted for this account.", 1, "use_case_form", "use-case form"),
        ("The security token included in the request is invalid.", 1, "bad_credentials", "credentials"),
        ("ThrottlingException: Too many requests", 1, "throttled", "quota"),
        ("connect ECONNREFUSED 127.0.0.1:1", 1, "unreachable", "ANTHROPIC_BEDROCK_BASE_URL"),
        ("", 124, "timeout", "TLS trust or a proxy"),
        # What the smoke role's TLS/proxy probe prints, ahead of the CLI's own (often empty) output.
        ("probe error: SSLCertVerificationError [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
         "self-signed certificate in certificate chain (_ssl.c:1006)\n", 124, "tls_trust", "claude_fleet_network_ca_certificates"),
        ("probe error: SSLError [SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required (_ssl.c:2638) (the "
         "endpoint ended the TLS handshake and no client certificate is configured: it may demand one)\n", 124, "client_certificate",
         "claude_fleet_network_client_key"),
        ("probe error: SSLError the client certificate or its key does not load (CLAUDE_CODE_CLIENT_CERT, CLAUDE_CODE_CLIENT_KEY, "
         "CLAUDE_CODE_CLIENT_KEY_PASSPHRASE): [SSL] PEM lib (_ssl.c:3905)\n", 124, "client_certificate_unusable",
         "claude_fleet_network_client_key_passphrase"),
        ("probe error: SSLEOFError EOF occurred in violation of protocol (_ssl.c:2427) (the endpoint ended the TLS handshake "
         "and no client certificate is configured: it may demand one)\n", 1, "client_certificate", "claude_fleet_network_client_cert"),
        ("probe error: OSError Tunnel connection failed: 407 Proxy Authentication Required\n", 124, "proxy", "claude_fleet_network_proxy"),
        ("probe error: ConnectionRefusedError [Errno 111] Connection refused\n", 124, "unreachable", "ANTHROPIC_BEDROCK_BASE_URL"),
        # A passing probe names TLS, the client certificate and the proxy: none of them is the cause.
        ("probe ok: TLS, client certificate and proxy work\n\nCould not load credentials from any providers", 1,
         "bad_credentials", "credentials"),
        ("probe note: AWS_PROFILE is set in the login shell with static keys in settings.json; the AWS SDK then uses the profile"
         " and ignores the keys\nprobe ok: TLS, client certificate and proxy work\n\nCould not load credentials from any providers",
         1, "aws_profile_overrides_keys", "Remove the export"),
        ("", 0, "empty_answer", "printed nothing"),
        ("something new", 3, "unknown", "exit 3"),
    ],
)
def test_causes_and_remedies(output, rc, cause, words):
    result = smoke_remedy(output, rc=rc, model="us.m", region="us-east-1")
    assert result["cause"] == cause
    assert words in result["remedy"]


def test_remedy_names_model_and_region():
    result = smoke_remedy("ResourceNotFoundException: model not found", model="eu.anthropic.x", region="eu-west-1")
    assert "eu.anthropic.x" in result["remedy"] and "eu-west-1" in result["remedy"]


def test_filter_is_registered():
    assert FilterModule().filters()["smoke_remedy"] is smoke_remedy
