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
