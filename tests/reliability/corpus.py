# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A corpus of real-world dotfiles the settings role must preserve outside its managed parts.

Each entry: (user, path relative to the home, bytes, symlink target relative to the home or None).
A symlinked entry's bytes are written to the target (a dotfiles repository) and PATH is the link.
"""
from __future__ import annotations

import json

ALICE_BASHRC = (
    "# ~/.bashrc: executed by bash(1) for non-login shells.\n"
    "# Strict mode, as some people like it: every later source must succeed.\n"
    "set -euo pipefail\n"
    "# An older, hand-written Bedrock setup (the managed block must win in new shells, this stays).\n"
    "export CLAUDE_CODE_USE_BEDROCK=0\n"
    "export AWS_REGION=eu-west-1\n"
    "export AWS_DEFAULT_OUTPUT=\"json\"\n"
    "case $- in *i*) ;; *) return;; esac\n"
    "PS1='\\u@\\h:\\w\\$ '\n"
    "alias ll='ls -alF'   # Größe, 文件, ✓\n"
    "HISTCONTROL=ignoreboth\n"
    "# no newline at the end of this file"
).encode("utf-8")

ALICE_PROFILE = (
    "# ~/.profile lives in a dotfiles repository; ~/.profile is a symbolic link to it.\n"
    "if [ -n \"$BASH_VERSION\" ] && [ -f \"$HOME/.bashrc\" ]; then\n"
    "    . \"$HOME/.bashrc\"\n"
    "fi\n"
    "PATH=\"$HOME/bin:$PATH\"\n"
    "export EDITOR=vim\n"
    "\n"
    "\n"
).encode("utf-8")

ALICE_SETTINGS = {
    "$schema": "https://json.schemastore.org/claude-code-settings.json",
    "permissions": {
        "allow": ["Bash(npm run lint)", "Bash(npm run test:*)", "Read(~/.zshrc)"],
        "deny": ["Bash(curl:*)", "Read(./.env)", "Read(./secrets/**)"],
        "defaultMode": "acceptEdits",
    },
    "hooks": {
        "PostToolUse": [{"matcher": "Edit|Write", "hooks": [{"type": "command", "command": "prettier --write \"$CLAUDE_FILE_PATHS\""}]}],
    },
    "mcpServers": {"github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"], "env": {"GITHUB_HOST": "ghe.example"}}},
    "env": {"MY_TOOL_HOME": "/opt/my tool", "AWS_REGION": "eu-west-1", "BASH_DEFAULT_TIMEOUT_MS": "60000"},
    "futureFeatureFlags": {"x-unknown": [1, 2.5, None, True, {"nested": "ключ"}]},
    "statusLine": {"type": "command", "command": "~/.claude/statusline.sh"},
    "outputStyle": "Explanatory ✨",
    "cleanupPeriodDays": 20,
}

BOB_ZSHENV = (
    "# zshenv from a dotfiles repo (symlinked)\n"
    "setopt ERR_EXIT NO_UNSET\n"
    "typeset -U path PATH\n"
    "path=(~/.local/bin $path)\n"
    "export AWS_REGION=ap-southeast-2\n"
    "export LANG=de_DE.UTF-8   # Umlaute: äöü\n"
).encode("utf-8")

BOB_ZSHRC = (
    "autoload -Uz compinit && compinit\n"
    "bindkey -e\n"
    "export CLAUDE_CODE_USE_BEDROCK=1\n"
    "PROMPT='%n@%m %~ %# '\n"
).encode("utf-8")

BOB_SETTINGS_TEXT = (
    "{\n"
    "\t\"model\": \"opus\",\n"
    "\t\"env\": {\"DISABLE_TELEMETRY\": \"0\", \"GIT_PAGER\": \"less -R\"},\n"
    "\t\"includeCoAuthoredBy\": false,\n"
    "\t\"apiKeyHelper\": \"~/bin/key-helper.sh\",\n"
    "\t\"unicode\": \"\\u00e9t\\u00e9 — 夏 — 🌞\"\n"
    "}\n"
)

CAROL_FISH_VARIABLES = (
    "# This file contains fish universal variable definitions.\n"
    "# VERSION: 3.0\n"
    "SETUVAR --export AWS_REGION:eu\\x2dcentral\\x2d1\n"
    "SETUVAR --export CLAUDE_CODE_USE_BEDROCK:0\n"
    "SETUVAR __fish_initialized:3400\n"
    "SETUVAR fish_greeting:Willkommen\\x2c\\x20carol\\x20\\u2713\n"
).encode("utf-8")

CAROL_CONFIG_FISH = (
    "if status is-interactive\n"
    "    set -gx AWS_PROFILE dev\n"
    "end\n"
    "set -gx ANTHROPIC_MODEL my-own-model\n"
).encode("utf-8")

CAROL_OTHER_CONF = b"# another conf.d snippet\nset -gx GOPATH $HOME/go\n"

CORPUS = [
    ("alice", ".bashrc", ALICE_BASHRC, None),
    ("alice", ".profile", ALICE_PROFILE, "dotfiles/profile"),
    ("alice", ".claude/settings.json", (json.dumps(ALICE_SETTINGS, indent=2, ensure_ascii=False) + "\n").encode("utf-8"), None),
    ("bob", ".zshenv", BOB_ZSHENV, "dotfiles/zsh/zshenv"),
    ("bob", ".zshrc", BOB_ZSHRC, None),
    ("bob", ".claude/settings.json", BOB_SETTINGS_TEXT.encode("utf-8"), None),
    ("carol", ".config/fish/fish_variables", CAROL_FISH_VARIABLES, None),
    ("carol", ".config/fish/config.fish", CAROL_CONFIG_FISH, None),
    ("carol", ".config/fish/conf.d/00-go.fish", CAROL_OTHER_CONF, None),
]

# Env keys the settings role may write or remove in ~/.claude/settings.json (its catalog).
MANAGED_ENV_PREFIXES = ("CLAUDE_CODE_", "ANTHROPIC_", "AWS_", "DISABLE_", "OTEL_", "MAX_THINKING_TOKENS")
