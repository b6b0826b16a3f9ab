# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The settings role's option rules: each rule is stated once, with the message that names the option to fix."""
from __future__ import annotations

import json
import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.claude_fleet.bedrock.plugins.module_utils.mantle import mantle_model_id, proposed_model_id

DOCUMENTATION = r"""
name: settings_option_errors
short_description: Check the settings role's options before any change
version_added: 0.2.0
description:
  - C(settings_option_errors) takes the fleet-wide options (C(state), C(auth_method), C(aws_region),
    C(small_fast_model_region), C(guardrail_identifier), C(guardrail_version), C(managed_env_keys), C(max_output_tokens),
    C(max_thinking_tokens), C(aws_chain_resolve_timeout_ms), C(cert_store), each the C(settings_) option of that name) and
    returns one message per broken rule, naming the option.
  - "Companion filters, each returning a list of messages (empty when all is well):
    C(settings_users_errors) (the C(settings_users) list against the host's passwd entries: users that do not exist,
    unknown keys; options C(passwd), C(host), C(user_keys)),
    C(settings_user_errors) (one resolved user: shell, state, authentication method, home, profile, SSO options and the
    secrets the method needs; options C(cfg) (the user's C(settings_users) entry), C(fleet) (the fleet-wide options
    C(sso_configure), C(sso_start_url), C(sso_account_id), C(sso_role_name), C(bedrock_api_key), C(aws_access_key_id),
    C(aws_secret_access_key)), C(shells), C(auth_methods); messages never hold a secret),
    C(settings_mantle_errors) (the endpoint choice, the Mantle base URL and the model pins Mantle cannot call, with the
    Mantle id to use; options C(endpoint), C(mantle), C(base_url))."
options:
  _input:
    description: The options (C(settings_option_errors)), or what the companion filter checks.
    type: raw
    required: true
  auth_methods:
    description: The authentication methods the role knows.
    type: list
    elements: str
  region_re:
    description: The regular expression of an AWS region.
    type: str
  secret_keys:
    description: The environment names that carry credentials.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Check the fleet-wide options
  ansible.builtin.assert:
    that: __errors | length == 0
    fail_msg: "Invalid settings role options: {{ __errors | join(' ') }}"
  vars:
    __errors: >-
      {{ {'state': settings_state, 'auth_method': settings_auth_method, 'aws_region': settings_aws_region}
         | claude_fleet.bedrock.settings_option_errors(auth_methods=['profile', 'none'], region_re='^[a-z]{2}-[a-z]+-[0-9]+$',
           secret_keys=['AWS_SECRET_ACCESS_KEY']) }}
"""

RETURN = r"""
_value:
  description: One message per broken rule, naming the option; empty when every option is fine.
  type: list
  elements: str
"""

_NUMBER_RE = re.compile(r"^([0-9]+)?$")
_CERT_STORE_RE = re.compile(r"^((bundled|system)(,(bundled|system))?)?$")
_SSO_ACCOUNT_RE = re.compile(r"^[0-9]{12}$")
_PROFILE_METHODS = ("profile", "sso", "credential_export")
ENDPOINTS = ("runtime", "mantle")
# An http(s) URL without credentials, query or fragment.
_MANTLE_URL_RE = re.compile(r"^https?://[^\s/?#@]+(/[^\s?#]*)?$")


def _json(value):
    return json.dumps(value)


def _text(value):
    """What Jinja's ``string`` filter gives (None is 'None', like the role's templates)."""
    return value if isinstance(value, str) else str(value)


def _need(mapping, names, who):
    if not isinstance(mapping, Mapping) or any(name not in mapping for name in names):
        raise AnsibleFilterError("%s expects a dictionary with %s" % (who, ", ".join(names)))


_OPTIONS = ("state", "auth_method", "aws_region", "small_fast_model_region", "guardrail_identifier", "guardrail_version",
            "managed_env_keys", "max_output_tokens", "max_thinking_tokens", "aws_chain_resolve_timeout_ms", "cert_store")


def settings_option_errors(options, auth_methods, region_re, secret_keys):
    """One message per broken fleet-wide rule (see DOCUMENTATION)."""
    _need(options, _OPTIONS, "settings_option_errors")
    o = options
    errors = []
    if o["state"] not in ("present", "absent"):
        errors.append("settings_state must be present or absent (got %s)." % o["state"])
    if o["auth_method"] not in auth_methods:
        errors.append("settings_auth_method must be one of %s (got %s)." % (", ".join(auth_methods), o["auth_method"]))
    if not re.match(region_re, _text(o["aws_region"])):
        errors.append("settings_aws_region %s is not an AWS region such as us-east-1 or eu-central-1." % _json(o["aws_region"]))
    if o["small_fast_model_region"] and not re.match(region_re, _text(o["small_fast_model_region"])):
        errors.append("settings_small_fast_model_region %s is not an AWS region." % _json(o["small_fast_model_region"]))
    if o["guardrail_identifier"] and not _text(o["guardrail_version"]):
        errors.append("settings_guardrail_version must be set (a version number or DRAFT) when settings_guardrail_identifier is set.")
    secrets = [key for key in dict.fromkeys(o["managed_env_keys"] or []) if key in secret_keys]
    if secrets:
        errors.append("settings_managed_env_keys must not list secrets (%s): the managed settings file is world-readable."
                      % ", ".join(secrets))
    for name in ("max_output_tokens", "max_thinking_tokens"):
        if not _NUMBER_RE.match(_text(o[name])):
            errors.append("settings_%s must be a number or empty." % name)
    if not _NUMBER_RE.match(_text(o["aws_chain_resolve_timeout_ms"])):
        errors.append("settings_aws_chain_resolve_timeout_ms must be a number of milliseconds or empty (got %s)."
                      % _json(_text(o["aws_chain_resolve_timeout_ms"])))
    if not _CERT_STORE_RE.match(_text(o["cert_store"])):
        errors.append('settings_cert_store must be bundled, system, "bundled,system" or empty (got %s).' % _json(_text(o["cert_store"])))
    return errors


