"""tox-changed-tests running real tox (and real `poetry run tox`) on small projects."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hooks import tox_changed_tests, tox_runner
from tests.helpers import add, commit, write

TOX_INI = """\
[tox]
env_list = py

[testenv]
skip_install = true
deps = pytest
pass_env = GIT_INDEX_FILE
commands = pytest {posargs:tests}
"""
PROJECT = {
    "calc/__init__.py": "",
    "calc/ops.py": "def add(a, b):\n    return a + b\n",
    "calc/text.py": "def shout(word):\n    return word.upper()\n",
    "tests/test_ops.py": (
        "import os\nfrom calc.ops import add\n\n"
        "def test_add():\n    assert add(2, 2) == 4\n\n"
        "def test_git_variables_do_not_reach_the_tests():\n"
        "    assert 'GIT_INDEX_FILE' not in os.environ\n"
    ),
    "tests/test_text.py": (
        "from calc.text import shout\n\ndef test_shout():\n    assert shout('a') == 'A'\n"
    ),
    "pyproject.toml": "[tool.pytest.ini_options]\npythonpath = ['.']\n",
}


@pytest.fixture
def tox_project(repo, use_tox) -> Path:
    for path, text in {**PROJECT, "tox.ini": TOX_INI}.items():
        write(path, text)
    add(".")
    commit("project")
    return repo


def test_runs_only_the_affected_tests_and_passes(tox_project, capfd):
    write("calc/ops.py", "def add(a, b):\n    return b + a\n")
    add("calc/ops.py")

    assert tox_changed_tests.main([]) == 0

    output = capfd.readouterr().out
    assert "tests/test_ops.py: imports calc/ops.py" in output
    assert f"pytest {tox_project / 'tests/test_ops.py'}" in output
    assert "2 passed" in output
    assert "test_text" not in output


def test_a_failing_selected_test_fails_the_hook(tox_project, capfd):
    write("calc/text.py", "def shout(word):\n    return word.lower()\n")
    add("calc/text.py")

    assert tox_changed_tests.main([]) == 1

    output = capfd.readouterr().out
    assert "FAILED tests/test_text.py::test_shout" in output
    assert "1 failed" in output


def test_git_hook_variables_are_scrubbed_from_the_test_run(
    tox_project, capfd, monkeypatch
):
    write("calc/ops.py", "def add(a, b):\n    return a + b + 0\n")
    add("calc/ops.py")
    # What git exports to a pre-commit hook; the index file is the real one.
    monkeypatch.setenv("GIT_INDEX_FILE", str(tox_project / ".git" / "index"))

    assert tox_changed_tests.main([]) == 0

    assert "2 passed" in capfd.readouterr().out


def test_whole_suite_runs_without_posargs_when_configuration_changes(
    tox_project, capfd
):
    write("pyproject.toml", PROJECT["pyproject.toml"] + "# tweak\n")
    add("pyproject.toml")

    assert tox_changed_tests.main([]) == 0

    output = capfd.readouterr().out
    assert "running the whole suite: pyproject.toml changed" in output
    assert "3 passed" in output


def test_environment_without_posargs_is_refused_with_the_line_to_write(
    tox_project, capsys
):
    write("tox.ini", TOX_INI.replace("{posargs:tests}", "tests"))
    add("tox.ini")
    commit("drop posargs")
    write("calc/ops.py", "def add(a, b):\n    return b + a\n")
    add("calc/ops.py")

    assert tox_changed_tests.main([]) == 2

    error = capsys.readouterr().err
    assert "tox environment 'py' does not pass {posargs}" in error
    assert "commands = pytest {posargs:tests}" in error
    assert error.count("\n") == 1


def refused_hint(capture) -> str:
    """The command the refusal tells the user to write."""
    [hint] = re.findall(r"write `commands = (.+?)`", capture.readouterr().err)
    return hint


def test_the_posargs_hint_keeps_the_users_own_command(tox_project, capfd):
    coverage_commands = (
        "commands =\n    coverage erase\n    coverage run -m pytest -q tests\n"
        "    coverage report\n"
    )
    write(
        "tox.ini",
        TOX_INI.replace("deps = pytest", "deps = pytest\n    coverage").replace(
            "commands = pytest {posargs:tests}\n", coverage_commands
        ),
    )
    add("tox.ini")
    commit("tests under coverage, without posargs")
    write("calc/ops.py", "def add(a, b):\n    return b + a\n")
    add("calc/ops.py")
    assert tox_changed_tests.main([]) == 2
    hint = refused_hint(capfd)
    assert hint == "coverage run -m pytest -q {posargs:tests}"

    # Copied into tox.ini, the hint's command passes {posargs} and keeps coverage.
    write(
        "tox.ini",
        Path("tox.ini").read_text().replace("coverage run -m pytest -q tests", hint),
    )
    add("tox.ini")
    commit("posargs as the hook said")
    write("calc/ops.py", "def add(a, b):\n    return a + b\n")
    add("calc/ops.py")

    assert tox_changed_tests.main([]) == 0

    output = capfd.readouterr().out
    assert f"pytest -q {tox_project / 'tests/test_ops.py'}" in output
    assert "TOTAL" in output


def test_the_posargs_hint_for_tox_toml_is_toml(tox_project, capfd):
    os.remove("tox.ini")
    configuration = (
        'env_list = ["py"]\n[env_run_base]\nskip_install = true\ndeps = ["pytest"]\n'
        'commands = [["pytest", "-q", "tests"]]\n'
    )
    write("tox.toml", configuration)
    add(".")
    commit("tox.toml without posargs")
    write("calc/ops.py", "def add(a, b):\n    return b + a\n")
    add("calc/ops.py")
    assert tox_changed_tests.main([]) == 2
    hint = refused_hint(capfd)
    assert hint == (
        '[["pytest", "-q", { replace = "posargs", default = ["tests"], extend = true }]]'
    )

    write("tox.toml", configuration.replace('[["pytest", "-q", "tests"]]', hint))
    add("tox.toml")

    assert tox_changed_tests.main([]) == 0  # the whole suite: tox.toml changed

    assert "3 passed" in capfd.readouterr().out


def test_without_tox_configuration_the_posargs_hint_shows_both_forms(
    repo, use_tox, capsys
):
    for path, text in PROJECT.items():
        write(path, text)
    add(".")
    commit("project without tox configuration")
    write("calc/ops.py", "def add(a, b):\n    return b + a\n")
    add("calc/ops.py")

    assert tox_changed_tests.main([]) == 2

    error = capsys.readouterr().err
    assert "does not pass {posargs} to its commands (none)" in error
    assert "in tox.ini write `commands = pytest {posargs:tests}` (tox.toml: " in error


def test_selected_file_without_tests_is_a_wrong_selection(tox_project, capfd):
    write("tests/test_empty.py", "from calc import ops\n")
    add("tests/test_empty.py")

    assert tox_changed_tests.main([]) == 1

    assert "pytest collected no tests from the selected files" in capfd.readouterr().out


def test_env_option_chooses_the_tox_environment(tox_project, capfd):
    write("tox.ini", TOX_INI + "\n[testenv:quick]\ncommands = pytest -q {posargs}\n")
    add("tox.ini")
    commit("second env")
    write("calc/text.py", "def shout(word):\n    return word.upper() + ''\n")
    add("calc/text.py")

    assert tox_changed_tests.main(["-e", "quick"]) == 0

    output = capfd.readouterr().out
    assert "quick: commands[0]>" in output
    assert "py: commands[0]>" not in output


@pytest.mark.parametrize(
    ("filename", "configuration"),
    [
        (
            "tox.toml",
            'env_list = ["py"]\n[env_run_base]\nskip_install = true\ndeps = ["pytest"]\n'
            'commands = [["pytest", { replace = "posargs", default = ["tests"], extend = true }]]\n',
        ),
        (
            "pyproject.toml",
            PROJECT["pyproject.toml"]
            + '[tool.tox]\nenv_list = ["py"]\n[tool.tox.env_run_base]\nskip_install = true\n'
            'deps = ["pytest"]\n'
            'commands = [["pytest", { replace = "posargs", default = ["tests"], extend = true }]]\n',
        ),
    ],
)
def test_tox_toml_and_pyproject_configuration(
    tox_project, capfd, filename, configuration
):
    os.remove("tox.ini")
    write(filename, configuration)
    add(".")
    commit("native toml configuration")
    write("tests/test_text.py", PROJECT["tests/test_text.py"] + "\n")
    add("tests/test_text.py")

    assert tox_changed_tests.main([]) == 0

    assert "1 passed" in capfd.readouterr().out


def test_broken_tox_configuration_is_a_one_line_error(tox_project, capsys):
    os.remove("tox.ini")
    write("tox.toml", "this is [ not toml\n")
    write("calc/ops.py", "def add(a, b):\n    return b + a\n")
    add(".")

    assert tox_changed_tests.main([]) == 2

    error = capsys.readouterr().err
    assert error.startswith("testwarden: tox configuration is broken: ")
    assert error.count("\n") == 1


# A tox plugin (tox loads toxfile.py from the project) that needs a tool
# missing here, and says so as tox-uv does when uv is missing.
TOXFILE_NEEDING_A_TOOL = """\
import shutil

