# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Bedrock preflight's cache: a passing preflight is reused while its inputs are unchanged and it is younger
than a maximum age (claude_fleet_preflight_max_age). Used by the bedrock_preflight action."""
from __future__ import annotations

import datetime
import hashlib
import json
import os

from ansible_collections.claude_fleet.bedrock.plugins.plugin_utils.action import write_atomic

_KEEP = 256  # host groups (one entry each)
# The controller's own AWS credential sources when no key is given: their content is part of the identity.
_AWS_FILES = (('AWS_SHARED_CREDENTIALS_FILE', '~/.aws/credentials'), ('AWS_CONFIG_FILE', '~/.aws/config'))
_AWS_ENV = ('AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN',
            'AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_FULL_URI')


def _file_digest(path):
    try:
        with open(os.path.expanduser(path), 'rb') as handle:
            return hashlib.sha256(handle.read(1024 * 1024)).hexdigest()
    except OSError:
        return ''


def inputs_key(inputs, environ=None):
    """Digest of what decides the preflight's answer: its inputs (secrets included, only ever digested), and the
    controller's AWS environment and credential files, so a rotated key or another profile checks again."""
    environ = os.environ if environ is None else environ
    document = {
        'inputs': inputs,
        'env': {name: hashlib.sha256(environ[name].encode('utf-8')).hexdigest() for name in _AWS_ENV if name in environ},
        'files': {default: _file_digest(environ.get(name, default)) for name, default in _AWS_FILES},
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=repr).encode('utf-8')).hexdigest()


def lookup(cache, key, max_age, now):
    """The cached passing result for key when younger than max_age seconds (0: never reuse), else None."""
    entry = cache.get(key) if max_age > 0 else None
    if not isinstance(entry, dict) or not isinstance(entry.get('result'), dict) or not entry['result'].get('usable'):
        return None
    age = now - float(entry.get('checked', 0))
    return entry if 0 <= age < max_age else None


def load(path):
    try:
        with open(path, encoding='utf-8') as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save(path, cache):
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    newest = dict(sorted(cache.items(), key=lambda kv: -float(kv[1].get('checked', 0)))[:_KEEP])
    write_atomic(path, json.dumps(newest, indent=1, sort_keys=True), 0o600, prefix='.preflight-')


def remember(cache, key, result, now):
    """The cache entry of a passing result; checked_at is when its checks ran, as the result says (the report shows it)."""
    cache[key] = {'checked': now, 'result': result,
                  'checked_at': result.get('checked_at') or datetime.datetime.fromtimestamp(now, datetime.timezone.utc).isoformat()}
    return cache
