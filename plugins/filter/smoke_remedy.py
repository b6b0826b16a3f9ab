# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Map what the Claude Code CLI printed on failure to the fix an operator should make."""
from __future__ import annotations

import re

DOCUMENTATION = r"""
name: smoke_remedy
short_description: Explain a failed Claude Code smoke test
version_added: 0.1.0
description:
  - Reads the output and exit status of C(claude -p) and returns the most likely cause
    and the fix, in the same words the preflight checks use.
  - Exit status 124 or 137 (from C(timeout)) is reported as a hang, usually TLS trust or a proxy.
  - "Companion filter C(smoke_results): takes the registered results of the smoke role's C(claude -p) loop and
    returns one record per user for the fleet report (C(user), C(status) V(passed) or V(failed), C(rc), C(answer),
    C(shell), C(cause), C(remedy), C(probe)); its options are C(probes) (the TLS probe loop's results), C(expect)
    (the regular expression an answer must match, empty for any), C(passwd) (the getent passwd facts), C(model) and C(region)."
options:
  _input:
    description: Combined standard output and standard error of the CLI.
    type: str
    required: true
  rc:
    description: Exit status of the command.
    type: int
    default: 1
  model:
    description: Model id or inference profile the user is configured with, named in the remedy.
    type: str
    default: ''
  region:
    description: AWS region the user is configured with, named in the remedy.
    type: str
    default: ''
"""

EXAMPLES = r"""
- name: Explain a failed smoke test
  ansible.builtin.debug:
    msg: "{{ result.stdout ~ result.stderr | claude_fleet.bedrock.smoke_remedy(rc=result.rc, model='us.anthropic.claude-sonnet-4-5-20250929-v1:0') }}"

- name: Record the smoke results
  ansible.builtin.set_fact:
    smoke_results: >-
      {{ runs.results | claude_fleet.bedrock.smoke_results(probes=probes.results | default([]), expect='',
         passwd=ansible_facts.getent_passwd, model='us.anthropic.claude-sonnet-4-5-20250929-v1:0', region='us-east-1') }}
"""

RETURN = r"""
_value:
  description: A dictionary with C(cause) (a short tag) and C(remedy) (plain words).
  type: dict
"""

# (cause, pattern, remedy template); the first match wins, so specific patterns come first.
_RULES = (
    # The probe could not load the configured client certificate or key: checked before the endpoint demanding one.
    ("client_certificate_unusable", r"client certificate or its key does not load",
     "The client certificate or its key does not load (not PEM, a key of another certificate, or a wrong passphrase): "
     "check claude_fleet_network_client_cert, claude_fleet_network_client_key and claude_fleet_network_client_key_passphrase."),
    ("tls_trust", r"self[- ]signed certificate|unable to (get|verify) (the first certificate|local issuer)|UNABLE_TO_VERIFY|CERT_|certificate verify failed",
     "TLS trust failed: the workstation does not trust the certificate of the Bedrock endpoint or proxy. "
     "Set claude_fleet_network_ca_certificates to your company CA so NODE_EXTRA_CA_CERTS names it."),
    ("client_certificate",
     r"certificate required|CERTIFICATE_REQUIRED|alert (number )?116|handshake failure|CLAUDE_CODE_CLIENT_CERT|no client certificate is configured",
     "The endpoint demands a client certificate: set claude_fleet_network_client_cert and claude_fleet_network_client_key."),
    ("proxy", r"ECONNREFUSED.*(proxy|:3128|:8080)|proxy|407 Proxy|Tunnel connection failed",
     "The proxy refused or failed the connection: check claude_fleet_network_proxy and claude_fleet_network_no_proxy."),
    ("use_case_form", r"use case details have not been submitted",
     "Anthropic requires a one-time use-case form for this account: submit it in the Bedrock console (Model catalog, any Anthropic model)."),
    ("agreement", r"agreement|subscription|aws-marketplace",
     "The model's Marketplace agreement is pending or missing: accept it in the Bedrock console or grant aws-marketplace:Subscribe."),
    ("on_demand_not_supported", r"on-demand throughput isn.?t supported",
     "Model {model} cannot be invoked on demand in {region}: use an inference profile id (us./eu./apac./global. prefix) instead."),
    ("access_denied", r"AccessDenied|not authorized to perform|don.?t have access to the model",
     "Access denied for {model} in {region}: grant bedrock:InvokeModel and bedrock:InvokeModelWithResponseStream on the inference profile "
     "and its foundation models, and enable model access in the Bedrock console."),
    ("aws_profile_overrides_keys", r"probe note: AWS_PROFILE is set",
     "The user's login shell exports AWS_PROFILE (an rc file line outside the managed block) while the user has static keys: "
     "the AWS SDK then uses that profile and ignores the keys. Remove the export, or give the user auth_method: profile."),
    ("bad_credentials", r"security token included in the request is invalid|UnrecognizedClient|SignatureDoesNotMatch|InvalidSignature|"
     r"Could not load credentials|credentials|ExpiredToken|bearer",
     "AWS credentials were rejected or missing: check the auth method (profile, SSO login, API key) and that the keys are current."),
    ("not_found", r"ResourceNotFound|model identifier is invalid|could not resolve|not found",
     "Model {model} does not exist in {region}: check the model id and region, or run playbooks/verify.yml."),
    ("throttled", r"Throttl|Too many requests|429",
     "Bedrock throttled the requests: retry later or ask AWS for a higher quota in {region}."),
    ("unreachable", r"ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|Connection error|fetch failed|Connection refused|timed out",
     "The Bedrock endpoint is unreachable from the workstation: check ANTHROPIC_BEDROCK_BASE_URL, DNS and the proxy settings."),
    ("not_installed", r"claude: (command )?not found|Unknown command: claude|No such file",
     "The claude command is not on the login shell's PATH: re-run setup.yml and check the claude_code role's output."),
)


