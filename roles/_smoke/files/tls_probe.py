# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
'''TLS, client certificate and proxy probe of the smoke test and of verify.yml.

Runs as a developer user, in their login shell, with the system python3 (standard library only), the
code passed in an environment variable: python3 -c CODE URL [SETTINGS_FILE].
It reads the env block of SETTINGS_FILE (relative to the home; default .claude/settings.json) over
the shell's environment, which is the environment Claude Code sees. It names a user's AWS_PROFILE
that makes the AWS SDK skip static keys ('probe note: ...'), then makes one HTTPS request to URL
through HTTPS_PROXY with NODE_EXTRA_CA_CERTS and the client certificate, and prints
'probe ok: ...' or 'probe error: <type> <reason>'. It prints only errors, never a value it read.

No double quote, dollar sign, backquote or backslash in this file: become passes the code through a
shell command line (tests/unit/roles/test_tls_probe.py checks it).
'''
import json
import os
import ssl
import sys
import urllib.error
import urllib.request

MAX_SETTINGS = 1 << 20


def environment(settings_file):
    env = dict(os.environ)
    path = os.path.join(os.path.expanduser('~'), settings_file)
    try:
        # Bounded read of a regular file the user owns (this runs as the user).
        fd = os.open(path, os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0))
        with os.fdopen(fd, 'rb') as handle:
            data = json.loads(handle.read(MAX_SETTINGS).decode('utf-8-sig'))
        block = data.get('env', {}) if isinstance(data, dict) else {}
        env.update({k: v for k, v in block.items() if isinstance(k, str) and isinstance(v, str)})
    except (OSError, ValueError, AttributeError):
        pass
    return env


def probe(url, env, timeout=10):
    lines = []
    if env.get('AWS_PROFILE') and env.get('AWS_ACCESS_KEY_ID') and not env.get('AWS_BEARER_TOKEN_BEDROCK'):
        lines.append('probe note: AWS_PROFILE is set in the login shell with static keys in settings.json; the AWS SDK then uses the'
                     ' profile and ignores the keys')
    proxy = env.get('HTTPS_PROXY') or env.get('https_proxy') or ''
    try:
        ctx = ssl.create_default_context()
        if env.get('NODE_EXTRA_CA_CERTS'):
            ctx.load_verify_locations(cafile=env['NODE_EXTRA_CA_CERTS'])
        if env.get('CLAUDE_CODE_CLIENT_CERT'):
            try:
                ctx.load_cert_chain(env['CLAUDE_CODE_CLIENT_CERT'], env.get('CLAUDE_CODE_CLIENT_KEY') or None,
                                    env.get('CLAUDE_CODE_CLIENT_KEY_PASSPHRASE') or None)
            except (ssl.SSLError, OSError, ValueError, TypeError) as exc:
                # Before any connection: a file Node cannot load either (the CLI then hangs or fails on its own words).
                kind, text = describe(exc)
                lines.append('probe error: %s the client certificate or its key does not load (CLAUDE_CODE_CLIENT_CERT,'
                             ' CLAUDE_CODE_CLIENT_KEY, CLAUDE_CODE_CLIENT_KEY_PASSPHRASE): %s' % (kind, text))
                return lines
        os.environ['no_proxy'] = env.get('NO_PROXY') or env.get('no_proxy') or ''
        handlers = [urllib.request.HTTPSHandler(context=ctx),
                    urllib.request.ProxyHandler({'https': proxy, 'http': proxy} if proxy else {})]
        with urllib.request.build_opener(*handlers).open(urllib.request.Request(url, method='GET'), timeout=timeout):
            pass
        lines.append('probe ok: TLS, client certificate and proxy work')
    except urllib.error.HTTPError:
        # Any HTTP answer means TLS, the certificate and the proxy worked.
        lines.append('probe ok: TLS, client certificate and proxy work')
    except Exception as exc:  # pylint: disable=broad-except
        kind, text = describe(exc)
        text = text.replace(proxy, 'the proxy') if proxy else text
        cause = exc.reason if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, BaseException) else exc
        handshake = isinstance(cause, (ssl.SSLError, ConnectionResetError)) or 'EOF' in text or 'ALERT' in text
        if handshake and not isinstance(cause, ssl.SSLCertVerificationError) and not env.get('CLAUDE_CODE_CLIENT_CERT'):
            text += ' (the endpoint ended the TLS handshake and no client certificate is configured: it may demand one)'
        lines.append('probe error: %s %s' % (kind, text))
    return lines


def describe(exc):
    '''(type name, message) of an error: the exception a URLError wraps when there is one.

    Only a URLError reason is the cause: ssl.SSLError has a reason attribute too, a short code or None
    (a PEM that does not load), which is neither its type nor its message.
    '''
    reason = getattr(exc, 'reason', None) if isinstance(exc, urllib.error.URLError) else None
    cause = reason if isinstance(reason, BaseException) else exc
    text = reason if isinstance(reason, str) and reason else str(cause)
    return type(cause).__name__, text or repr(cause)


def main(argv):
    settings_file = argv[2] if len(argv) > 2 and argv[2] else os.path.join('.claude', 'settings.json')
    for line in probe(argv[1], environment(settings_file)):
        print(line)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
