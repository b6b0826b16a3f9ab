# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The _network role's option rules (plugins/filter/network_problems.py): one message per broken rule."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.claude_fleet.bedrock.plugins.filter.network_problems import network_problems

CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
KEY = '-----BEGIN PRIVATE KEY-----\nMIIE-s3cret\n-----END PRIVATE KEY-----\n'
GOOD = {'proxy': '', 'no_proxy': '', 'ca_certificates': [], 'client_cert': '', 'client_key': '', 'client_key_passphrase': ''}


@pytest.mark.parametrize('options', [
    GOOD,
    dict(GOOD, proxy='http://proxy.example.com:3128', no_proxy='localhost,127.0.0.1,.corp.example.com'),
    dict(GOOD, proxy='https://user:pw@proxy.example.com:3128/'),
    dict(GOOD, ca_certificates=[CERT]),
    dict(GOOD, client_cert=CERT, client_key=KEY, client_key_passphrase='pass'),
])
def test_good_options_have_no_problem(options):
    assert network_problems(options) == []


@pytest.mark.parametrize('options, expected', [
    (dict(GOOD, proxy='socks5://u:pw@127.0.0.1:1080'), 'claude_fleet_network_proxy socks5://***@127.0.0.1:1080 is a SOCKS proxy'),
    (dict(GOOD, proxy='http://u:pw@proxy/path'), 'claude_fleet_network_proxy "http://***@proxy/path" is not an HTTP(S) proxy URL'),
    (dict(GOOD, proxy='ftp://proxy:21'), 'is not an HTTP(S) proxy URL'),
    (dict(GOOD, proxy=3128), 'claude_fleet_network_proxy "3128" is not an HTTP(S) proxy URL'),
    (dict(GOOD, no_proxy='localhost, .corp'), 'claude_fleet_network_no_proxy must be one comma-separated string without spaces'),
    (dict(GOOD, no_proxy=['localhost']), 'claude_fleet_network_no_proxy must be one comma-separated string'),
    (dict(GOOD, ca_certificates=CERT), 'claude_fleet_network_ca_certificates must be a list'),
    (dict(GOOD, ca_certificates={'a': CERT}), 'claude_fleet_network_ca_certificates must be a list'),
    (dict(GOOD, ca_certificates=['/nonexistent/corp-ca.pem']),
     'claude_fleet_network_ca_certificates item "/nonexistent/corp-ca.pem" is neither PEM text'),
    (dict(GOOD, client_cert=CERT), 'claude_fleet_network_client_cert is set without its key'),
    (dict(GOOD, client_key=KEY), 'claude_fleet_network_client_key is set without its certificate'),
    (dict(GOOD, client_key_passphrase='pw'), 'claude_fleet_network_client_key_passphrase is set without claude_fleet_network_client_key'),
    (dict(GOOD, client_cert=['x'], client_key=KEY), 'must be strings'),
    (dict(GOOD, client_cert='not pem', client_key=KEY), 'claude_fleet_network_client_cert must be a PEM certificate'),
    (dict(GOOD, client_cert=CERT, client_key='MIIE-s3cret'), 'claude_fleet_network_client_key a PEM private key'),
])
def test_each_broken_rule_names_its_option(options, expected):
    problems = network_problems(options)
    assert len(problems) == 1 and expected in problems[0], problems
    assert 's3cret' not in problems[0] and ':pw@' not in problems[0]


def test_controller_files_are_read_for_pem(tmp_path):
    pem, der = tmp_path / 'ca.pem', tmp_path / 'ca.der'
    pem.write_text(CERT)
    der.write_bytes(b'\x30\x82\x01\x0a')
    key = tmp_path / 'client.key'
    key.write_text(KEY)
    assert network_problems(dict(GOOD, ca_certificates=[str(pem)], client_cert=str(pem), client_key=str(key))) == []
    problems = network_problems(dict(GOOD, ca_certificates=[str(pem), str(der), str(tmp_path)]))
    assert len(problems) == 2
    assert 'is a file on the controller without a PEM certificate' in problems[0] and str(der) in problems[0]
    assert 'neither PEM text' in problems[1]  # a directory is not a file


def test_every_broken_rule_is_listed_at_once():
    problems = network_problems({'proxy': 'socks5://h:1', 'no_proxy': 'a b', 'ca_certificates': ['x', 'y'], 'client_cert': CERT,
                                 'client_key': '', 'client_key_passphrase': ''})
    assert [p.split()[0] for p in problems] == ['claude_fleet_network_proxy', 'claude_fleet_network_no_proxy',
                                                'claude_fleet_network_ca_certificates', 'claude_fleet_network_ca_certificates',
                                                'claude_fleet_network_client_cert']


def test_a_trailing_line_break_is_left_to_the_control_character_rule():
    # settings_values names the role's own option (settings_proxy) for it; this rule keeps the roles' old pattern.
    assert network_problems(dict(GOOD, proxy='http://proxy.example.com:3128\n')) == []


def test_not_a_mapping_is_an_error():
    with pytest.raises(AnsibleFilterError, match='mapping'):
        network_problems(['proxy'])
