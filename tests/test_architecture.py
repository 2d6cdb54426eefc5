"""The layers import only downward (.importlinter holds the contracts and says why).

storage and messages import nothing of ours but each other; bot.services never
imports handlers, the composition root, the pipeline or Slack; bot.scheduler and
bot.slackapi never import handlers or bot.app; only bot.app imports handlers; no
two sibling modules or packages import each other in a circle; and SQL is written
only in bot.services and storage (handlers, bot.scheduler, bot.slackapi and bot.app
import sqlalchemy only under TYPE_CHECKING, but for the few listed and explained).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_layer_imports_only_downward() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--config", str(ROOT / ".importlinter"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