def settings_users_errors(users, passwd, host, user_keys):
    """Users of settings_users missing on HOST, and unknown keys of its entries."""
    errors = []
    missing = [user["name"] for user in users if user["name"] not in passwd]
    if missing:
        errors.append("settings_users names users that do not exist on %s: %s." % (host, ", ".join(missing)))
    unknown = list(dict.fromkeys(key for user in users for key in user if key not in user_keys))
    if unknown:
        errors.append("settings_users entries have unknown keys: %s (known: %s)." % (", ".join(unknown), ", ".join(user_keys)))
    return errors


_FLEET = ("sso_configure", "sso_start_url", "sso_account_id", "sso_role_name", "bedrock_api_key", "aws_access_key_id",
          "aws_secret_access_key")


def settings_user_errors(user, cfg, fleet, shells, auth_methods):
    """One message per broken rule of one resolved user; the messages never hold a secret."""
    _need(user, ("name", "shell", "home", "state", "auth_method", "aws_profile"), "settings_user_errors")
    _need(fleet, _FLEET, "settings_user_errors")
    name, method = user["name"], user["auth_method"]
    label = "settings_users[%s]" % name
    errors = []
    if user["shell"] not in shells:
        errors.append("%s.shell %s is not supported (bash, zsh or fish); set shell explicitly when the login shell is something"
                      " else." % (label, _json(user["shell"])))
    if user["state"] not in ("present", "absent"):
        errors.append("%s.state must be present or absent." % label)
    if method not in auth_methods:
        errors.append("%s.auth_method %s must be one of %s." % (label, _json(method), ", ".join(auth_methods)))
    if not re.match("^/", _text(user["home"])):
        errors.append("%s.home must be an absolute path." % label)
    if method in _PROFILE_METHODS and not user["aws_profile"]:
        errors.append("settings_aws_profile (or %s.aws_profile) must be set for auth method %s." % (label, method))
    if method == "sso" and fleet["sso_configure"] and not (
            fleet["sso_start_url"] and _SSO_ACCOUNT_RE.match(_text(fleet["sso_account_id"])) and fleet["sso_role_name"]):
        errors.append("settings_aws_sso_configure needs settings_aws_sso_start_url, settings_aws_sso_account_id (12 digits) and"
                      " settings_aws_sso_role_name.")

    def given(key):
        return _text(cfg.get(key, fleet[key]))

    if method == "api_key" and not given("bedrock_api_key"):
        errors.append("User %s: auth method api_key needs settings_bedrock_api_key (or settings_users[].bedrock_api_key)." % name)
    if method == "static_keys" and not (given("aws_access_key_id") and given("aws_secret_access_key")):
        errors.append("User %s: auth method static_keys needs settings_aws_access_key_id and settings_aws_secret_access_key (or the"
                      " settings_users[] keys)." % name)
    return errors


def settings_mantle_errors(pins, endpoint, mantle, base_url):
    """The endpoint choice, the Mantle base URL, and the pins Mantle cannot call (with the Mantle id to use)."""
    errors = []
    if endpoint not in ENDPOINTS:
        errors.append("settings_bedrock_endpoint (claude_fleet_bedrock_endpoint) must be runtime or mantle, got %s." % _json(endpoint))
    if not mantle:
        return errors
    if base_url and not _MANTLE_URL_RE.match(base_url):
        errors.append("settings_mantle_base_url %s is not an http(s) URL without credentials, query or fragment." % _json(base_url))
    for pin in pins:
        value = pin["value"]
        if not value or mantle_model_id(value) is not None:
            continue
        # The same model on Mantle: no geo prefix, no date or version suffix; a [1m] suffix stays.
        proposal = proposed_model_id(value)
        use = (": use %s." % _json(proposal + ("[1m]" if value.endswith("[1m]") else ""))) if proposal else "."
        errors.append("%s %s cannot be called on Amazon Bedrock (Mantle), which serves model ids without a geo prefix, version"
                      " suffix or ARN%s" % (pin["option"], _json(value), use))
    return errors


class FilterModule:
    """Option rules of the settings role."""

    def filters(self):
        return {
            "settings_option_errors": settings_option_errors,
            "settings_users_errors": settings_users_errors,
            "settings_user_errors": settings_user_errors,
            "settings_mantle_errors": settings_mantle_errors,
        }
