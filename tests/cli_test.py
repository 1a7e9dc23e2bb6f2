from __future__ import annotations

import importlib
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import hooks
from hooks import cli, errors
from tests.helpers import write

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_version(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])

    assert exited.value.code == 0
    assert capsys.readouterr().out == f"testwarden {hooks.__version__}\n"


def test_runs_a_hook_by_id_with_its_own_options(repo, capsys):
    write("module.py", "import sys\nimport os\n")

    assert cli.main(["isort-black", "--check", "module.py"]) == 1

    assert capsys.readouterr().out == "would reformat module.py\n"
    assert Path("module.py").read_text() == "import sys\nimport os\n"


def test_unknown_hook_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["no-such-hook"])

    assert exited.value.code == 2
    assert "invalid choice: 'no-such-hook'" in capsys.readouterr().err


def test_python_dash_m_hooks_is_the_same_command(repo):
    write("module.py", "import sys\nimport os\n")

    completed = subprocess.run(
        [sys.executable, "-m", "hooks", "isort-black", "module.py"],
        capture_output=True,
        text=True,
    )

    assert (completed.returncode, completed.stdout) == (1, "Fixing module.py\n")
    assert Path("module.py").read_text() == "import os\nimport sys\n"


def test_argv_defaults_to_the_process_arguments(repo):
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "from hooks.cli import main; raise SystemExit(main())",
            "--version",
        ],
        capture_output=True,
        text=True,
    )

    assert completed.stdout == f"testwarden {hooks.__version__}\n"


def entry_points() -> dict[str, str]:
    """Every command a user can start -> its "module:function"."""
    scripts = tomllib.loads(PYPROJECT.read_text())["project"]["scripts"]
    commands = {f"testwarden {name}": entry for name, entry in cli.COMMANDS.items()}
    return {**scripts, **commands}


@pytest.mark.parametrize("command, entry", sorted(entry_points().items()))
def test_every_command_wears_the_closed_pipe_handler(command, entry):
    """Wrapped by the one handler tests/tox_changed_tests_test.py checks
    through a real pipe."""
    module, _, function = entry.partition(":")
    entry_main = getattr(importlib.import_module(module), function)

    assert entry_main.__code__ is errors.quiet_on_closed_pipe(cli.main).__code__
