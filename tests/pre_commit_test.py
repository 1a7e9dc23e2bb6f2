"""Real pre-commit installs this repository as a hook repo and runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import add, commit, write


def pre_commit(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PRE_COMMIT_HOME": str(home)},
    )


def test_try_repo_fixes_a_file_and_then_passes(repo, project_root, tmp_path):
    write("pkg/module.py", "import sys\nimport os\nx = {  'a':1 }\n")
    write("pkg/clean.py", "import os\n")
    add(".")
    commit("consumer code")
    home = tmp_path / "pre-commit-home"

    first = pre_commit(
        "try-repo", str(project_root), "isort-black", "--all-files", home=home
    )

    assert first.returncode == 1, first.stdout + first.stderr
    assert "Fixing pkg/module.py" in first.stdout
    assert "files were modified by this hook" in first.stdout
    assert (
        Path("pkg/module.py").read_text() == 'import os\nimport sys\n\nx = {"a": 1}\n'
    )

    second = pre_commit(
        "try-repo", str(project_root), "isort-black", "--all-files", home=home
    )

    assert second.returncode == 0, second.stdout + second.stderr
    assert "isort-black" in second.stdout and "Passed" in second.stdout


def test_try_repo_blocks_a_hand_written_double_with_its_alternative(
    repo, project_root, tmp_path
):
    write(
        "tests/test_keyring.py",
        "class FailKeyring:\n"
        "    @staticmethod\n"
        "    def get_password(system, username):\n"
        "        raise RuntimeError('fail!')\n\n\n"
        "def test_prompt(monkeypatch):\n"
        "    monkeypatch.setenv('HOME', '/nonexistent')\n",
    )
    add(".")
    commit("a test with a double")

    run = pre_commit(
        "try-repo",
        str(project_root),
        "forbid-mock-data",
        "--all-files",
        home=tmp_path / "pre-commit-home",
    )

    assert run.returncode == 1, run.stdout + run.stderr
    assert (
        "tests/test_keyring.py:1: hand-written-double: class `FailKeyring` is a "
        "hand-written double: its methods (`get_password`) only raise; use instead: "
        "the project's own class configured over files in tmp_path"
    ) in run.stdout
