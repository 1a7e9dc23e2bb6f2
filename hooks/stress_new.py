"""stress-new, part of tox-changed-tests: a new or changed test must pass every
time, in any order.

After the selection passed (that run counts as the first), each new or
changed test (suite_inventory.new_and_changed_tests: added, or on both sides
with another definition) runs `stress-new - 1` more times in the consumer's
tox env, each time in a fresh pytest process with its own PYTHONHASHSEED,
without the rest of the selection: first with the new tests in reverse file
order (each one before the tests its file lists above it, so a test that
passes only after another one ran, or only before one that changes shared
state, fails deterministically), then shuffled, files and the tests within
each file, from a printed order seed. A test that fails in any run blocks,
with the run's seed and the exact command that replays its order.

The order is given to pytest as explicit node ids, which pytest runs in the
order given; `-p no:randomly` keeps pytest-randomly, if the env has it, from
reshuffling them. run_in_env is the one place a run starts.
"""

from __future__ import annotations

import random
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hooks import config, git, test_runs
from hooks.pytest_collection import collected_files_of
from hooks.suite_inventory import (
    display_path,
    new_and_changed_tests,
    read_changed_test_files,
)
from hooks.tox_runner import PASS_COVERAGE_FILE

HOOK_ID = "tox-changed-tests"
# tox takes a PYTHONHASHSEED from 1 to 4294967295; seeds stay short to read.
LARGEST_SEED = 99_999
KEEP_ORDER = ["-p", "no:randomly"]
# `-rA` lists every test's outcome by node id in the short summary.
SUMMARY_LINE = re.compile(r"(PASSED|FAILED|ERROR|XFAIL|XPASS) (.+?)(?: - .*)?")
FAILING_OUTCOMES = frozenset({"FAILED", "ERROR"})


@dataclass(frozen=True)
class PlannedRun:
    """One more run: its number among all runs, its seed and the order."""

    number: int
    seed: int
    order: tuple[str, ...]


@dataclass
class RunResult:
    """Node ids that failed in one run; output kept to explain a run that broke."""

    failed: set[str]
    reported: set[str]
    returncode: int
    output: str


@dataclass
class Verdict:
    """One stressed test: the planned runs it failed in."""

    test: str
    failed_in: list[PlannedRun] = field(default_factory=list)


def plan_runs(tests: Sequence[str], runs: int, seed: int) -> list[PlannedRun]:
    """Runs 2..RUNS: reversed order under SEED, then shuffled orders under
    SEED+1, SEED+2, ... (run 1 is the selection run)."""
    planned = []
    for number in range(2, runs + 1):
        run_seed = seed + number - 2
        if number == 2:
            order = tuple(reversed(tests))
        else:
            order = shuffled_by_file(tests, random.Random(run_seed))
        planned.append(PlannedRun(number, run_seed, order))
    return planned


def shuffled_by_file(tests: Sequence[str], shuffler: random.Random) -> tuple[str, ...]:
    """TESTS with their files in random order and each file's tests shuffled."""
    by_file: dict[str, list[str]] = {}
    for test in tests:
        by_file.setdefault(test.partition("::")[0], []).append(test)
    files = list(by_file)
    shuffler.shuffle(files)
    order: list[str] = []
    for path in files:
        file_tests = by_file[path]
        shuffler.shuffle(file_tests)
        order.extend(file_tests)
    return tuple(order)


def replay_arguments(
    command: Sequence[str],
    env_arguments: Sequence[str],
    root: Path,
    order: Sequence[str],
    seed: int,
) -> list[str]:
    """The command a user runs to replay ORDER under SEED."""
    return [
        *command,
        *env_arguments,
        "--hashseed",
        str(seed),
        "--",
        *KEEP_ORDER,
        *(str(root / test) for test in order),
    ]


def run_in_env(
    command: Sequence[str],
    env_arguments: Sequence[str],
    root: Path,
    order: Sequence[str],
    seed: int,
) -> RunResult:
    """Run the tests of ORDER once, in that order, in the tox env, with
    PYTHONHASHSEED=SEED. The one place a stress run starts: an in-env runner
    (one process forking per run) can take its place."""
    replay = replay_arguments(command, env_arguments, root, order, seed)
    at_posargs = replay.index("--")
    with tempfile.TemporaryDirectory(prefix="testwarden-stress-") as scratch:
        completed = subprocess.run(
            [
                *replay[:at_posargs],
                # The env is installed: the selection run just used it.
                "--skip-pkg-install",
                *PASS_COVERAGE_FILE,
                *replay[at_posargs:],
                "-rA",
            ],
            cwd=root,
            env={
                **git.scrubbed_environment(),
                # an env measuring coverage writes it here, not in the checkout
                "COVERAGE_FILE": str(Path(scratch) / ".coverage"),
            },
            capture_output=True,
            text=True,
            check=False,
        )
    output = completed.stdout + completed.stderr
    failed, reported = outcomes_of(output, order)
    return RunResult(failed, reported, completed.returncode, output)


def outcomes_of(output: str, tests: Sequence[str]) -> tuple[set[str], set[str]]:
    """(failed, reported): the TESTS pytest's `-rA` summary in OUTPUT reports
    as failed (in the test, its setup or teardown), and at all. A
    parametrized test's cases count for it; pytest names tests relative to
    its rootdir, which may lie below the repository root."""
    failed: set[str] = set()
    reported: set[str] = set()
    for line in output.splitlines():
        match = SUMMARY_LINE.fullmatch(line.strip())
        if match is None:
            continue
        outcome, node_id = match.groups()
        test = _stressed_test(node_id, tests)
        if test is None:
            continue
        reported.add(test)
        if outcome in FAILING_OUTCOMES:
            failed.add(test)
    return failed, reported


