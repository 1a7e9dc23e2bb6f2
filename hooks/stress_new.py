"""stress-new, part of tox-changed-tests: a new or changed test must pass every
time, in any order.

The change's new and changed tests (suite_inventory.new_and_changed_tests:
added, or on both sides with another definition) run `stress-new` times:

  run 1    the selection run, with the files that hold them given to pytest
           last (new_tests_last), so they run after the rest of the selection
  run 2    each one alone
  run 3    the tests of their files, files and tests in reverse order (a test
           that fails once a test below it changed shared state fails here)
  run 4..  the same, shuffled from a printed order seed; the last run in a
           new process with another PYTHONHASHSEED (set order of strings)

Runs 2 and later are made by our pytest plugin
(inenv/testwarden_stress_plugin.py), loaded into the selection's own tox run:
once pytest has collected the selection, and before it runs it, each run is
made in a forked child of that session, so a run costs the tests' own time,
not a start of tox and pytest. When the selection run cannot make them (it
runs under pytest-xdist or pytest-randomly, or it was not run again because
it passed on this tree before), they are one more tox run of the new tests'
files, made the same way (run_stress). A new or changed test that fails in any run
blocks, with the run's seed and the exact command that replays its order.
Other tests of those files failing in a stress run are reported, not blocked
on: they are not the change's.
"""

from __future__ import annotations

import json
import os
import random
import shlex
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
from hooks.tox_runner import (
    PASS_COVERAGE_FILE,
    failure_cause,
    plugin_environment,
    run_tox_with_plugin,
)

HOOK_ID = "tox-changed-tests"
PLUGIN_MODULE = "testwarden_stress_plugin"
PLAN_VARIABLE = "TESTWARDEN_STRESS_PLAN"
# tox takes a PYTHONHASHSEED from 1 to 4294967295; seeds stay short to read.
LARGEST_SEED = 99_999
KEEP_ORDER = ["-p", "no:randomly"]
OUTPUT_TAIL_LINES = 20


@dataclass(frozen=True)
class StressRun:
    """One run as the plugin made it: the order it ran in (node ids with
    paths relative to the repository root), what failed, how it ended."""

    number: int
    kind: str  # alone, reversed or shuffled
    order: tuple[str, ...]
    failed: tuple[str, ...]
    verdict: str  # passed, failed, timeout, crashed, error
    seconds: float
    hash_seed: str
    new_process: bool


@dataclass
class StressResults:
    runs: list[StressRun]
    missing: list[str]  # stressed tests the tox run did not collect
    collection_failed: bool
    # Node ids that failed in the selection run, when it made the runs.
    selection_failed: tuple[str, ...] = ()


