"""tox-changed-tests: run, through tox, only the tests the change can affect.

The selection (hooks/affected_tests.py) goes to tox as posargs:
`tox [-e ENV] -- tests/test_a.py ...`, or `poetry run tox ...` in a Poetry
project (hooks/tox_runner.py).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from hooks import config, git
from hooks.affected_tests import Selection, select_tests
from hooks.errors import UserError, report
from hooks.tox_runner import (
    EXIT_NO_TESTS_COLLECTED,
    check_posargs,
    run_tox,
    tox_command,
)


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
