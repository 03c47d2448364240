"""The `monitor` command's entry point: a damaged install is one clear line, not a traceback.

`monitor.cli` imports the rules, which compile their packs and load the packaged learned model at
import; if a file of the install is damaged, that fails before the CLI's own error handling runs.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Import and run the CLI; a package that cannot load says how to repair it."""
    try:
        from monitor.cli import main as run
    except (ValueError, OSError) as exc:
        print(
            f"error: a file of practice-monitor is damaged: {exc}. Restore it (in the git clone: "
            "git checkout -- rules connectors monitor) or reinstall practice-monitor.",
            file=sys.stderr,
        )
        sys.exit(2)
    run()
