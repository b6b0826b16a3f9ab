# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pytest plugin: the ``bedrock_emulator`` factory fixture.

Use from any test directory: ``from bedrock_emulator.pytest_plugin import bedrock_emulator`` in its conftest.py
(or ``pytest_plugins = ["bedrock_emulator.pytest_plugin"]`` in the rootdir conftest); tests/infra/emulator must be on
PYTHONPATH, as ``make units`` arranges::

    def test_x(bedrock_emulator):
        emu = bedrock_emulator(overrides={"iam": {"deny": ["bedrock:ListInferenceProfiles"]}})
        client = emu.client("bedrock")
        ...
        assert emu.counters()["operations"]["ListInferenceProfiles"] == 1
"""

from __future__ import annotations

import pytest

from .server import EmulatorServer

_SESSIONS = []


class EmulatorHandle:
    """A running emulator plus helpers to reach it from boto3 and subprocesses."""

    def __init__(self, server):
        self.server = server
        creds = list(server.state.scenario.credentials.values())
        plain = [c for c in creds if not c["session_token"] and not c["expired"]] or creds
        self.access_key_id = plain[0]["access_key_id"]
        self.secret_access_key = plain[0]["secret_access_key"]
        tokens = [t for t, v in server.state.scenario.bearer_tokens.items() if not v["expired"]]
        self.bearer_token = tokens[0] if tokens else None

    @property
    def url(self):
        return self.server.url

    @property
    def scenario(self):
        return self.server.state.scenario

    def requests(self, operation=None):
        entries = self.server.requests()
        return [e for e in entries if operation is None or e.get("operation") == operation]

    def counters(self):
        return self.server.counters()

    def reset(self):
        self.server.reset()

    def client(self, service, region_name="us-east-1", aws_access_key_id=None, aws_secret_access_key=None, aws_session_token=None,
               total_max_attempts=1, retry_mode="standard", config=None, verify=None):
        """A boto3 client for ``bedrock``, ``bedrock-runtime`` or ``sts`` against the emulator.

        Retries are off by default (``total_max_attempts=1``) so tests see the raw error.
        """
        import boto3  # pylint: disable=import-outside-toplevel
        from botocore.config import Config  # pylint: disable=import-outside-toplevel

        if not _SESSIONS:
            # One session per process: building a boto3 session (loading its data files) is the slow part.
            _SESSIONS.append(boto3.session.Session())
        session = _SESSIONS[0]
        cfg = Config(retries={"total_max_attempts": total_max_attempts, "mode": retry_mode}, connect_timeout=5, read_timeout=30)
        if config is not None:
            cfg = cfg.merge(config)
        return session.client(
            service,
            region_name=region_name,
            endpoint_url=self.url,
            aws_access_key_id=aws_access_key_id or self.access_key_id,
            aws_secret_access_key=aws_secret_access_key or self.secret_access_key,
            aws_session_token=aws_session_token,
            config=cfg,
            verify=verify,
        )

    def aws_env(self, region="us-east-1"):
        """Environment for a subprocess (boto3, the AWS CLI, Ansible) that talks to this emulator."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ENDPOINT_URL_BEDROCK": self.url,
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": self.url,
            "AWS_ENDPOINT_URL_STS": self.url,
        }

    def stop(self):
        self.server.stop()


def error_of(exc_info):
    """(error code, HTTP status, message) of the botocore ClientError a ``pytest.raises`` caught."""
    err = exc_info.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


@pytest.fixture
def bedrock_emulator():
    """Factory: ``bedrock_emulator(scenario="default", overrides=None, **server_kwargs)`` -> EmulatorHandle.

    Every emulator started through the factory is stopped when the test ends.
    """
    started = []

    def factory(scenario="default", overrides=None, **kwargs):
        server = EmulatorServer(scenario, overrides=overrides, **kwargs).start()
        started.append(server)
        return EmulatorHandle(server)

    yield factory
    for server in started:
        server.stop()
