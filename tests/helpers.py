"""Small helpers for tests that drive real git repositories."""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Mapping
from pathlib import Path


def git(*args: str) -> str:
    """Run git in the current directory; fail the test with git's message."""
    completed = subprocess.run(("git", *args), capture_output=True, text=True)
    assert completed.returncode == 0, f"git {' '.join(args)}: {completed.stderr}"
    return completed.stdout


def commit(message: str = "commit") -> str:
    """Commit what is staged (allowing an empty commit) and return its id."""
    git(
        "commit",
        "--quiet",
        "--no-verify",
        "--no-gpg-sign",
        "--allow-empty",
        "-m",
        message,
    )
    return git("rev-parse", "HEAD").strip()


def write(path: str | Path, text: str | bytes) -> Path:
    """Write a file (creating directories) relative to the current directory."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        target.write_bytes(text)
    else:
        target.write_text(text, encoding="utf-8")
    return target


def add(*paths: str | Path) -> None:
    git("add", "--", *map(str, paths))


def stage(files: Mapping[str, str | bytes]) -> None:
    """Write FILES (text dedented, bytes as they are) and stage them."""
    for path, text in files.items():
        write(path, textwrap.dedent(text) if isinstance(text, str) else text)
    add(*files)


def committed(files: Mapping[str, str | bytes], message: str = "base") -> str:
    """Write, stage and commit FILES; return the commit id."""
    stage(files)
    return commit(message)
