"""tox-changed-tests: run, through tox, only the tests the change can affect.

The selection (hooks/affected_tests.py) goes to tox as posargs:
`tox [-e ENV] -- tests/test_a.py tests/test_b.py::test_x ...`, or `poetry run
tox ...` in a Poetry project (hooks/tox_runner.py). With `record-test-map`,
the run's coverage data updates the test map (hooks/test_map.py) for the
tests that ran.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import coverage

from hooks import config, git, stress_new, test_runs
from hooks.affected_tests import Selection, record_test_map, select_tests
from hooks.errors import UserError, quiet_on_closed_pipe, report
from hooks.tox_runner import (
    EXIT_NO_TESTS_COLLECTED,
    NO_DATA_HINT,
    PASS_COVERAGE_FILE,
    check_posargs,
    load_coverage,
    run_tox,
    run_whole_suite_for_unpassable_names,
    tox_command,
)


def print_selection(selection: Selection) -> None:
    if selection.everything:
        print(f"whole suite: {selection.everything}")
        return
    if not selection.is_empty:
        print(f"selected with: {selection.made_with}")
    lines = dict(selection.test_files)
    for path, tests in selection.tests.items():
        reasons = "; ".join(dict.fromkeys(tests.values()))
        lines[path] = f"{len(tests)} test(s): {reasons}"
    for path, reason in sorted(lines.items()):
        print(f"{path}: {reason}")
    for path, reason in selection.unselected.items():
        print(f"{path}: selects nothing: {reason}")
    for note in selection.notes:
        print(f"note: {note}")


def describe_size(selection: Selection) -> str:
    """'2 test file(s) and 3 test(s) of 1 other file(s)'."""
    parts = []
    if selection.test_files:
        parts.append(f"{len(selection.test_files)} test file(s)")
    if selection.tests:
        tests = sum(len(tests) for tests in selection.tests.values())
        other = " other" if selection.test_files else ""
        parts.append(f"{tests} test(s) of {len(selection.tests)}{other} file(s)")
    return " and ".join(parts)


def run_changed_tests(
    change_set: git.ChangeSet,
    settings: config.Config,
    root: Path,
    *,
    list_only: bool = False,
    use_test_map: bool = True,
    stress_seed: int | None = None,
) -> int:
    print(change_set.mode_line("tox-changed-tests"))
    selection = select_tests(change_set, settings, root, use_test_map=use_test_map)
    if list_only:
        print_selection(selection)
        return 0
    if selection.is_empty:
        print(f"tox-changed-tests: no tests affected by {change_set.describe()}")
        print_selection(selection)
        return 0
    hook_settings = settings.tox_changed_tests
    command = tox_command(root, hook_settings.runner)
    env_arguments = ["-e", hook_settings.env] if hook_settings.env else []
    run_whole_suite_for_unpassable_names(selection)
    stressed = stress_new.stressed_tests(change_set, settings, root)
    selectors = (
        None
        if selection.everything
        else stress_new.new_tests_last(selection.selectors(), stressed)
    )

    def stress() -> int:
        """After a passed selection: the new and changed tests, runs 2..N."""
        return stress_new.stress_new_tests(
            change_set,
            settings,
            root,
            command,
            env_arguments,
            tests=stressed,
            seed=stress_seed,
        )

    tree = git.working_tree_id()
    prior = test_runs.find(root, tree, [*command, *env_arguments], selectors)
    if prior is not None:
        print(f"tox-changed-tests: not run again: {prior.describe()}")
        if not prior.passed:
            return 1
        return stress()
    check_posargs(command, env_arguments, root)
    if selectors is None:
        print(f"tox-changed-tests: running the whole suite: {selection.everything}")
        posargs: list[str] = []
    else:
        print(f"tox-changed-tests: running {describe_size(selection)}:")
        print_selection(selection)
        posargs = ["--", *(str(root / selector) for selector in selectors)]
    with tempfile.TemporaryDirectory(prefix="testwarden-run-") as scratch:
        # The new tests' runs 2.. are made in this tox run, before pytest
        # runs the selection, when it can (stress_new).
        in_run = stress_new.plan_in_selection_run(
            settings,
            root,
            command,
            env_arguments,
            stressed,
            Path(scratch),
            tree=tree,
            seed=stress_seed,
        )
        stress_options, stress_environment = (
            (in_run.plan.tox_options(), in_run.plan.environment())
            if in_run
            else ([], {})
        )
        sys.stdout.flush()
        # Coverage data, when the env writes some, serves coverage-gate on
        # the same tree and the test map.
        returncode = run_tox(
            command,
            [*env_arguments, *PASS_COVERAGE_FILE, *stress_options, *posargs],
            root,
            {
                **stress_environment,
                "COVERAGE_FILE": str(Path(scratch) / ".coverage"),
            },
        )
        measured = _coverage_of(Path(scratch), root) if returncode == 0 else None
        test_runs.remember(
            root,
            "tox-changed-tests",
            tree,
            [*command, *env_arguments],
            selectors,
            passed=returncode == 0,
            coverage_data=(
                Path(measured.get_data().data_filename()) if measured else None
            ),
        )
        if returncode == 0 and hook_settings.record_test_map:
            print(f"tox-changed-tests: {_record(measured, root, settings, selectors)}")
        stressed_in_run = (
            stress_new.conclude_selection_run(
                in_run, command, env_arguments, selection_passed=returncode == 0
            )
            if in_run
            else None
        )
    if returncode == EXIT_NO_TESTS_COLLECTED and posargs:
        print(
            "tox-changed-tests: pytest collected no tests from the selected files; "
            "the selection is wrong (check `test-files` in [tool.testwarden])"
        )
        return 1
    if returncode != 0:
        return 1
    if stressed_in_run is not None:
        return stressed_in_run
    return stress()


def _coverage_of(data_directory: Path, root: Path) -> coverage.Coverage | None:
    try:
        return load_coverage(data_directory, root)
    except UserError:
        return None


def _record(
    measured: coverage.Coverage | None,
    root: Path,
    settings: config.Config,
    ran: list[str] | None,
) -> str:
    if measured is None:
        return f"no test map recorded: {NO_DATA_HINT}"
    return record_test_map(measured.get_data(), root, settings, ran)


@quiet_on_closed_pipe
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
    parser.add_argument(
        "--no-test-map",
        action="store_true",
        help="select by the import graph only, even when a test map is recorded",
    )
    parser.add_argument(
        "--stress-new",
        type=int,
        metavar="N",
        help="runs of each new or changed test, the selection run included "
        "(default 5; 0 switches it off)",
    )
    parser.add_argument(
        "--stress-seed",
        type=int,
        metavar="SEED",
        help="order seed of the stress runs, to replay them (default: random)",
    )
    args = parser.parse_args(argv)
    try:
        root = git.repo_root()
        settings = config.load(
            root,
            {
                "tox-changed-tests": {
                    "env": args.env,
                    "runner": args.runner,
                    "stress-new": args.stress_new,
                }
            },
        )
        return run_changed_tests(
            git.change_set_from_arguments(args),
            settings,
            root,
            list_only=args.list,
            use_test_map=not args.no_test_map,
            stress_seed=args.stress_seed,
        )
    except UserError as error:
        return report(error)


if __name__ == "__main__":
    raise SystemExit(main())
