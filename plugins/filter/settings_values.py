# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rules for the values the settings role writes into shell files, HTTP headers, URLs and INI files.

Every message names the option and the reason and never the value: the same text is shown whether
or not the option is a secret, so a failure stays readable even when the task results are censored.
"""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import parse_qsl, urlsplit

DOCUMENTATION = r"""
name: settings_value_errors
short_description: Check the settings role's option values before they are written anywhere
version_added: 0.2.0
description:
  - Takes a list of C({option, value, kind}) items and returns one message per bad item, naming the
    option and the reason, never the value (secrets are checked by the same rule).
  - "Kinds: C(text) (one line: no C0 control character, DEL or Unicode line separator), C(env) (a mapping
    of environment variable names to text values), C(names) (a list of environment variable names),
    C(url) (text that is an absolute http(s) URL or empty), C(ini) (text without leading or trailing white space),
    C(ini_section) (an C(ini) value without C([) or C(]), for profile and session names), C(users) (the
    C(settings_users) list: each entry's fields by these rules), C(world_readable_env) (an C(env) mapping bound
    for a world-readable file: a value that looks like a credential is an error), C(headers) (a mapping of RFC 7230 header names
    to header values), C(path) (a path relative to the home that can sit inside a double-quoted shell word),
    C(text_list) (a list of C(text)), C(text_map) (a mapping of C(text) keys to C(text) values), C(number) (digits only,
    or empty; the item's C(minimum) bounds it), C(choice) (one of the item's C(choices), or empty), C(choice_list)
    (comma-separated C(choices), each once, or empty), C(abs_path) (an absolute path of letters, digits and C(. _ / -),
    without C(..)), C(repo_path) (a relative path of the same characters inside a repository; the item's C(suffix) ends it),
    C(git_url) (an https, http, ssh, git or file URL, or user@host:path, never starting with C(-)), C(git_ref) (a branch, tag
    or commit), C(pip_requirement) (one requirement such as C(ansible-core==2.19.14)), C(calendar) (a systemd calendar
    expression), C(var_names) (a mapping whose keys are Ansible variable names; its values are written as JSON)."
  - Every kind but C(var_names) holds the value to one line first (C(text)); an item with C(required) true must not be empty.
  - Companion filters C(settings_credential_reasons) and C(settings_credential_keys) tell which values look
    like credentials (an C(Authorization) header, a URL with a user name or a token query parameter).
options:
  _input:
    description: The items to check.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Check the values
  ansible.builtin.assert:
    that: __errors | length == 0
    fail_msg: "{{ __errors | join(' ') }}"
  vars:
    __errors: "{{ [{'option': 'settings_guardrail_identifier', 'value': settings_guardrail_identifier, 'kind': 'text'}]
                  | claude_fleet.bedrock.settings_value_errors }}"
"""

RETURN = r"""
_value:
  description: One message per bad item (empty when every value is fine).
  type: list
  elements: str
