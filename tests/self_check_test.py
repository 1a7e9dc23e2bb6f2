"""We eat our own cooking: this repository passes its own hooks."""

from __future__ import annotations

import subprocess
import sys

import pytest


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


@pytest.mark.parametrize(
    "hook_id",
    [
        "forbid-test-deletion",
        "forbid-skipped-tests",
        "forbid-mock-data",
        "protect-guardrails",
    ],
)
def test_the_repository_passes_its_own_guard_hooks(project_root, hook_id):
    completed = subprocess.run(
        [sys.executable, "-m", "hooks", hook_id, "--all-files"],
        cwd=project_root,
        capture_output=True,
        text=True,
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
