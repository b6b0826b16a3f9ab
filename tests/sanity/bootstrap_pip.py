# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Provide ansible-test's pip bootstrap script when its download host is unreachable.

`ansible-test sanity --requirements` fetches get-pip-<version>.py from a host that
some build networks cannot reach. When that download fails, write a stand-in at the
cache path ansible-test looks at first: it bootstraps pip with ensurepip and then
installs the requested packages with the system CA bundle.
"""
from __future__ import annotations

import os
import sys
import urllib.request

from ansible_test._internal.python_requirements import get_venv_packages  # pylint: disable=import-error

STAND_IN = '''\
"""ansible-test pip bootstrap stand-in written by claude_fleet.bedrock's tests/sanity/bootstrap_pip.py."""
import ensurepip
import os
import subprocess
import sys

ensurepip.bootstrap()
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
cert = os.environ.get("PIP_CERT") or os.environ.get("SSL_CERT_FILE") or "/etc/ssl/certs/ca-certificates.crt"
cmd = [sys.executable, "-m", "pip", "install"] + (["--cert", cert] if os.path.exists(cert) else []) + args
sys.exit(subprocess.call(cmd))
'''


class _Python:  # the minimal PythonConfig get_venv_packages reads
    version = '%d.%d' % sys.version_info[:2]


def main() -> int:
    """Write the stand-in unless the real script is cached or downloadable."""
    version = get_venv_packages(_Python())['pip']
    path = os.path.expanduser('~/.ansible/test/cache/get_pip_%s.py' % version.replace('.', '_'))
    if os.path.exists(path):
        return 0
    url = 'https://ci-files.testing.ansible.com/ansible-test/get-pip-%s.py' % version
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # nosec - fixed https URL
            content = response.read().decode()
        print('bootstrap_pip: downloaded %s' % url)
    except Exception as ex:  # pylint: disable=broad-exception-caught
        print('bootstrap_pip: %s unreachable (%s); writing the ensurepip stand-in to %s' % (url, ex, path))
        content = STAND_IN
    with open(path + '.tmp', 'w', encoding='utf-8') as handle:
        handle.write(content)
    os.replace(path + '.tmp', path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