"""

ENV_NAME_RE = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]*\Z")
# RFC 7230 section 3.2.6: token = 1*tchar.
HEADER_NAME_RE = re.compile(r"\A[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
# Characters a double-quoted shell word or the rc line `. "$HOME/<path>"` would interpret.
_SHELL_DQ_SPECIAL = set('"$`\\')
# Line breaks that str.splitlines() (and so blockinfile and Python INI parsers) honour besides C0:
# a value holding one would become two lines of the file it is written into.
_LINE_SEPARATORS = {"\x85", "\u2028", "\u2029"}

# Header names that carry credentials; matched case-insensitively against the whole name or its words.
_CREDENTIAL_HEADER_RE = re.compile(
    r"(^|[-_])(authorization|proxy-authorization|cookie|api[-_]?key|x-api-key|token|auth[-_]?token|secret|password|passwd"
    r"|credentials?|session|signature|x-amz-security-token)($|[-_])", re.IGNORECASE)
_CREDENTIAL_VALUE_RE = re.compile(r"^\s*(bearer|basic|digest|negotiate|aws4-hmac-sha256|token)\s+\S", re.IGNORECASE)
_CREDENTIAL_QUERY_RE = re.compile(
    r"(token|secret|password|passwd|pwd|api[-_]?key|apikey|key|sig|signature|auth|credential|session|x-amz-)", re.IGNORECASE)


# unicodedata has no names for most C0 characters.
_CONTROL_NAMES = {0x00: "NUL", 0x09: "TAB", 0x0A: "LINE FEED", 0x0D: "CARRIAGE RETURN", 0x1B: "ESCAPE", 0x7F: "DELETE"}


def control_character(text):
    """(index, description) of the first character that would break a line or a quoted word, else None."""
    for index, char in enumerate(text):
        code = ord(char)
        if code < 0x20 or code == 0x7F or char in _LINE_SEPARATORS:
            name = unicodedata.name(char, None) or _CONTROL_NAMES.get(code, "control character")
            return index, "U+%04X %s" % (code, name)
    return None


def _text_error(option, value):
    if value is None:
        return None
    if isinstance(value, bool):
        value = str(value).lower()
    if isinstance(value, (int, float)):
        value = str(value)
    if not isinstance(value, str):
        return "%s must be a string (got a %s)." % (option, _type_name(value))
    found = control_character(value)
    if found:
        return ("%s contains a control character (%s at position %d): values are written into shell files, HTTP "
                "headers, URLs and INI files, where it would start a new line or end the value." % (option, found[1], found[0]))
    return None


def _type_name(value):
    return {dict: "mapping", list: "list", tuple: "list"}.get(type(value), type(value).__name__)


def _env_errors(option, value):
    if value is None:
        return []
    if not isinstance(value, dict):
        return ["%s must be a mapping of environment variable names to values (got a %s)." % (option, _type_name(value))]
    errors = []
    for name, item in value.items():
        name_error = _name_error(option, name)
        if name_error:
            errors.append(name_error)
            continue
        error = _text_error("%s[%s]" % (option, name), item)
        if error:
            errors.append(error)
    return errors


def _name_error(option, name):
    if isinstance(name, str) and ENV_NAME_RE.match(name):
        return None
    shown = name if isinstance(name, str) and control_character(name) is None else "with a control character"
    return "%s has a key that is not an environment variable name (^[A-Za-z_][A-Za-z0-9_]*$): %r." % (option, shown)


def _url_error(option, value):
    error = _text_error(option, value)
    if error or not value:
        return error
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "%s is not a URL (the host or port does not parse)." % option
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        return "%s must be an absolute http:// or https:// URL with a host and no spaces." % option
    return None


def _header_errors(option, value):
    if value is None:
        return []
    if not isinstance(value, dict):
        return ["%s must be a mapping of header names to values, one Name: value per item (got a %s)." % (option, _type_name(value))]
    errors = []
    for name, item in value.items():
        if not isinstance(name, str) or not HEADER_NAME_RE.match(name):
            shown = name if isinstance(name, str) and control_character(name) is None else "with a control character"
            errors.append("%s has a header name that is not an RFC 7230 token (letters, digits and !#$%%&'*+.^_`|~-): %r."
                          % (option, shown))
            continue
        error = _text_error("%s[%s]" % (option, name), item)
        if error:
            errors.append(error)
    return errors


def _path_error(option, value):
    error = _text_error(option, value)
    if error or not value:
        return error
    if value.startswith("/") or ".." in value.split("/"):
        return "%s must be a path relative to the home without .. components." % option
    bad = sorted(set(value) & _SHELL_DQ_SPECIAL)
    if bad:
        return "%s must not contain %s: the rc files source it inside a double-quoted shell word." % (option, " ".join(bad))
    return None


def _ini_error(option, value, section=False):
    error = _text_error(option, value)
    if error or not value:
        return error
    if value != value.strip():
        return "%s must not start or end with white space: INI parsers strip it." % option
    if section and set(value) & set("[]"):
        return "%s must not contain [ or ]: it names an INI section." % option
    return None


def _names_errors(option, value):
    if value is None:
        return []
    if isinstance(value, dict):
        value = list(value)
    if not isinstance(value, (list, tuple)):
        return ["%s must be a list of environment variable names (got a %s)." % (option, _type_name(value))]
    return [error for error in (_name_error(option, name) for name in value) if error]


# The fields of a settings_users entry and how each is written (the secrets are checked by the same rules).
_USER_FIELDS = {
    "name": "text", "shell": "text", "home": "text", "state": "text", "auth_method": "text", "aws_profile": "ini_section",
    "bedrock_api_key": "text", "aws_access_key_id": "text", "aws_secret_access_key": "text", "aws_session_token": "text",
    "extra_env": "env", "extra_secret_env": "env",
}


def _users_errors(option, value):
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        return ["%s must be a list of users (got a %s)." % (option, _type_name(value))]
    errors = []
    for index, entry in enumerate(value):
        if not isinstance(entry, dict):
            errors.append("%s[%d] must be a mapping (got a %s)." % (option, index, _type_name(entry)))
            continue
        name = entry.get("name")
        label = name if isinstance(name, str) and name and control_character(name) is None else str(index)
        for field, kind in _USER_FIELDS.items():
            if field in entry:
                errors.extend(_KINDS[kind]("%s[%s].%s" % (option, label, field), entry[field]))
    return errors


def _world_readable_errors(option, value):
    errors = _env_errors(option, value)
    if errors or not isinstance(value, dict):
        return errors
    return ["%s[%s] looks like a credential (%s): the managed settings file is world-readable; set it in "
            "settings_extra_secret_env (each user's 0600 settings.json) instead." % (option, key, "; ".join(reasons))
            for key, reasons in settings_credential_reasons(value).items()]


def _list_errors(option, value):
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        return ["%s must be a list (got a %s)." % (option, _type_name(value))]
    return [e for e in (_text_error("%s[%d]" % (option, index), item) for index, item in enumerate(value)) if e]


def _map_errors(option, value):
    if value is None:
        return []
    if not isinstance(value, dict):
        return ["%s must be a mapping (got a %s)." % (option, _type_name(value))]
    errors = []
    for key, item in value.items():
        if not isinstance(key, str) or control_character(key) is not None:
            errors.append("%s has a key that is not one line of text." % option)
            continue
        error = _text_error("%s[%s]" % (option, key), item)
        if error:
            errors.append(error)
    return errors


_DIGITS_RE = re.compile(r"\A[0-9]+\Z")
# A path of the characters a unit file, a cron line and a shell word take as they are.
_PLAIN_PATH_RE = re.compile(r"\A[A-Za-z0-9._/-]+\Z")
_GIT_URL_RE = re.compile(r"\A(?:(?:https?|ssh|git)://[^\s/@]*@?[A-Za-z0-9.\[\]:-]+(?:/\S*)?|file:///\S+|[A-Za-z0-9._][A-Za-z0-9._-]*@[A-Za-z0-9.-]+:\S+)\Z")
_GIT_REF_RE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._/-]*\Z")
_PIP_REQUIREMENT_RE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]*(?:[<>=!~]=?[A-Za-z0-9.*+!_-]+(?:,[<>=!~]=?[A-Za-z0-9.*+!_-]+)*)?\Z")
_CALENDAR_RE = re.compile(r"\A[A-Za-z0-9:*,./~][A-Za-z0-9:*,./~ -]*\Z")
_VAR_NAME_RE = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]*\Z")


def _scalar(value):
    """VALUE as text for the one-line rules (YAML may hand a number or a boolean)."""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if isinstance(value, (int, float)) else value


def _number_error(option, value, item):
    error = _text_error(option, value)
    if error or value in (None, ""):
        return error
    if isinstance(value, bool) or not _DIGITS_RE.match(str(_scalar(value))):
        return "%s must be a whole number (digits only)%s." % (option, "" if item.get("required") else " or empty")
    minimum = item.get("minimum")
    if minimum is not None and int(_scalar(value)) < minimum:
        return "%s must be at least %d." % (option, minimum)
    return None


def _choice_error(option, value, item):
    error = _text_error(option, value)
    if error or value in (None, ""):
        return error
    choices = [str(c) for c in item.get("choices") or []]
    if _scalar(value) not in choices:
        return "%s must be one of %s%s." % (option, ", ".join(choices), "" if item.get("required") else " or empty")
    return None


def _choice_list_error(option, value, item):
    error = _text_error(option, value)
    if error or value in (None, ""):
        return error
    choices = [str(c) for c in item.get("choices") or []]
    parts = str(_scalar(value)).split(",")
    if any(part not in choices for part in parts) or len(set(parts)) != len(parts):
        return "%s must be a comma-separated list of %s, each at most once, without spaces, or empty." % (option, ", ".join(choices))
    return None


def _pattern_error(option, value, item, pattern, what):
    error = _text_error(option, value)
    if error or value in (None, ""):
        return error
    text = _scalar(value)
    if not isinstance(text, str) or not pattern.match(text):
        return "%s must be %s." % (option, what)
    return None


def _abs_path_error(option, value, item):
    error = _pattern_error(option, value, item, _PLAIN_PATH_RE, "an absolute path of letters, digits and . _ / -")
    if error or value in (None, ""):
        return error
    if not value.startswith("/") or ".." in value.split("/"):
        return "%s must be an absolute path of letters, digits and . _ / - without .. components." % option
    return None


def _repo_path_error(option, value, item):
    suffix = item.get("suffix") or ""
    what = "a path inside the repository (letters, digits and . _ / -, no .. components%s)" % (
        ", ending in %s" % " or ".join(suffix.split("|")) if suffix else "")
    error = _pattern_error(option, value, item, _PLAIN_PATH_RE, what)
    if error or value in (None, ""):
        return error
    if not (value[0].isalnum() or value[0] == "_") or ".." in value.split("/") \
            or (suffix and not value.endswith(tuple(suffix.split("|")))):
        return "%s must be %s." % (option, what)
    return None


def _git_ref_error(option, value, item):
    what = "a branch, tag or commit (letters, digits and . _ / -, starting with a letter or digit)"
    error = _pattern_error(option, value, item, _GIT_REF_RE, what)
    if error or value in (None, ""):
        return error
    if ".." in value or value.endswith(("/", ".", ".lock")) or "//" in value:
        return "%s must be %s, without .., // or a trailing / . or .lock." % (option, what)
    return None


def _var_names_errors(option, value, item):
    if value is None:
        return []
    if not isinstance(value, dict):
        return ["%s must be a mapping of variable names to values (got a %s)." % (option, _type_name(value))]
    errors = []
    for key in value:
        if not isinstance(key, str) or not _VAR_NAME_RE.match(key):
            shown = key if isinstance(key, str) and control_character(key) is None and len(key) <= 64 else "with a control character or too long"
            errors.append("%s has a key that is not a variable name (^[A-Za-z_][A-Za-z0-9_]*$): %r." % (option, shown))
    return errors


def _one(check):
    return lambda option, value, item: [e for e in [check(option, value, item)] if e]


# Kinds whose rule reads more of the item than its value (choices, minimum, suffix, required).
_ITEM_KINDS = {
    "number": _one(_number_error),
    "choice": _one(_choice_error),
    "choice_list": _one(_choice_list_error),
    "abs_path": _one(_abs_path_error),
    "repo_path": _one(_repo_path_error),
    "git_url": _one(lambda option, value, item: _pattern_error(
        option, value, item, _GIT_URL_RE, "a git URL (https://, http://, ssh://, git://, file:// or user@host:path) without spaces")),
    "git_ref": _one(_git_ref_error),
    "pip_requirement": _one(lambda option, value, item: _pattern_error(
        option, value, item, _PIP_REQUIREMENT_RE, "one pip requirement such as ansible-core==2.19.14")),
    "calendar": _one(lambda option, value, item: _pattern_error(
        option, value, item, _CALENDAR_RE, "a systemd calendar expression such as hourly")),
    "var_names": _var_names_errors,
}


_KINDS = {
    "text": lambda option, value: [e for e in [_text_error(option, value)] if e],
    "url": lambda option, value: [e for e in [_url_error(option, value)] if e],
    "path": lambda option, value: [e for e in [_path_error(option, value)] if e],
    "ini": lambda option, value: [e for e in [_ini_error(option, value)] if e],
    "ini_section": lambda option, value: [e for e in [_ini_error(option, value, section=True)] if e],
    "env": _env_errors,
    "names": _names_errors,
    "headers": _header_errors,
    "users": _users_errors,
    "world_readable_env": _world_readable_errors,
    "text_list": _list_errors,
    "text_map": _map_errors,
}


def settings_value_errors(items):
    """One message per bad item of [{option, value, kind}]; the messages never contain a value."""
    errors = []
    for item in items or []:
        kind = item.get("kind", "text")
        if kind not in _KINDS and kind not in _ITEM_KINDS:
            raise ValueError("settings_value_errors: unknown kind %r for %s" % (kind, item.get("option")))
        value = item.get("value")
        if item.get("required") and (value is None or value == "" or value == [] or value == {}):
            errors.append("%s must be set." % item["option"])
        elif kind in _ITEM_KINDS:
            errors.extend(_ITEM_KINDS[kind](item["option"], value, item))
        else:
            errors.extend(_KINDS[kind](item["option"], value))
    return errors


def credential_reasons(value, header_name=None):
    """Why VALUE (a URL, a header value, or a 'Name: value' header text) looks like a credential: [] when it does not."""
    if not isinstance(value, str) or not value:
        return []
    reasons = []
    if header_name is not None:
        if _CREDENTIAL_HEADER_RE.search(header_name):
            reasons.append("the %s header carries a credential" % header_name)
        elif _CREDENTIAL_VALUE_RE.match(value):
            reasons.append("the %s header value is an authorization scheme (Bearer, Basic, ...)" % header_name)
        return reasons
    if "\n" in value or re.match(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+:\s", value):
        for line in value.split("\n"):
            name, sep, rest = line.partition(":")
            if sep:
                reasons.extend(credential_reasons(rest.strip(), header_name=name.strip()))
        return reasons
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return reasons
    if parts.scheme and parts.netloc:
        if "@" in parts.netloc:
            reasons.append("the URL has a user name or password (user:password@host)")
        names = sorted({pair[0] for pair in parse_qsl(parts.query, keep_blank_values=True) if _CREDENTIAL_QUERY_RE.search(pair[0])})
        if names:
            reasons.append("the URL has a query parameter that carries a token (%s)" % ", ".join(names))
    return reasons


def settings_credential_reasons(env):
    """{key: [reasons]} for the values of the mapping ENV that look like credentials (reasons never hold values)."""
    return {key: found for key, found in ((key, credential_reasons(value)) for key, value in (env or {}).items()) if found}


def settings_credential_keys(env):
    """The keys of ENV whose values look like credentials."""
    return sorted(settings_credential_reasons(env))


class FilterModule:
    """Value rules of the settings role."""

    def filters(self):
        return {
            "settings_value_errors": settings_value_errors,
            "settings_credential_reasons": settings_credential_reasons,
            "settings_credential_keys": settings_credential_keys,
        }
