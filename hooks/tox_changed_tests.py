"""tox-changed-tests: run, through tox, only the tests the change can affect.

The selection (hooks/affected_tests.py) goes to tox as posargs:
`tox [-e ENV] -- tests/test_a.py ...`, or `poetry run tox ...` in a Poetry
project. Before running, tox itself is asked whether the environment passes
{posargs} on; otherwise tox would quietly run something else.
"""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

from hooks import config, git
from hooks.affected_tests import Selection, select_tests
from hooks.errors import UserError, report

POSARGS_PROBE = "testwarden-posargs-probe"
NO_TESTS_COLLECTED = re.compile(r"\bexit 5 \(")
EXIT_NO_TESTS_COLLECTED = 5


def is_poetry_project(root: Path) -> bool:
    if (root / "poetry.lock").is_file():
        return True
    try:
        pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return "poetry" in pyproject.get("tool", {})


def tox_command(root: Path, runner: str | None) -> list[str]:
    """How to start tox here: the user's runner, `poetry run tox`, or our tox."""
    if runner:
        return shlex.split(runner)
    if is_poetry_project(root):
        if shutil.which("poetry") is None:
            raise UserError(
                "this is a Poetry project but `poetry` is not on PATH; "
                "install Poetry, or pass --runner tox"
            )
        # "--" keeps poetry from reading tox's options as its own.
        return ["poetry", "run", "--", "tox"]
    return [sys.executable, "-m", "tox"]


def _run_captured(command: list[str], root: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            command,
            cwd=root,
            env=git.scrubbed_environment(),
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        raise UserError(f"cannot run {command[0]!r}: not found; install it") from None


def check_posargs(command: list[str], env_arguments: list[str], root: Path) -> None:
    """Fail unless every environment tox would run passes {posargs} to its commands."""
    probe = _run_captured(
        [*command, "config", *env_arguments, "-k", "commands", "--", POSARGS_PROBE],
        root,
    )
    if probe.returncode != 0:
        lines = (probe.stderr or probe.stdout).strip().splitlines()
        raise UserError(
            f"tox configuration is broken: {lines[-1] if lines else 'no output'}"
        )
    environment = None
    for line in probe.stdout.splitlines():
        header = re.fullmatch(r"\[testenv:(.+)\]", line.strip())
        if header:
            environment = header.group(1)
        elif line.startswith("commands =") and POSARGS_PROBE not in line:
            raise UserError(
                f"tox environment {environment!r} does not pass {{posargs}} to its "
                f"commands ({line.strip()}), so tox would not run the selected "
                "tests; in tox.ini write `commands = pytest {posargs:tests}` "
                '(tox.toml: `commands = [["pytest", { replace = "posargs", '
                'default = ["tests"], extend = true }]]`)'
            )


def run_tox(command: list[str], arguments: list[str], root: Path) -> int:
    """Run tox with its output streaming through; return its exit code."""
    # check_posargs has already run the same command, so it exists.
    process = subprocess.Popen(
        [*command, *arguments],
        cwd=root,
        env=git.scrubbed_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    collected_nothing = False
    for line in process.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        collected_nothing = collected_nothing or bool(NO_TESTS_COLLECTED.search(line))
    returncode = process.wait()
    if collected_nothing:
        return EXIT_NO_TESTS_COLLECTED
    return returncode


def print_selection(selection: Selection) -> None:
    if selection.everything:
        print(f"whole suite: {selection.everything}")
        return
    for path, reason in selection.test_files.items():
        print(f"{path}: {reason}")
    for path, reason in selection.unselected.items():
        print(f"{path}: selects nothing: {reason}")


def run_changed_tests(
    change_set: git.ChangeSet,
    settings: config.Config,
    root: Path,
    *,
    list_only: bool = False,
) -> int:
    selection = select_tests(change_set, settings)
    if list_only:
        print_selection(selection)
        return 0
    if not selection.everything and not selection.test_files:
        print(f"tox-changed-tests: no tests affected by {change_set.describe()}")
        print_selection(selection)
        return 0
    hook_settings = settings.hook("tox-changed-tests")
    command = tox_command(root, hook_settings["runner"])
    env_arguments = ["-e", hook_settings["env"]] if hook_settings["env"] else []
    check_posargs(command, env_arguments, root)
    if selection.everything:
        print(f"tox-changed-tests: running the whole suite: {selection.everything}")
        posargs: list[str] = []
    else:
        print(f"tox-changed-tests: running {len(selection.test_files)} test file(s):")
        print_selection(selection)
        posargs = ["--", *(str(root / path) for path in selection.test_files)]
    sys.stdout.flush()
    returncode = run_tox(command, [*env_arguments, *posargs], root)
    if returncode == EXIT_NO_TESTS_COLLECTED and posargs:
        print(
            "tox-changed-tests: pytest collected no tests from the selected files; "
            "the selection is wrong (check `test-files` in [tool.testwarden])"
        )
        return 1
    return 0 if returncode == 0 else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tox-changed-tests",
        description="Run through tox only the tests the change can affect.",
    )
    git.add_change_set_arguments(parser)
    parser.add_argument(
        "--list", action="store_true", help="print the selection and why; run nothing"
    )
    parser.add_argument(
        "--runner", help="command that starts tox (default: `poetry run tox` or tox)"
    )
    parser.add_argument("-e", "--env", help="tox environment(s) to run")
    args = parser.parse_args(argv)
    try:
        root = git.repo_root()
        settings = config.load(
            root, {"tox-changed-tests": {"env": args.env, "runner": args.runner}}
        )
        return run_changed_tests(
            git.change_set_from_arguments(args), settings, root, list_only=args.list
        )
    except UserError as error:
        return report(error)


if __name__ == "__main__":
    raise SystemExit(main())
