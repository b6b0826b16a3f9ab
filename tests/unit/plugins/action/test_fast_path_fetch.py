# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fast_path action's floating inputs: a plain http:// one is fetched without building a TLS context (the first
worker of every run fetches it while the others wait); a redirect is followed as for https://."""
from __future__ import annotations

import http.server
import threading
from unittest import mock
from urllib.error import HTTPError

import pytest
from ansible.module_utils import urls

from ansible_collections.claude_fleet.bedrock.plugins.action import fast_path

BODY = b'[{"version": "v22.23.3", "lts": "Jod"}]'


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # pylint: disable=invalid-name
        if self.path == '/index.json':
            self.send_response(200)
            self.send_header('Content-Length', str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)
        elif self.path == '/moved':
            self.send_response(301)
            self.send_header('Location', '/index.json')
            self.send_header('Content-Length', '0')
            self.end_headers()
        else:
            self.send_error(404)

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


@pytest.fixture
def mirror():
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield 'http://127.0.0.1:%d' % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_a_plain_http_input_is_fetched_without_the_default_tls_context(mirror, monkeypatch):
    made = mock.MagicMock(side_effect=urls.make_context)
    monkeypatch.setattr(urls, 'make_context', made)
    assert fast_path._fetch(mirror + '/index.json') == BODY  # pylint: disable=protected-access
    assert made.call_count == 0


def test_a_redirect_is_followed_as_for_https_and_a_missing_input_raises(mirror, monkeypatch):
    made = mock.MagicMock(side_effect=urls.make_context)
    monkeypatch.setattr(urls, 'make_context', made)
    assert fast_path._fetch(mirror + '/moved') == BODY  # pylint: disable=protected-access
    assert made.call_count == 1, 'the redirect is followed by a request with the default context'
    with pytest.raises(HTTPError) as caught:
        fast_path._fetch(mirror + '/missing')  # pylint: disable=protected-access
    assert caught.value.code == 404
