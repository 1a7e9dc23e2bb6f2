"""Where testwarden keeps what it can recompute: formatting verdicts, import
graphs, test maps, test runs, tox checks. Never inside the repository."""

from __future__ import annotations

import os
from pathlib import Path


def cache_directory() -> Path:
    """$TESTWARDEN_CACHE_DIR, else testwarden/ in the XDG cache directory."""
    configured = os.environ.get("TESTWARDEN_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache"
    )
    return Path(base) / "testwarden"