def _stressed_test(node_id: str, tests: Sequence[str]) -> str | None:
    path, _, name = node_id.partition("::")
    base = f"{path}::{name.partition('[')[0]}"
    for test in tests:
        if test == base or test.endswith(f"/{base}"):
            return test
    return None


def verdict_line(
    verdict: Verdict,
    runs: int,
    command: Sequence[str],
    env_arguments: Sequence[str],
    root: Path,
) -> str:
    """`path::test: passed 4 of 5 runs; failed when run after X (order seed S);
    rerun with: COMMAND`, for the first run it failed in."""
    failing = verdict.failed_in[0]
    position = failing.order.index(verdict.test)
    context = (
        f"after {failing.order[position - 1]}"
        if position
        else "first, without the rest of the selection"
    )
    replay = replay_arguments(
        command, env_arguments, root, failing.order[: position + 1], failing.seed
    )
    return (
        f"{verdict.test}: passed {runs - len(verdict.failed_in)} of {runs} runs; "
        f"failed when run {context} (order seed {failing.seed}); "
        f"rerun with: {shlex.join(replay)}"
    )


def stressed_tests(
    change_set: git.ChangeSet, settings: config.Config, root: Path
) -> list[str]:
    """The new and changed tests of CHANGE_SET, as node ids; none without a
    before side, where every test would be new."""
    if not change_set.has_before_side:
        return []
    before = collected_files_of(settings, root, change_set.before_rev)
    after = collected_files_of(settings, root, change_set.after_rev)
    files = read_changed_test_files(change_set, before.is_test_file, after.is_test_file)
    return new_and_changed_tests(files)


def stress_new_tests(
    change_set: git.ChangeSet,
    settings: config.Config,
    root: Path,
    command: Sequence[str],
    env_arguments: Sequence[str],
    *,
    seed: int | None = None,
) -> int:
    """Run the change's new and changed tests stress-new - 1 more times;
    1 when one of them failed in a run, else 0."""
    runs = settings.tox_changed_tests.stress_new
    if runs < 2:
        return 0
    tests = [
        test
        for test in stressed_tests(change_set, settings, root)
        if _passable_to_tox(test)
    ]
    if not tests:
        if not change_set.has_before_side:
            print(
                f"{HOOK_ID}: stress-new: {change_set.option} has no before side, "
                "so no test is new; nothing stressed"
            )
        return 0
    tree = git.working_tree_id()
    remembered_as = [*command, *env_arguments, f"stress-new={runs}"]
    prior = test_runs.find(root, tree, remembered_as, tests)
    if prior is not None:
        print(f"{HOOK_ID}: stress-new: not run again: {prior.describe()}")
        return 0 if prior.passed else 1
    seed = random.randint(1, LARGEST_SEED) if seed is None else seed
    planned = plan_runs(tests, runs, seed)
    print(
        f"{HOOK_ID}: stress-new: running {len(tests)} new or changed test(s) "
        f"{len(planned)} more time(s), reversed then shuffled (order seed {seed}; "
        "the selection run was run 1):"
    )
    for test in tests:
        print(f"  {test}")
    sys.stdout.flush()
    verdicts = {test: Verdict(test) for test in tests}
    broken_runs = []
    for run in planned:
        result = run_in_env(command, env_arguments, root, run.order, run.seed)
        for test in result.failed:
            verdicts[test].failed_in.append(run)
        if result.returncode != 0 and not result.failed:
            broken_runs.append((run, result))
    blocked = [verdict for verdict in verdicts.values() if verdict.failed_in]
    for verdict in blocked:
        print(verdict_line(verdict, runs, command, env_arguments, root))
    for run, result in broken_runs:
        print(
            f"{HOOK_ID}: stress-new: run {run.number} (order seed {run.seed}) "
            f"ended with exit code {result.returncode} without a failed test; "
            f"its output ends: {_last_line(result.output)}"
        )
    passed = not blocked and not broken_runs
    test_runs.remember(root, HOOK_ID, tree, remembered_as, tests, passed=passed)
    if passed:
        print(
            f"{HOOK_ID}: stress-new: every new or changed test passed {runs} of {runs} runs"
        )
        return 0
    print(
        f"{HOOK_ID}: stress-new: a new or changed test must pass every time, in "
        "any order; make it independent of other tests, of files and state they "
        "leave, of the clock, of unseeded randomness and of set order (replay "
        "it with the command above), or set `stress-new = 0` in "
        f"[tool.testwarden.{HOOK_ID}] to switch this off"
    )
    return 1


def _passable_to_tox(test: str) -> bool:
    """tox cannot take a name that is not valid UTF-8 (tox_runner says so for
    the selection, which then runs whole); such a test is not stressed."""
    try:
        test.encode("utf-8")
    except UnicodeEncodeError:
        print(
            f"{display_path(test)}: stress-new: not stressed: tox cannot take a "
            "file name that is not valid UTF-8; rename it"
        )
        return False
    return True


def _last_line(output: str) -> str:
    lines = output.strip().splitlines()
    return lines[-1] if lines else "no output"
