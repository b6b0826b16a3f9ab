# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pull mode (docs/ansible-pull.md) on one sandbox workstation, end to end.

The workstation holds the IT team's configuration repository as a file:// git repository (the test
pushes to it over SSH, as a maintainer would): local.yml, inventory/ (localhost and group_vars/all.yml) and the collections in
collections/ansible_collections/ (this collection as built by ansible-galaxy, amazon.aws and
community.general as installed here; the sandbox has no Galaxy). playbooks/pull.yml, run from the
controller, enrols the workstation: git, python3-venv, ansible-core with pip in a virtual environment
(trusting the network's CA through the collection's CA option), the wrapper and, as the sandbox has no
systemd, a cron entry. The test then runs the wrapper as cron would: the first pull converges, the
second changes nothing (fast path), a pushed model change is applied by the next pull, and every
developer's real `claude -p` answers with the new model (the Bedrock emulator names it in its reply).
Each pull leaves /var/lib/claude_fleet/report.json, 0640 root, without secrets.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sysconfig

import pytest
import yaml

from harness import ACCESS_KEY, BIN, GROUP_VARS, REPO, SANDBOX_SKIPS, SECRET_KEY, ansible_env, recap, shlex_quote

pytestmark = [pytest.mark.sandbox, pytest.mark.slow, pytest.mark.network, *SANDBOX_SKIPS]

PULL_PLAYBOOK = os.path.join(REPO, "playbooks", "pull.yml")
REMOTE_REPO = "/srv/workstation-config.git"
# The network's CA as the laptop holds it (an MDM would put it there); only the collection's CA option names it.
WORKSTATION_CA = "/usr/local/share/claude-fleet-test/network-ca.pem"
HOST_CA = "/etc/ssl/certs/ca-certificates.crt"
WRAPPER = "/usr/local/sbin/claude-fleet-pull"
REPORT = "/var/lib/claude_fleet/report.json"
FIRST_MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
NEXT_MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
PROMPT = "Reply with the single word: ready"
with open(os.path.join(REPO, "tests", "support-matrix.yml"), encoding="utf-8") as _handle:
    # What a laptop in pull mode runs (docs/support.md): the pull role's ansible-core, the repository's collections.
    PULL_ROW = yaml.safe_load(_handle)["pull"]


def git(cwd, *args, env=None):
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False,
                          env=dict(os.environ, **(env or {})))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def group_vars(bed, model, **extra):
    """The test fleet's variables (tests/group_vars) with the loopback URLs written out: the laptop has no test state."""
    with open(os.path.join(GROUP_VARS, "workstations.yml"), encoding="utf-8") as handle:
        values = yaml.safe_load(handle)
    for name in ("claude_fleet_test_state", "claude_fleet_aws_access_key", "claude_fleet_aws_secret_key"):
        values.pop(name)
    values.update({
        "claude_fleet_bedrock_endpoint_url": bed.read("emulator.url"),
        "nodejs_tarball_base_url": bed.read("mirror.url"),
        "claude_code_npm_registry": bed.read("registry.url"),
        # The laptop is its own controller: no controller-side npm; the CA path is the laptop's.
        "claude_code_install_source": "registry",
        "claude_fleet_network_ca_certificates": [WORKSTATION_CA],
        "claude_fleet_bedrock_model": model,
        "claude_fleet_bedrock_sonnet_model": model if "sonnet" in model else values["claude_fleet_bedrock_sonnet_model"],
    }, **extra)
    return yaml.safe_dump(values, sort_keys=True)


