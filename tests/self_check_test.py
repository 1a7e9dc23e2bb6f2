"""We eat our own cooking: this repository passes its own hooks."""

from __future__ import annotations

import subprocess
import sys


def test_the_repository_is_formatted_by_its_own_isort_black(project_root):
    tracked = (
        subprocess.run(
            ["git", "ls-files", "-z", "--", "*.py", "*.pyi"],
            cwd=project_root,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    python_files = [path for path in tracked if path]

    completed = subprocess.run(
        [sys.executable, "-m", "hooks", "isort-black", "--check", *python_files],
        cwd=project_root,
        capture_output=True,
        text=True,
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