def smoke_remedy(output: str, rc: int = 1, model: str = "", region: str = "") -> dict:
    """Return {'cause': tag, 'remedy': text} for a failed `claude -p` run."""
    # A passing probe line ("TLS, client certificate and proxy work") is evidence against those causes, not for them.
    text = re.sub(r"(?m)^probe ok:.*$", "", output or "")
    for cause, pattern, remedy in _RULES:
        if re.search(pattern, text, re.IGNORECASE):
            return {"cause": cause, "remedy": remedy.format(model=model or "the model", region=region or "the region")}
    if rc in (124, 137):
        return {
            "cause": "timeout",
            "remedy": "Claude Code did not answer in time: this is usually TLS trust or a proxy. Run playbooks/verify.yml, "
                      "and set claude_fleet_network_ca_certificates / claude_fleet_network_proxy if the endpoint needs them.",
        }
    if rc == 0 and not text.strip():
        return {"cause": "empty_answer", "remedy": "Claude Code exited 0 but printed nothing: run it by hand with --debug."}
    return {"cause": "unknown", "remedy": "Claude Code failed (exit %s); run playbooks/verify.yml on this host for diagnostics." % rc}


def _truncate(text, length):
    """Jinja's truncate filter with its defaults (leeway 5, words kept whole, '...')."""
    if len(text) <= length + 5:
        return text
    return text[:length - 3].rsplit(" ", 1)[0] + "..."


def smoke_results(runs, probes=None, expect="", passwd=None, model="", region=""):
    """One report record per user of the smoke test's ``claude -p`` loop results (see DOCUMENTATION)."""
    out = []
    for run in runs or []:
        user = run["item"]
        rc = run.get("rc", 1)
        answer = (run.get("stdout") or "").strip()
        ok = rc == 0 and bool(answer) and (expect == "" or re.search(expect, answer) is not None)
        probe = next((p["stdout"] for p in probes or [] if p.get("item", {}).get("item") == user and "stdout" in p), "")
        if ok:
            why = {}
        elif rc == 0 and answer:
            why = {"cause": "unexpected_answer",
                   "remedy": "Claude Code answered, but not as claude_fleet_smoke_expect requires: " + answer[:80]}
        else:
            diag = "%s\n%s\n%s" % (probe, run.get("stdout") or "", run.get("stderr") or run.get("msg") or "")
            why = smoke_remedy(diag, rc=rc, model=model, region=region)
        out.append({"user": user, "status": "passed" if ok else "failed", "rc": run.get("rc"), "answer": answer[:200],
                    "shell": (passwd or {})[user][5], "cause": why.get("cause", ""), "remedy": why.get("remedy", ""),
                    "probe": _truncate(probe.strip(), 300)})
    return out


class FilterModule:
    """Smoke test filters."""

    def filters(self):
        return {"smoke_remedy": smoke_remedy, "smoke_results": smoke_results}
