# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The settings role against a real sandbox workstation (tests/infra/sandbox/fleet): alice (bash), bob (zsh), carol (fish).

Each test gets a fresh workstation (an overlay on the cached image, up in seconds) and runs the real
ansible-playbook over SSH. Needs root and debootstrap, like the other sandbox tests.
"""

from __future__ import annotations

import json
import os

import pytest
import yaml

from harness import ANSIBLE_PLAYBOOK, SANDBOX_SKIPS

pytestmark = [
    pytest.mark.sandbox,
    *SANDBOX_SKIPS,
    pytest.mark.skipif(not os.path.exists(ANSIBLE_PLAYBOOK), reason='ansible-playbook is not next to the test interpreter'),
]

SECRETS = ('sEcReT-DoNotPrint-123', 'BeArEr-DoNotPrint-456')
SONNET = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'
OPUS = 'us.anthropic.claude-opus-4-1-20250805-v1:0'
WEIRD = 'a\'b"c $HOME `id` \\ end'

PLAYBOOK = """
- name: Settings role under test
  hosts: workstations
  become: true
  vars:
    claude_fleet_bedrock_region: us-east-1
    claude_fleet_bedrock_model: %(sonnet)s
    settings_haiku_model: us.anthropic.claude-haiku-4-5-20251001-v1:0
    settings_auth_method: static_keys
    settings_aws_access_key_id: AKIAFLEETTESTKEY0001
    settings_aws_secret_access_key: %(secret)s
    settings_shell_extra_env:
      WEIRD_VALUE: %(weird)s
    settings_users:
      - name: alice
      - name: bob
        shell: /usr/bin/zsh        # a path, as the sandbox inventory's sandbox_developers gives it
      - name: carol
        auth_method: api_key
        bedrock_api_key: %(token)s
  roles:
    - role: claude_fleet.bedrock.settings
""" % dict(sonnet=SONNET, secret=SECRETS[0], token=SECRETS[1], weird=json.dumps(WEIRD))

SNAPSHOT = r"""
find /home /etc/claude-code \( -type f -o -type l \) -not -path '*/.ansible/*' 2>/dev/null | sort | while read -r f; do
  if [ -L "$f" ]; then echo "L $f -> $(readlink "$f")"; else echo "$(stat -c '%a %U' "$f") $(sha256sum < "$f" | cut -c1-16) $f"; fi