@dataclass(frozen=True)
class StressPlan:
    """What the plugin is to do (PLAN_VARIABLE names plan_file) and where it
    writes what it did."""

    tests: tuple[str, ...]
    runs: int
    seed: int
    plan_file: Path
    results_file: Path

    @classmethod
    def write(
        cls,
        mode: str,
        tests: Sequence[str],
        runs: int,
        seed: int,
        root: Path,
        scratch: Path,
    ) -> StressPlan:
        """The plan for plan mode MODE ("selection" or "stress"), written
        into SCRATCH."""
        plan = cls(
            tuple(tests), runs, seed, scratch / "plan.json", scratch / "results.json"
        )
        document = {
            "mode": mode,
            "tests": list(tests),
            "files": [str(root / path) for path in _files_of(tests)],
            "runs": runs,
            "seed": seed,
            "fresh_hash_seed": seed % LARGEST_SEED + 1,
            "results": str(plan.results_file),
        }
        plan.plan_file.write_text(json.dumps(document), encoding="utf-8")
        return plan

    def tox_options(self) -> list[str]:
        """tox options that load the plugin and set the runs' hash seed."""
        pass_env, _ = plugin_environment(PLUGIN_MODULE, (PLAN_VARIABLE, self.plan_file))
        return [*pass_env, "--hashseed", str(self.seed)]

    def environment(self) -> dict[str, str]:
        _, variables = plugin_environment(
            PLUGIN_MODULE, (PLAN_VARIABLE, self.plan_file)
        )
        return variables

    def results(self, root: Path) -> StressResults | str | None:
        """What the plugin did: the runs; or, when the selection run could
        not make them, why; None when it never ran."""
        try:
            document = json.loads(self.results_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not document["made"]:
            return document["reason"]
        return StressResults(
            [_stress_run(run, root) for run in document["runs"]],
            [display_path(test) for test in document["missing"]],
            document["collection_failed"],
            tuple(
                _relative(location, root)
                for location in document.get("selection_failed", [])
            ),
        )


@dataclass
class Verdict:
    """One stressed test: the runs it failed in, with the node id that failed."""

    test: str
    failed_in: list[tuple[StressRun, str]] = field(default_factory=list)
    failed_in_selection: bool = False  # run 1


class StressNotRun(Exception):
    """The stress runs could not be made; the message says why."""


def stressed_tests(
    change_set: git.ChangeSet, settings: config.Config, root: Path
) -> list[str]:
    """The new and changed tests of CHANGE_SET, as node ids; none without a
    before side, where every test would be new, or when stress-new is off."""
    if settings.tox_changed_tests.stress_new < 2 or not change_set.has_before_side:
        return []
    before = collected_files_of(settings, root, change_set.before_rev)
    after = collected_files_of(settings, root, change_set.after_rev)
    files = read_changed_test_files(change_set, before.is_test_file, after.is_test_file)
    return [test for test in new_and_changed_tests(files) if _passable_to_tox(test)]


def new_tests_last(selectors: Sequence[str], tests: Sequence[str]) -> list[str]:
    """SELECTORS with those naming a file of TESTS moved to the end, in their
    order: pytest runs its arguments in the order given, so the new tests run
    after the rest of the selection."""
    files = {test.partition("::")[0] for test in tests}
    holding = [selector for selector in selectors if _file_of(selector) in files]
    return [selector for selector in selectors if selector not in holding] + holding


def _file_of(selector: str) -> str:
    return selector.partition("::")[0]


def _files_of(tests: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(_file_of(test) for test in tests))


def _base_of(node_id: str) -> str:
    """A node id without its parametrization: the test it is a case of."""
    path, _, name = node_id.partition("::")
    return f"{path}::{name.partition('[')[0]}"


def replay_arguments(
    command: Sequence[str],
    env_arguments: Sequence[str],
    root: Path,
    order: Sequence[str],
    hash_seed: str,
) -> list[str]:
    """The command a user runs to replay ORDER under HASH_SEED."""
    return [
        *command,
        *env_arguments,
        *(["--hashseed", hash_seed] if hash_seed else []),
        "--",
        *KEEP_ORDER,
        *(str(root / test) for test in order),
    ]


def run_stress(
    command: Sequence[str],
    env_arguments: Sequence[str],
    root: Path,
    tests: Sequence[str],
    runs: int,
    seed: int,
) -> StressResults:
    """Runs 2..RUNS of TESTS in a tox run of their own, with the plugin."""
    with tempfile.TemporaryDirectory(prefix="testwarden-stress-") as scratch:
        plan = StressPlan.write("stress", tests, runs, seed, root, Path(scratch))
        completed = run_tox_with_plugin(
            list(command),
            [
                *env_arguments,
                # The env is installed: the selection run just used it.
                "--skip-pkg-install",
                "--hashseed",
                str(seed),
                *PASS_COVERAGE_FILE,
                "--",
                *KEEP_ORDER,
                *(str(root / path) for path in _files_of(tests)),
            ],
            root,
            PLUGIN_MODULE,
            (PLAN_VARIABLE, plan.plan_file),
            # an env measuring coverage writes it here, not in the checkout
            {"COVERAGE_FILE": str(Path(scratch) / ".coverage")},
        )
        results = plan.results(root)
    if not isinstance(results, StressResults):
        output = completed.stdout + completed.stderr
        for line in output.strip().splitlines()[-OUTPUT_TAIL_LINES:]:
            print(f"  {line}")
        raise StressNotRun(
            f"{HOOK_ID}: stress-new: the tox env did not run pytest with "
            f"testwarden's stress plugin ({failure_cause(output)}); its commands "
            "must run pytest and pass {posargs} to it, and [testenv] must not "
            "set PYTHONPATH or PYTEST_PLUGINS in set_env (or set `stress-new = 0` "
            f"in [tool.testwarden.{HOOK_ID}])"
        )
    return results


def _stress_run(run: dict, root: Path) -> StressRun:
    return StressRun(
        number=run["number"],
        kind=run["kind"],
        order=tuple(_relative(location, root) for location in run["order"]),
        failed=tuple(_relative(location, root) for location in run["failed"]),
        verdict=run["verdict"],
        seconds=run["seconds"],
        hash_seed=str(run.get("hash_seed", "")),
        new_process=run["new_process"],
    )


def _relative(location: str, root: Path) -> str:
    """An absolute node id as the plugin gives it, relative to ROOT."""
    path, _, name = location.partition("::")
    try:
        relative = Path(path).relative_to(root)
    except ValueError:
        relative = Path(os.path.relpath(os.path.realpath(path), root.resolve()))
    return f"{relative.as_posix()}::{name}"


def verdicts_of(
    tests: Sequence[str],
    runs: Sequence[StressRun],
    selection_failed: Sequence[str] = (),
) -> list[Verdict]:
    """Each of TESTS with the runs it failed in (a failed case of a
    parametrized test counts for the test), in TESTS' order; SELECTION_FAILED,
    the node ids that failed in the selection run, when it made the runs."""
    failed_first = {_base_of(node_id) for node_id in selection_failed}
    verdicts = {
        test: Verdict(test, failed_in_selection=test in failed_first) for test in tests
    }
    for run in runs:
        for node_id in run.failed:
            verdict = verdicts.get(_base_of(node_id))
            if verdict is not None and run not in [
                done for done, _ in verdict.failed_in
            ]:
                verdict.failed_in.append((run, node_id))
    return list(verdicts.values())


def verdict_line(
    verdict: Verdict,
    runs: int,
    seed: int,
    command: Sequence[str],
    env_arguments: Sequence[str],
    root: Path,
) -> str:
    """`path::test: passed 4 of 5 runs; failed when run after X (order seed S);
    rerun with: COMMAND`, for the first run it failed in."""
    failing, node_id = verdict.failed_in[0]
    position = failing.order.index(node_id)
    if failing.kind == "alone":
        context = "alone"
    elif position:
        context = f"after {failing.order[position - 1]}"
    else:
        context = "first of its file"
    seeds = [] if failing.kind == "alone" else [f"order seed {seed}"]
    if failing.new_process:
        context += " in a new process"
        seeds.append(f"PYTHONHASHSEED={failing.hash_seed}")
    replay = replay_arguments(
        command, env_arguments, root, failing.order[: position + 1], failing.hash_seed
    )
    where = f" ({', '.join(seeds)})" if seeds else ""
    failures = len(verdict.failed_in) + verdict.failed_in_selection
    return (
        f"{verdict.test}: passed {runs - failures} of {runs} runs; "
        f"failed when run {context}{where}; rerun with: {shlex.join(replay)}"
    )


def stress_new_tests(
    change_set: git.ChangeSet,
    settings: config.Config,
    root: Path,
    command: Sequence[str],
    env_arguments: Sequence[str],
    *,
    tests: Sequence[str] | None = None,
    seed: int | None = None,
) -> int:
    """Run the change's new and changed tests (TESTS, when already known)
    stress-new - 1 more times in a tox run of their own; 1 when one of them
    failed in a run, else 0."""
    runs = settings.tox_changed_tests.stress_new
    if runs < 2:
        return 0
    if tests is None:
        tests = stressed_tests(change_set, settings, root)
    if not tests:
        if not change_set.has_before_side:
            print(
                f"{HOOK_ID}: stress-new: {change_set.option} has no before side, "
                "so no test is new; nothing stressed"
            )
        return 0
    memory = _Memory(root, [*command, *env_arguments, f"stress-new={runs}"], tests)
    prior = memory.find()
    if prior is not None:
        print(f"{HOOK_ID}: stress-new: not run again: {prior.describe()}")
        return 0 if prior.passed else 1
    seed = random.randint(1, LARGEST_SEED) if seed is None else seed
    print(
        f"{HOOK_ID}: stress-new: running {len(tests)} new or changed test(s) "
        f"{runs - 1} more time(s): alone, then with the tests of their files "
        f"reversed and shuffled (order seed {seed}; the selection run, which "
        "ran them last, was run 1):"
    )
    for test in tests:
        print(f"  {test}")
    sys.stdout.flush()
    try:
        results = run_stress(command, env_arguments, root, tests, runs, seed)
    except StressNotRun as error:
        print(error)
        return 1
    return _conclude(results, memory, runs, seed, command, env_arguments)


@dataclass
class _Memory:
    """The stress runs' entry in test_runs: the same tests on the same tree
    with the same command and stress-new are not run again."""

    root: Path
    remembered_as: list[str]
    tests: Sequence[str]
    tree: str = field(default_factory=git.working_tree_id)

    def find(self) -> test_runs.PriorRun | None:
        return test_runs.find(self.root, self.tree, self.remembered_as, self.tests)

    def remember(self, passed: bool) -> None:
        test_runs.remember(
            self.root, HOOK_ID, self.tree, self.remembered_as, self.tests, passed=passed
        )


@dataclass(frozen=True)
class SelectionStress:
    """Runs 2.. planned into the selection's tox run, and their memory."""

    plan: StressPlan
    memory: _Memory


def plan_in_selection_run(
    settings: config.Config,
    root: Path,
    command: Sequence[str],
    env_arguments: Sequence[str],
    tests: Sequence[str],
    scratch: Path,
    *,
    tree: str,
    seed: int | None = None,
) -> SelectionStress | None:
    """The plan that has the selection's tox run make runs 2.. of TESTS,
    before it runs the selection; None when there is nothing to stress, or
    the runs are remembered for TREE (stress_new_tests replays them)."""
    runs = settings.tox_changed_tests.stress_new
    if runs < 2 or not tests:
        return None
    memory = _Memory(
        root, [*command, *env_arguments, f"stress-new={runs}"], tests, tree
    )
    if memory.find() is not None:
        return None
    seed = random.randint(1, LARGEST_SEED) if seed is None else seed
    print(
        f"{HOOK_ID}: stress-new: running {len(tests)} new or changed test(s) "
        f"{runs - 1} more time(s) in the selection's tox run, before pytest runs "
        "the selection: alone, then with the tests of their files reversed and "
        f"shuffled (order seed {seed}; the selection run, which runs them last, "
        "is run 1):"
    )
    for test in tests:
        print(f"  {test}")
    plan = StressPlan.write("selection", tests, runs, seed, root, scratch)
    return SelectionStress(plan, memory)


def conclude_selection_run(
    stress: SelectionStress,
    command: Sequence[str],
    env_arguments: Sequence[str],
    *,
    selection_passed: bool,
) -> int | None:
    """After the selection run that took STRESS's plan: 1 when a new test
    failed in a run, 0 when none did; None when the run could not make them
    (then, if the selection passed, stress_new_tests makes them in a tox run
    of their own). The runs came before the selection, so when a new test
    fails there, what they found says why (a file a run left, say)."""
    plan, memory = stress.plan, stress.memory
    results = plan.results(memory.root)
    if not isinstance(results, StressResults):
        if selection_passed:
            why = results or "the stress plugin did not load in it"
            print(
                f"{HOOK_ID}: stress-new: the selection run could not make the "
                f"runs ({why}); they run in a tox run of their own"
            )
        return None
    if not selection_passed:
        print(
            f"{HOOK_ID}: stress-new: the selection run failed after runs 2 to "
            f"{plan.runs} of the new and changed tests, which it made first:"
        )
    return _conclude(results, memory, plan.runs, plan.seed, command, env_arguments)


def _conclude(
    results: StressResults,
    memory: _Memory,
    runs: int,
    seed: int,
    command: Sequence[str],
    env_arguments: Sequence[str],
) -> int:
    """Report RESULTS, remember them; the hook's exit code."""
    passed = _report(
        results, memory.tests, runs, seed, command, env_arguments, memory.root
    )
    memory.remember(passed)
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


def _report(
    results: StressResults,
    tests: Sequence[str],
    runs: int,
    seed: int,
    command: Sequence[str],
    env_arguments: Sequence[str],
    root: Path,
) -> bool:
    """Print what the stress runs found; True when nothing blocks."""
    if results.collection_failed:
        print(
            f"{HOOK_ID}: stress-new: pytest could not collect the files of the new "
            "tests in the stress run, though the selection run did; run "
            f"{shlex.join([*command, *env_arguments])} to see why"
        )
        return False
    for test in results.missing:
        print(
            f"{test}: stress-new: not collected by the stress run (the tox "
            "command deselects it?); not stressed"
        )
    blocked = [
        verdict
        for verdict in verdicts_of(tests, results.runs, results.selection_failed)
        if verdict.failed_in
    ]
    for verdict in blocked:
        print(verdict_line(verdict, runs, seed, command, env_arguments, root))
    stressed = set(tests)
    broken = [
        run
        for run in results.runs
        if run.verdict != "passed"
        and (run.verdict != "failed" or not run.failed)
        and not any(_base_of(node_id) in stressed for node_id in run.failed)
    ]
    for run in broken:
        print(
            f"{HOOK_ID}: stress-new: run {run.number} ({run.kind}, order seed {seed}) "
            f"ended as {run.verdict} without a failed new test; replay it with: "
            f"{shlex.join(replay_arguments(command, env_arguments, root, run.order, run.hash_seed))}"
        )
    for run in results.runs:
        others = [node for node in run.failed if _base_of(node) not in stressed]
        for node_id in others:
            position = run.order.index(node_id)
            before = f", after {run.order[position - 1]}" if position else ", first"
            print(
                f"{node_id}: stress-new: note: failed in run {run.number} "
                f"({run.kind}{before}, order seed {seed}); it is not new or "
                "changed, so it does not block; if a new test ran before it, that "
                "test may leave state behind"
            )
    return not blocked and not broken


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
