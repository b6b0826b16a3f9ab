# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Makes the bedrock_emulator fixture available to tests/infra/emulator.

The fixture is imported rather than listed in ``pytest_plugins``: pytest refuses ``pytest_plugins``
in a conftest.py below the rootdir when it is collected from a parent directory (``pytest tests``).
"""

from __future__ import annotations

from bedrock_emulator.pytest_plugin import bedrock_emulator  # noqa: F401  pylint: disable=unused-import