done
"""


class Workstation:
    """One sandbox workstation (the shared harness, without tests/group_vars) and the playbook that applies the role to it."""

    def __init__(self, fleet):
        self.fleet = fleet
        self.host = fleet.hosts[0]
        self.playbook = os.path.join(fleet.tmp, 'playbook.yml')
        with open(self.playbook, 'w', encoding='utf-8') as handle:
            handle.write(PLAYBOOK)

    def sh(self, script, user='root'):
        """Run a POSIX sh script on the workstation as a user; return (rc, stdout)."""
        proc = self.fleet.ssh(self.host, 'sudo -H -u %s sh -s' % user, stdin=script, text=True)
        return proc.returncode, proc.stdout

    def play(self, *args):
        rc, output, _recap = self.fleet.play(self.playbook, args=args, timeout=600)
        return rc, output

    def snapshot(self):
        return self.sh(SNAPSHOT)[1]


def recap(output):
    line = [x for x in output.splitlines() if ' : ok=' in x][-1]
    return dict(item.split('=') for item in line.split(':', 1)[1].split())


@pytest.fixture
def ws(fleet_factory):
    """A fresh workstation for each test."""
    fleet = fleet_factory('st' + os.urandom(2).hex(), testbed=None, group_vars=False, skip_without_image=True)
    yield Workstation(fleet)
    fleet.down()


def seed_user_content(ws):
    """Pre-existing dotfiles: own exports, own settings.json, symlinked zsh files, own fish conf."""
    assert ws.sh('echo "export MY_OWN_VAR=keep" >> ~/.bashrc\nmkdir -p ~/.claude\n'
                 'printf \'{"permissions": {"allow": ["Bash(ls)"]}, "hooks": {"Stop": []}, "env": {"MINE": "x"}}\\n\''
                 ' > ~/.claude/settings.json\n', user='alice')[0] == 0
    assert ws.sh('mkdir -p ~/dotfiles && echo "export BOB_OWN=1" > ~/dotfiles/zshenv && echo "PS1=bob" > ~/dotfiles/zshrc\n'
                 'ln -s ~/dotfiles/zshenv ~/.zshenv && ln -s ~/dotfiles/zshrc ~/.zshrc\n', user='bob')[0] == 0
    assert ws.sh('mkdir -p ~/.config/fish/conf.d && echo "set -gx CAROL_OWN 1" > ~/.config/fish/conf.d/mine.fish\n', user='carol')[0] == 0


def test_check_mode_converge_idempotence_and_user_content(ws):
    seed_user_content(ws)
    before = ws.snapshot()

    rc, out = ws.play('--check', '--diff')
    assert rc == 0, out
    assert int(recap(out)['changed']) > 0, 'check mode must report what it would change'
    assert ws.snapshot() == before, 'check mode changed files'

    rc, out = ws.play('-vvv', '--diff')
    assert rc == 0, out
    for secret in SECRETS:
        assert secret not in out, 'a secret was printed with -vvv --diff'

    rc, out = ws.play()
    assert rc == 0 and recap(out)['changed'] == '0', out

    # user content preserved
    assert ws.sh('grep -qx "export MY_OWN_VAR=keep" ~/.bashrc', user='alice')[0] == 0
    rc, text = ws.sh('cat ~/.claude/settings.json', user='alice')
    data = json.loads(text)
    assert list(data)[:3] == ['permissions', 'hooks', 'env']
    assert data['permissions'] == {'allow': ['Bash(ls)']} and data['hooks'] == {'Stop': []}
    assert data['env']['MINE'] == 'x' and data['env']['ANTHROPIC_MODEL'] == SONNET
    assert data['env']['AWS_SECRET_ACCESS_KEY'] == SECRETS[0]
    assert ws.sh('test -L ~/.zshenv && test -L ~/.zshrc && grep -q BOB_OWN ~/dotfiles/zshenv && grep -q claude_fleet.bedrock ~/dotfiles/zshenv '
                 '&& test "$(cat ~/dotfiles/zshrc)" = PS1=bob', user='bob')[0] == 0
    assert ws.sh('grep -q CAROL_OWN ~/.config/fish/conf.d/mine.fish', user='carol')[0] == 0

    # modes and owners; no secret outside the user settings files
    for user in ('alice', 'bob', 'carol'):
        rc, modes = ws.sh('stat -c "%%a %%U" /home/%s/.claude/settings.json /home/%s/.config/claude-fleet/env.sh' % (user, user))
        assert modes.split() == ['600', user, '600', user]
    assert ws.sh('stat -c "%a %U" /etc/claude-code/managed-settings.json')[1].split() == ['644', 'root']
    rc, leaks = ws.sh('grep -rlE "DoNotPrint" /etc/claude-code /home/*/.bashrc /home/*/.profile /home/*/dotfiles /home/*/.config || true')
    assert leaks.strip() == ''

    # every shell, login or not, sees the environment, special characters intact
    for user, shell, flags in [('alice', 'bash', '-lc'), ('alice', 'bash', '-ic'), ('bob', 'zsh', '-lc'), ('bob', 'zsh', '-c'),
                               ('carol', 'fish', '-lc'), ('carol', 'fish', '-c')]:
        rc, seen = ws.sh('%s %s \'printf "%%s|%%s|%%s" "$CLAUDE_CODE_USE_BEDROCK" "$AWS_REGION" "$WEIRD_VALUE"\' 2>/dev/null' % (shell, flags), user=user)
        assert seen == '1|us-east-1|' + WEIRD, (user, shell, flags, seen)


def test_model_change_touches_only_the_files_that_carry_it(ws):
    assert ws.play()[0] == 0
    before = dict((line.rsplit(' ', 1)[-1], line) for line in ws.snapshot().splitlines())
    rc, out = ws.play('-e', 'settings_model=' + OPUS)
    assert rc == 0, out
    after = dict((line.rsplit(' ', 1)[-1], line) for line in ws.snapshot().splitlines())
    changed = sorted(path for path in after if before.get(path) != after[path])
    assert changed == ['/home/%s/.claude/settings.json' % u for u in ('alice', 'bob', 'carol')]
    assert recap(out)['changed'] == '3'


def test_broken_settings_json_fails_naming_the_file_and_is_untouched(ws):
    broken = '{\n  "env": {\n    "A": "1",\n  }\n}\n'
    assert ws.sh("mkdir -p ~/.claude && printf '%s' '" + broken + "' > ~/.claude/settings.json", user='alice')[0] == 0
    rc, out = ws.play()
    assert rc != 0
    assert '/home/alice/.claude/settings.json is not valid JSON' in out and 'line 4 column 3' in out
    assert ws.sh('cat ~/.claude/settings.json', user='alice')[1] == broken


@pytest.mark.parametrize('extra, option', [
    ('{"settings_aws_region": "us-east"}', 'settings_aws_region'),
    ('{"settings_model": "gpt-4"}', 'settings_model'),
    ('{"settings_haiku_model": "eu.anthropic.claude-haiku-4-5-20251001-v1:0"}', 'settings_haiku_model'),
    ('{"settings_aws_region": "eu-west-1"}', 'settings_model'),
    ('{"settings_model": "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/abc"}', 'settings_model'),
    ('{"settings_users": [{"name": "alice"}, {"name": "nosuchuser"}]}', 'nosuchuser'),
    ('{"settings_users": [{"name": "alice", "shell": "tcsh"}]}', 'settings_users[alice].shell'),
    ('{"settings_auth_method": "sso"}', 'settings_aws_profile'),
])
def test_bad_input_fails_before_any_change(ws, extra, option):
    before = ws.snapshot()
    rc, out = ws.play('-e', extra)
    assert rc != 0
    assert option in out, out[-2000:]
    assert recap(out)['changed'] == '0'
    assert ws.snapshot() == before


def test_absent_removes_everything_it_manages_and_keeps_user_content(ws):
    seed_user_content(ws)
    assert ws.play()[0] == 0
    rc, out = ws.play('-e', 'settings_state=absent')
    assert rc == 0, out
    rc, leftovers = ws.sh('grep -rlE "claude_fleet.bedrock|CLAUDE_CODE_USE_BEDROCK|DoNotPrint" /home /etc/claude-code 2>/dev/null | grep -v /.ansible/ || true')
    assert leftovers.strip() == ''
    assert ws.sh('test -L ~/.zshenv && grep -q BOB_OWN ~/dotfiles/zshenv', user='bob')[0] == 0
    assert ws.sh('grep -qx "export MY_OWN_VAR=keep" ~/.bashrc', user='alice')[0] == 0
    data = json.loads(ws.sh('cat ~/.claude/settings.json', user='alice')[1])
    assert data == {'permissions': {'allow': ['Bash(ls)']}, 'hooks': {'Stop': []}, 'env': {'MINE': 'x'}}
    rc, out = ws.play('-e', 'settings_state=absent')
    assert rc == 0 and recap(out)['changed'] == '0', out


def test_playbook_carries_the_special_value_intact():
    """The shell-quoting check above is only meaningful if the playbook YAML delivers the value unchanged."""
    playbook = yaml.safe_load(PLAYBOOK)
    assert playbook[0]['vars']['settings_shell_extra_env']['WEIRD_VALUE'] == WEIRD
