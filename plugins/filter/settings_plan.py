# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The settings role's per-user plan: who the users are, and what goes into each one's settings.json and shell files."""
from __future__ import annotations

import os
import shlex
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: settings_users_resolved
short_description: The settings role's developer users, resolved against the host's user database
version_added: 0.2.0
description:
  - "C(settings_users_resolved) takes C(settings_users) and returns each user's C(name), C(shell) (the basename of the
    entry's shell or of the login shell), C(home) (the entry's or the passwd home), C(state), C(auth_method) and
    C(aws_profile) (the entry's, else the fleet-wide O(defaults)). Public fields only: no secret is copied."
  - "Companion filters:
    C(settings_macos_passwd) (the registered C(dscacheutil -q user) loop results as getent-style passwd entries);
    C(settings_env_values) (a mapping of environment values as the files hold them: V(true) is V(1), V(none) and V(false)
    leave the key out, anything else is text);
    C(settings_user_secret_env) (one user's credentials for their 0600 settings.json: the authentication method's keys, then
    the fleet's O(secrets) that are set, then the credential-looking fleet values and the extra secret env);
    C(settings_user_top) (the top-level C(awsAuthRefresh) / C(awsCredentialExport) command of the SSO and credential export methods);
    C(settings_shell_env) (the keys of a mapping that the shell files export, then the shell's extra env)."
options:
  _input:
    description: What the filter resolves (C(settings_users) for C(settings_users_resolved)).
    type: raw
    required: true
  passwd:
    description: The host's passwd entries (C(getent_passwd) shape), by user name.
    type: dict
  defaults:
    description: The fleet-wide C(state), C(auth_method) and C(aws_profile).
    type: dict
"""

EXAMPLES = r"""
- name: Resolve the users
  ansible.builtin.set_fact:
    users: >-
      {{ settings_users | claude_fleet.bedrock.settings_users_resolved(passwd=ansible_facts['getent_passwd'],
         defaults={'state': 'present', 'auth_method': 'profile', 'aws_profile': 'bedrock'}) }}
"""

RETURN = r"""
_value:
  description: The resolved users (C(settings_users_resolved)), or what the companion filter returns.
  type: raw
"""


def _text(value):
    """What Jinja's ``string`` filter gives."""
    return value if isinstance(value, str) else str(value)


def settings_users_resolved(users, passwd, defaults):
    """Each user's public fields, with the login shell and home of PASSWD and the fleet-wide DEFAULTS."""
    if not isinstance(defaults, Mapping) or any(key not in defaults for key in ("state", "auth_method", "aws_profile")):
        raise AnsibleFilterError("settings_users_resolved expects defaults with state, auth_method and aws_profile")
    out = []
    for user in users:
        entry = passwd[user["name"]]
        out.append({
            "name": user["name"],
            "shell": os.path.basename(user.get("shell") or entry[5]),
            "home": user.get("home") or entry[4],
            "state": user.get("state") or defaults["state"],
            "auth_method": user.get("auth_method") or defaults["auth_method"],
            "aws_profile": _text(user.get("aws_profile") or defaults["aws_profile"]),
        })
    return out


def settings_macos_passwd(results):
    """{user: ['*', uid, gid, '', home, shell]} from the registered dscacheutil loop (users it did not find are left out)."""
    out = {}
    for run in results or []:
        if not run.get("stdout"):
            continue
        entry = dict(line.split(": ", 1) for line in run.get("stdout_lines", []) if ": " in line)
        out[run["item"]] = ["*", entry.get("uid", ""), entry.get("gid", ""), "", entry.get("dir", ""), entry.get("shell", "")]
    return out


def settings_env_values(env):
    """Environment values as the files hold them: true is '1'; none and false leave the key out."""
    return {key: "1" if value is True else _text(value) for key, value in (env or {}).items() if value is not None and value is not False}


def settings_user_secret_env(cfg, auth_method, secrets, fleet_env, credential_keys, extra_secret_env):
    """One user's credentials for their 0600 settings.json, in the order the file has always listed them.

    CFG is the user's settings_users entry (its keys win over the fleet's), SECRETS the fleet's credentials
    (bedrock_api_key, aws_access_key_id, aws_secret_access_key, aws_session_token) and the other secret values,
    already empty when they do not apply (otlp_headers, proxy, client_key_passphrase); CREDENTIAL_KEYS the keys
    of FLEET_ENV whose values look like credentials.
    """
    def own(key):
        return _text(cfg.get(key, secrets[key]))

    out = {}
    if auth_method == "api_key":
        out["AWS_BEARER_TOKEN_BEDROCK"] = own("bedrock_api_key")
    elif auth_method == "static_keys":
        out["AWS_ACCESS_KEY_ID"] = own("aws_access_key_id")
        out["AWS_SECRET_ACCESS_KEY"] = own("aws_secret_access_key")
        if own("aws_session_token"):
            out["AWS_SESSION_TOKEN"] = own("aws_session_token")
    if secrets["otlp_headers"]:
        out["OTEL_EXPORTER_OTLP_HEADERS"] = _text(secrets["otlp_headers"])
    if secrets["proxy"]:
        out["HTTPS_PROXY"] = out["HTTP_PROXY"] = _text(secrets["proxy"])
    if secrets["client_key_passphrase"]:
        out["CLAUDE_CODE_CLIENT_KEY_PASSPHRASE"] = _text(secrets["client_key_passphrase"])
    out.update((key, fleet_env[key]) for key in credential_keys)
    out.update({key: _text(value) for key, value in (extra_secret_env or {}).items() if value is not None})
    return out


def settings_user_top(auth_method, profile, refresh_command="", export_command=""):
    """The top-level settings.json key of the SSO (awsAuthRefresh) and credential export (awsCredentialExport) methods."""
    if auth_method == "sso":
        return {"awsAuthRefresh": refresh_command or "aws sso login --profile " + shlex.quote(_text(profile))}
    if auth_method == "credential_export":
        default = "aws configure export-credentials --profile " + shlex.quote(_text(profile)) + " --format process"
        return {"awsCredentialExport": export_command or default}
    return {}


def settings_shell_env(env, keys, extra_env):
    """The KEYS of ENV (in the order of KEYS) the shell files export, then EXTRA_ENV (see settings_env_values)."""
    out = {key: env[key] for key in keys if key in env}
    out.update(settings_env_values(extra_env))
    return out


class FilterModule:
    """Per-user plan of the settings role."""

    def filters(self):
        return {
            "settings_users_resolved": settings_users_resolved,
            "settings_macos_passwd": settings_macos_passwd,
            "settings_env_values": settings_env_values,
            "settings_user_secret_env": settings_user_secret_env,
            "settings_user_top": settings_user_top,
            "settings_shell_env": settings_shell_env,
        }