from tox.plugin import impl


@impl
def tox_add_env_config(env_conf, state):
    if shutil.which("testwarden-absent-tool") is None:
        raise RuntimeError(
            "testwarden-absent-tool not found. Either:\\n"
            "  1. Install it: pip install testwarden-absent-tool\\n"
            "  2. Set ABSENT_TOOL_PATH environment variable to its location"
        )
"""


def test_broken_tox_configuration_names_the_cause_not_the_last_line(
    tox_project, capsys
):
    write("toxfile.py", TOXFILE_NEEDING_A_TOOL)
    write("calc/ops.py", "def add(a, b):\n    return b + a\n")
    add(".")

    assert tox_changed_tests.main([]) == 2

    assert capsys.readouterr().err == (
        "testwarden: tox configuration is broken: RuntimeError: "
        "testwarden-absent-tool not found. Either: "
        "1. Install it: pip install testwarden-absent-tool "
        "2. Set ABSENT_TOOL_PATH environment variable to its location\n"
    )


def test_tox_failing_without_output_says_so(tox_project, capsys):
    write("calc/ops.py", "def add(a, b):\n    return b + a\n")
    add("calc/ops.py")

    assert tox_changed_tests.main(["--runner", "false"]) == 2

    assert capsys.readouterr().err == (
        "testwarden: tox configuration is broken: no output\n"
    )


def test_missing_runner_is_a_one_line_error(tox_project, capsys):
    write("calc/ops.py", "def add(a, b):\n    return b + a\n")
    add("calc/ops.py")

    assert tox_changed_tests.main(["--runner", "no-such-tox --flag"]) == 2

    assert capsys.readouterr().err == (
        "testwarden: cannot run 'no-such-tox': not found; install it\n"
    )


POETRY_PYPROJECT = """\
[tool.poetry]
name = "calc"
version = "0.1.0"
description = "a consumer project"
authors = ["Test Author <test@example.org>"]
package-mode = false