def build_collections(tmp, dest):
    """This checkout built and installed as ansible-galaxy would, plus its two dependencies as installed here."""
    src = os.path.join(tmp, "src")
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                           capture_output=True, check=True, timeout=60).stdout.decode().split("\0")
    for name in filter(None, files):
        if os.path.isfile(os.path.join(REPO, name)):
            os.makedirs(os.path.dirname(os.path.join(src, name)), exist_ok=True)
            shutil.copy2(os.path.join(REPO, name), os.path.join(src, name))
    env = ansible_env()
    galaxy = os.path.join(BIN, "ansible-galaxy")
    proc = subprocess.run([galaxy, "collection", "build", "--force", "--output-path", tmp], cwd=src, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tarball = os.path.join(tmp, [n for n in os.listdir(tmp) if n.startswith("claude_fleet-bedrock-")][0])
    # --force: the dev configuration already resolves claude_fleet.bedrock (this checkout), which is not dest.
    proc = subprocess.run([galaxy, "collection", "install", "--offline", "--no-deps", "--force", "-p", dest, tarball], env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert os.path.isfile(os.path.join(dest, "ansible_collections", "claude_fleet", "bedrock", "MANIFEST.json")), proc.stdout
    installed = os.path.join(sysconfig.get_paths()["purelib"], "ansible_collections")
    for ns, name in (("amazon", "aws"), ("community", "general")):
        shutil.copytree(os.path.join(installed, ns, name), os.path.join(dest, "ansible_collections", ns, name),
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        with open(os.path.join(dest, "ansible_collections", ns, name, "MANIFEST.json"), encoding="utf-8") as handle:
            version = json.load(handle)["collection_info"]["version"]
        assert version == PULL_ROW["%s.%s" % (ns, name)], "%s.%s %s is not the pull row of tests/support-matrix.yml" % (ns, name, version)


@pytest.fixture(scope="module")
def laptop(testbed_factory, fleet_factory):
    """One workstation on the module's own test bed, with the workstation-config repository pushed to it."""
    bed = testbed_factory()
    work = fleet_factory("pul", testbed=bed)
    tmp = work.tmp
    host = work.hosts[0]
    with open(HOST_CA, "rb") as handle:
        work.put(host, WORKSTATION_CA, handle.read(), "root:root")
    rc, _out, err = work.root(host, "git init -q --bare -b main %s && chown -R admin: %s" % (REMOTE_REPO, REMOTE_REPO))
    assert rc == 0, err

    checkout = os.path.join(tmp, "workstation-config")
    os.makedirs(os.path.join(checkout, "inventory", "group_vars"))
    with open(os.path.join(checkout, "inventory", "hosts.yml"), "w", encoding="utf-8") as handle:
        handle.write("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n")
    with open(os.path.join(checkout, "local.yml"), "w", encoding="utf-8") as handle:
        handle.write("---\n- name: Claude Code with Amazon Bedrock on this laptop\n"
                     "  ansible.builtin.import_playbook: claude_fleet.bedrock.setup\n")
    with open(os.path.join(checkout, "inventory", "group_vars", "all.yml"), "w", encoding="utf-8") as handle:
        handle.write(group_vars(bed, FIRST_MODEL))
    build_collections(os.path.join(tmp, "build"), os.path.join(checkout, "collections"))
    git(checkout, "init", "-q", "-b", "main")
    git(checkout, "add", "-A")
    git(checkout, "-c", "user.name=IT", "-c", "user.email=it@example.invalid", "commit", "-q", "-m", "workstation config")
    work.checkout = checkout
    work.ssh_env = {"GIT_SSH_COMMAND": "ssh -i %s -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes"
                                       " -o LogLevel=ERROR" % work.key}
    git(checkout, "push", "-q", "ssh://admin@%s%s" % (work.address[host], REMOTE_REPO), "main", env=work.ssh_env)
    return work


def run_pull(laptop, *args):
    """One run of the wrapper, as the cron entry runs it (without its random sleep); returns (rc, output)."""
    rc, out, err = laptop.root(laptop.hosts[0], " ".join((WRAPPER,) + args) + " 2>&1", timeout=1800)
    output = out.decode("utf-8", "replace") + err
    with open(os.path.join(laptop.tmp, "pull-%d.log" % len(os.listdir(laptop.tmp))), "w", encoding="utf-8") as handle:
        handle.write(output)
    return rc, output


def push(laptop, model, message, **extra):
    """A maintainer commits new group variables and pushes them to the laptop's repository."""
    with open(os.path.join(laptop.checkout, "inventory", "group_vars", "all.yml"), "w", encoding="utf-8") as handle:
        handle.write(group_vars(laptop.testbed, model, **extra))
    git(laptop.checkout, "-c", "user.name=IT", "-c", "user.email=it@example.invalid", "commit", "-q", "-am", message)
    git(laptop.checkout, "push", "-q", "ssh://admin@%s%s" % (laptop.address[laptop.hosts[0]], REMOTE_REPO), "main", env=laptop.ssh_env)


def pull(laptop, *args):
    """A pull that must succeed; returns (output, recap)."""
    rc, output = run_pull(laptop, *args)
    assert rc == 0, output[-4000:]
    # The repository's collections declare a requires_ansible that admits the laptop's core (docs/support.md).
    assert "does not support Ansible version" not in output, output[-4000:]
    return output, recap(output)["localhost"]


def local_report(laptop):
    rc, out, err = laptop.root(laptop.hosts[0], "stat -c '%U %G %a' " + REPORT + " && cat " + REPORT)
    assert rc == 0, err
    meta, _newline, body = out.decode().partition("\n")
    assert meta == "root root 640"
    assert SECRET_KEY not in body and ACCESS_KEY not in body
    report = json.loads(body)
    assert [row["host"] for row in report["hosts"]] == ["localhost"] and report["failed_hosts"] == []
    return report["hosts"][0]


def answers(laptop):
    """Each developer's real `claude -p` through their login shell: {user: stdout}."""
    found = {}
    for user in ("alice", "bob", "carol"):
        proc = laptop.ssh(laptop.hosts[0], "exec $SHELL -l -c %s" % shlex_quote("claude -p %s" % shlex_quote(PROMPT)), user=user,
                          timeout=300)
        assert proc.returncode == 0, (user, proc.stdout, proc.stderr)
        found[user] = proc.stdout.decode()
    return found


def test_enrol_pull_converge_noop_and_a_pushed_model_change(laptop):
    host = laptop.hosts[0]
    enrol = {"pull_repo_url": "file://" + REMOTE_REPO}
    rc, output, recaps = laptop.play(playbook=PULL_PLAYBOOK, extra=enrol)
    assert rc == 0, output[-4000:]
    assert recaps[host]["changed"] > 0
    rc, output, recaps = laptop.play(playbook=PULL_PLAYBOOK, extra=enrol)
    assert rc == 0 and recaps[host]["changed"] == 0, output[-4000:]

    # No systemd in a sandbox workstation: the cron entry, with a per-host minute and ansible-pull's random sleep.
    rc, out, err = laptop.root(host, "cat /etc/cron.d/claude-fleet-pull; ls /etc/systemd/system/claude-fleet-pull.timer 2>&1;"
                                     " stat -c '%U %a' " + WRAPPER + " /etc/claude_fleet/pull-vars.json;"
                                     " /opt/claude_fleet/ansible/bin/ansible-pull --version | head -n 1")
    assert rc == 0, err
    text = out.decode()
    assert "root %s --sleep 900 >>/var/log/claude_fleet/pull.log 2>&1" % WRAPPER in text
    assert "No such file or directory" in text
    assert "root 700\nroot 600\n" in text
    assert "ansible-pull [core %s]" % PULL_ROW["ansible_core"] in text

    # First pull: the roles converge the laptop, the smoke test passes for every user.
    output, first = pull(laptop)
    assert first["changed"] > 0 and first["failed"] == 0, output[-4000:]
    row = local_report(laptop)
    assert row["fast_path"] is False and row["model"] == FIRST_MODEL
    assert sorted(s["user"] for s in row["smoke"] if s["status"] == "passed") == ["alice", "bob", "carol"], row["smoke"]

    # Second pull: nothing changed upstream or on the laptop, so nothing changes (the fast path).
    # -v: the fast path's reasons are printed when it is not taken.
    output, second = pull(laptop, "-v")
    assert second["changed"] == 0 and second["failed"] == 0, output[-4000:]
    assert local_report(laptop)["fast_path"] is True

    # A maintainer pushes a model change; the next pull applies it.
    push(laptop, NEXT_MODEL, "model: haiku 4.5")
    output, third = pull(laptop)
    assert third["changed"] > 0 and third["failed"] == 0, output[-4000:]
    row = local_report(laptop)
    assert row["model"] == NEXT_MODEL
    for user in ("alice", "bob", "carol"):
        settings = json.loads(laptop.get(host, "/home/%s/.claude/settings.json" % user))
        assert settings["env"]["ANTHROPIC_MODEL"] == NEXT_MODEL, (user, settings["env"])

    # Every developer's real Claude Code answers, with the pushed model.
    for user, answer in answers(laptop).items():
        assert "Hello from the Bedrock emulator (model %s" % NEXT_MODEL in answer, (user, answer)

    # A pull whose smoke test fails (an answer no CLI gives) fails, and its local report says so; verify.yml,
    # run from a controller, reads that report on the laptop and lists the failed pull in its fleet report.
    push(laptop, NEXT_MODEL, "smoke: expect another answer", claude_fleet_smoke_expect="An answer the emulator never gives")
    rc, output = run_pull(laptop)
    assert rc != 0, output[-4000:]
    rc, out, err = laptop.root(host, "cat " + REPORT)
    assert rc == 0, err
    assert json.loads(out)["failed_hosts"] == ["localhost"]
    report_dir = os.path.join(laptop.tmp, "verify-report")
    _rc, output, _recaps = laptop.play(playbook=os.path.join(REPO, "playbooks", "verify.yml"), report_dir=report_dir,
                                       extra={"claude_fleet_preflight": False})
    with open(os.path.join(report_dir, "fleet-report.json"), encoding="utf-8") as handle:
        (row,) = [r for r in json.load(handle)["hosts"] if r["host"] == host]
    assert any(f.startswith("The last ansible-pull run (") and " failed: " in f for f in row.get("findings") or []), (row, output[-3000:])
