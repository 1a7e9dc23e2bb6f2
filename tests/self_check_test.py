"""We eat our own cooking: this repository passes its own hooks."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest
from pre_commit.clientlib import load_config


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


def test_each_own_hook_installs_what_testwarden_needs(project_root):
    """pre-commit runs a local hook in an env of its additional_dependencies
    alone (it does not install this checkout): each must list every
    dependency of [project], or the hook cannot import."""
    needed = set(
        tomllib.loads((project_root / "pyproject.toml").read_text())["project"][
            "dependencies"
        ]
    )
    config = load_config(str(project_root / ".pre-commit-config.yaml"))
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]

    missing = {
        hook["id"]: sorted(needed - set(hook["additional_dependencies"]))
        for hook in hooks
        if hook["language"] == "python"
    }

    assert len(hooks) >= 7
    assert missing == {hook["id"]: [] for hook in hooks}