[tool.poetry.dependencies]
python = ">=3.11"

[tool.pytest.ini_options]
pythonpath = ["."]
"""


def test_poetry_project_runs_through_poetry_run_tox(
    tox_project, capfd, monkeypatch, tmp_path
):
    monkeypatch.setenv("POETRY_VIRTUALENVS_PATH", str(tmp_path / "poetry-venvs"))
    monkeypatch.setenv("POETRY_CACHE_DIR", str(tmp_path / "poetry-cache"))
    write("pyproject.toml", POETRY_PYPROJECT)
    add("pyproject.toml")
    commit("poetry project")
    write("calc/text.py", "def shout(word):\n    return word.upper() + ''\n")
    add("calc/text.py")

    assert tox_changed_tests.main([]) == 0

    output = capfd.readouterr().out
    assert "1 passed" in output
    assert (tmp_path / "poetry-venvs").is_dir()  # poetry really ran


def test_poetry_project_without_poetry_says_what_to_install(
    tox_project, capsys, monkeypatch, tmp_path
):
    write("poetry.lock", "# lock\n")
    add("poetry.lock")
    commit("poetry lock")
    write("calc/text.py", "def shout(word):\n    return word.upper() + ''\n")
    add("calc/text.py")
    only_git = tmp_path / "only-git"
    only_git.mkdir()
    os.symlink(shutil.which("git"), only_git / "git")
    monkeypatch.setenv("PATH", str(only_git))

    assert tox_changed_tests.main([]) == 2

    assert (
        "this is a Poetry project but `poetry` is not on PATH"
        in capsys.readouterr().err
    )


def test_unreadable_pyproject_is_not_a_poetry_project(tmp_path):
    (tmp_path / "pyproject.toml").write_text("not [ toml")

    assert not tox_runner.is_poetry_project(tmp_path)
    assert not tox_runner.is_poetry_project(tmp_path / "missing")


def test_a_passed_posargs_check_is_remembered_until_tox_ini_changes(tox_project, capfd):
    write("calc/ops.py", "def add(a, b):\n    return b + a\n")
    add("calc/ops.py")
    assert tox_changed_tests.main([]) == 0
    capfd.readouterr()
    [remembered] = (Path(os.environ["TESTWARDEN_CACHE_DIR"]) / "tox-posargs").iterdir()

    write("tox.ini", TOX_INI.replace("{posargs:tests}", "tests"))
    add("tox.ini")

    assert tox_changed_tests.main([]) == 2
    assert "does not pass {posargs}" in capfd.readouterr().err
    assert remembered.exists()


def test_unwritable_cache_still_checks_posargs(
    tox_project, capfd, monkeypatch, tmp_path
):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("TESTWARDEN_CACHE_DIR", str(blocker / "cache"))
    write("calc/ops.py", "def add(a, b):\n    return b + a\n")
    add("calc/ops.py")

    assert tox_changed_tests.main([]) == 0

    assert "2 passed" in capfd.readouterr().out


def test_list_into_a_closed_pipe_ends_quietly(repo):
    """`tox-changed-tests --list | head -1` once head has exited: no traceback."""
    for path, text in PROJECT.items():
        write(path, text)
    add(".")
    commit("project")
    write("calc/ops.py", "def add(a, b):\n    return b + a\n")
    add("calc/ops.py")
    read_end, write_end = os.pipe()
    os.close(read_end)

    with os.fdopen(write_end, "w") as closed_pipe:
        completed = subprocess.run(
            [str(Path(sys.executable).parent / "tox-changed-tests"), "--list"],
            stdout=closed_pipe,
            stderr=subprocess.PIPE,
            text=True,
        )

    assert (completed.returncode, completed.stderr) == (1, "")


def test_a_test_file_name_tox_cannot_take_runs_the_whole_suite(tox_project, capfd):
    # pytest's cache cannot store such a name either; without it, pytest runs it.
    write(
        "tox.ini",
        TOX_INI.replace("pytest {posargs", "pytest -p no:cacheprovider {posargs"),
    )
    add("tox.ini")
    commit("no pytest cache")
    weird = os.fsdecode(b"tests/test_\xff.py")
    write(weird, "def test_weird():\n    assert True\n")
    add(weird)

    assert tox_changed_tests.main([]) == 0

    output = capfd.readouterr().out
    assert (
        "tests/test_\\xff.py: cannot pass a file name that is not valid UTF-8 to tox; "
        "rename it\n" in output
    )
    assert (
        "running the whole suite: a selected test file's name is not valid UTF-8"
        in output
    )
    assert "4 passed" in output
