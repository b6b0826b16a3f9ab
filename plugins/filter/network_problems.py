# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The _network role's option rules, each stated once with the message that names the option to fix."""
from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: network_problems
short_description: Check the collection's network options before any change
version_added: 0.2.0
description:
  - Takes the network options (C(proxy), C(no_proxy), C(ca_certificates), C(client_cert), C(client_key),
    C(client_key_passphrase), each the C(claude_fleet_network_) option of that name) and returns one message per
    broken rule, naming the option. An empty list means all is well.
  - CA certificates, the client certificate and the key are PEM text or paths of PEM files on the controller, which
    are read (at most 1 MiB each) to check they hold PEM. Messages never show a key, a passphrase or a proxy password.
options:
  _input:
    description: The network options.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Check the network options
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems }}"
  vars:
    problems: "{{ {'proxy': claude_fleet_network_proxy} | claude_fleet.bedrock.network_problems }}"
"""

RETURN = r"""
_value:
  description: One message per broken rule.
  type: list
  elements: str
"""

PEM_CERT = re.compile(r'-----BEGIN CERTIFICATE-----')
PEM_KEY = re.compile(r'-----BEGIN ([A-Z]+ )?(ENCRYPTED )?PRIVATE KEY-----')
# As the roles always checked it; a trailing line break is left to the control-character rule of the role that
# writes the value (plugins/filter/settings_values.py), whose message names that role's option.
_PROXY = re.compile(r'^https?://[^/\s]+/?$')
_FILE_LIMIT = 1024 * 1024


def proxy_shown(proxy):
    """The proxy URL with its user name and password replaced, for messages."""
    return re.sub(r'^([A-Za-z0-9+.-]+://)[^/@]*@', r'\1***@', str(proxy))


def _controller_file(value):
    """The text of a regular controller file named by value (None when value names none); read with a bound."""
    if not isinstance(value, str) or '\n' in value or not value or not os.path.isfile(value):
        return None
    with open(value, 'rb') as handle:
        return handle.read(_FILE_LIMIT).decode('utf-8', 'replace')


def _pem(value, pattern):
    """'text' or 'file' when value is PEM text or a controller file holding PEM; 'file-not-pem', or None."""
    if not isinstance(value, str):
        return None
    if pattern.search(value):
        return 'text'
    try:
        text = _controller_file(value)
    except OSError:
        text = None
    if text is None:
        return None
    return 'file' if pattern.search(text) else 'file-not-pem'


def network_problems(options):
    """One message per broken rule of the network options (empty: all is well)."""
    if not isinstance(options, Mapping):
        raise AnsibleFilterError('network_problems: expects a mapping of the network options')
    proxy = options.get('proxy', '')
    no_proxy = options.get('no_proxy', '')
    cas = options.get('ca_certificates', [])
    cert, key, passphrase = (options.get(name, '') for name in ('client_cert', 'client_key', 'client_key_passphrase'))
    problems = []
    if not isinstance(proxy, str) or (proxy and not _PROXY.match(proxy)):
        if isinstance(proxy, str) and proxy.lower().startswith('socks'):
            problems.append('claude_fleet_network_proxy %s is a SOCKS proxy: Claude Code does not support SOCKS proxies; set '
                            'an HTTP or HTTPS proxy URL (http://host:port).' % proxy_shown(proxy))
        else:
            problems.append('claude_fleet_network_proxy %s is not an HTTP(S) proxy URL such as http://proxy.example.com:3128 '
                            '(scheme http or https, host and port, no path).' % json.dumps(proxy_shown(proxy)))
    if not isinstance(no_proxy, str) or re.search(r'\s', no_proxy):
        problems.append('claude_fleet_network_no_proxy must be one comma-separated string without spaces (for example '
                        'localhost,127.0.0.1,.corp.example.com); got %s.' % json.dumps(no_proxy, default=str))
    if isinstance(cas, (str, bytes, Mapping)) or not isinstance(cas, Sequence):
        problems.append('claude_fleet_network_ca_certificates must be a list of PEM texts or controller paths of PEM files.')
    else:
        for item in cas:
            found = _pem(item, PEM_CERT)
            if found in ('text', 'file'):
                continue
            what = ('a file on the controller without a PEM certificate (-----BEGIN CERTIFICATE-----); convert it with '
                    'openssl x509 -inform der -out ca.pem' if found == 'file-not-pem'
                    else 'neither PEM text (-----BEGIN CERTIFICATE-----) nor a file on the controller')
            problems.append('claude_fleet_network_ca_certificates item %s is %s.' % (json.dumps(str(item)[:80]), what))
    if not all(isinstance(v, str) for v in (cert, key, passphrase)):
        problems.append('claude_fleet_network_client_cert, claude_fleet_network_client_key and '
                        'claude_fleet_network_client_key_passphrase must be strings.')
    elif cert and not key:
        problems.append('claude_fleet_network_client_cert is set without its key: set claude_fleet_network_client_key too '
                        '(PEM text or a controller path; use Ansible Vault).')
    elif key and not cert:
        problems.append('claude_fleet_network_client_key is set without its certificate: set claude_fleet_network_client_cert too.')
    elif passphrase and not key:
        problems.append('claude_fleet_network_client_key_passphrase is set without claude_fleet_network_client_key.')
    elif cert and (_pem(cert, PEM_CERT) not in ('text', 'file') or _pem(key, PEM_KEY) not in ('text', 'file')):
        problems.append('claude_fleet_network_client_cert must be a PEM certificate (-----BEGIN CERTIFICATE-----) and '
                        'claude_fleet_network_client_key a PEM private key (-----BEGIN ... PRIVATE KEY-----), each as text '
                        'or the path of a file on the controller.')
    return problems


class FilterModule:
    """The network options' rules."""

    def filters(self):
        return {'network_problems': network_problems}
