"""mutation-gate: every changed line is checked by a test that fails when it is wrong.

Mutants go only on changed, executable, non-arid lines of non-test Python
files (hooks/mutants.py), at most one per line. The tests the change
affects (hooks/affected_tests.py) run once through the consumer's tox with
our pytest plugin (hooks/inenv/testwarden_mutation_plugin.py) against the
code they import, wheel or checkout; the plugin records which test ran each
planned line and then runs every covered mutant in a forked child with only
those tests. A mutant is killed when a test fails, errors, the import
breaks, or it runs past its time; it survives when they all pass.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import posixpath
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import coverage

from hooks import config, git
from hooks.affected_tests import select_tests
from hooks.atomic_write import write_atomically
from hooks.coverage_gate import check_data_describes_the_change
from hooks.errors import UserError, quiet_on_closed_pipe, report
from hooks.findings import HookReport
from hooks.import_graph import module_names
from hooks.mutants import Mutant, mutants_of_file
from hooks.tox_runner import (
    check_posargs,
    failure_cause,
    run_tox_with_plugin,
    run_whole_suite_for_unpassable_names,
    tox_command,
)

HOOK_ID = "mutation-gate"
RESULTS_FORMAT = 1
PLUGIN_MODULE = "testwarden_mutation_plugin"
PLAN_VARIABLE = "TESTWARDEN_MUTATION_PLAN"
KILLED = frozenset({"killed", "timeout", "import-broken"})
SHOWN_TESTS = 3
OUTPUT_TAIL_LINES = 40


@dataclass
class Outcome:
    """One mutant's result, as the JSON results hold it."""

    key: str
    path: str
    line: int
    operator: str
    original: str
    mutated: str
    verdict: (
        str  # killed, timeout, import-broken, survived, not-covered, error, allowed
    )
    tests: list[str] = field(default_factory=list)
    allowed: str | None = None


@dataclass
class Results:
    compared_with: str
    fail_under: float
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def killed(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.verdict in KILLED]

    @property
    def survived(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.verdict == "survived"]

    @property
    def score(self) -> float | None:
        judged = len(self.killed) + len(self.survived)
        return 100.0 * len(self.killed) / judged if judged else None

    @property
    def not_judged(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.verdict == "error"]

    @property
    def score_too_low(self) -> bool:
        return self.score is not None and self.score < self.fail_under

    @property
    def passed(self) -> bool:
        """The score reaches fail-under, and no mutant went unjudged: a line
        the gate could not check is not vouched for."""
        return not self.score_too_low and not self.not_judged

    def to_json(self) -> dict:
        return {
            "format": RESULTS_FORMAT,
            "compared_with": self.compared_with,
            "fail_under": self.fail_under,
            "mutants": [asdict(outcome) for outcome in self.outcomes],
        }


def parse_shard(text: str) -> tuple[int, int]:
    """'2/4' -> (2, 4)."""
    shard, _, shards = text.partition("/")
    try:
        numbers = int(shard), int(shards)
    except ValueError:
        numbers = (0, 0)
    if not 1 <= numbers[0] <= numbers[1]:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a shard; write K/N with 1 <= K <= N, e.g. 1/4"
        )
    return numbers


def plan_mutants(
    change_set: git.ChangeSet, settings: config.Config, root: Path
) -> dict[str, list[Mutant]]:
    """Path -> its mutants, for the changed non-test Python files."""
    hook_settings = settings.mutation_gate
    changes = [
        change
        for change in change_set.changes
        if change.path.endswith(".py")
        and change.new_blob
        and not change.is_submodule
        and not settings.is_test_file(change.path)
    ]
    contents = change_set.read_after(changes)
    # The consumer's `exclude_lines` (pragma: no cover and its own), read as
    # coverage.py reads them from the root.
    exclude_patterns = coverage.Coverage(data_file=None).config.exclude_list
    planned: dict[str, list[Mutant]] = {}
    for change in changes:
        source = contents[change.path].decode("utf-8", errors="replace")
        lines = None if change_set.mode == git.ALL_FILES else git.added_lines(change)
        try:
            found = list(
                mutants_of_file(
                    change.path,
                    source,
                    lines,
                    exclude_patterns,
                    hook_settings.mutants_per_line,
                )
            )
        except SyntaxError as error:
            raise UserError(
                f"{change.path}:{error.lineno}: does not parse ({error.msg}); fix it"
            ) from None
        if found:
            planned[change.path] = found
    return _within_budget(planned, hook_settings.max_mutants)


def _within_budget(
    planned: dict[str, list[Mutant]], budget: int
) -> dict[str, list[Mutant]]:
    everything = [mutant for mutants in planned.values() for mutant in mutants]
    if len(everything) <= budget:
        return planned
    by_digest = sorted(
        everything, key=lambda mutant: hashlib.sha256(mutant.key.encode()).digest()
    )
    kept = {mutant.key for mutant in by_digest[:budget]}
    return {
        path: [mutant for mutant in mutants if mutant.key in kept]
        for path, mutants in planned.items()
        if any(mutant.key in kept for mutant in mutants)
    }


def in_shard(
    planned: dict[str, list[Mutant]], shard: tuple[int, int] | None
) -> dict[str, list[Mutant]]:
    if shard is None:
        return planned
    return {
        path: kept
        for path, mutants in planned.items()
        if (kept := [mutant for mutant in mutants if mutant.in_shard(*shard)])
    }


def print_mutants(planned: dict[str, list[Mutant]]) -> None:
    for mutants in planned.values():
        for mutant in mutants:
            allowed = f" (allowed: {mutant.allowed})" if mutant.allowed else ""
            print(
                f"{mutant.path}:{mutant.line}: {mutant.operator}: "
                f"{mutant.describe()}{allowed}"
            )
    count = sum(len(mutants) for mutants in planned.values())
    print(f"{HOOK_ID}: {count} mutant(s); none run (--list)")


def _plan_document(
    planned: dict[str, list[Mutant]],
    contents: dict[str, bytes],
    results_file: Path,
    jobs: int | None,
) -> tuple[dict, dict[int, Mutant]]:
    package_dirs = {
        posixpath.dirname(path)
        for path in git.tracked_files()
        if posixpath.basename(path) == "__init__.py"
    }
    by_id: dict[int, Mutant] = {}
    files = []
    for path, mutants in planned.items():
        entries = []
        for mutant in mutants:
            if mutant.allowed:
                continue
            mutant_id = len(by_id) + 1
            by_id[mutant_id] = mutant
            entries.append(
                {
                    "id": mutant_id,
                    "operator": mutant.operator,
                    "trace_line": mutant.trace_line,
                    **asdict(mutant.site),
                }
            )
        files.append(
            {
                "path": path,
                "modules": module_names(path, package_dirs),
                "sha256": hashlib.sha256(contents[path]).hexdigest(),
                "trace_lines": sorted({entry["trace_line"] for entry in entries}),
                "mutants": entries,
            }
        )
    document = {"files": files, "results": str(results_file), "jobs": jobs}
    return document, by_id


def _print_tail(output: str) -> None:
    for line in output.strip().splitlines()[-OUTPUT_TAIL_LINES:]:
        print(f"  {line}")


def run_mutants(
    change_set: git.ChangeSet,
    settings: config.Config,
    root: Path,
    planned: dict[str, list[Mutant]],
    jobs: int | None,
) -> Results | None:
    """Run the planned mutants through tox; None when the tests fail unmutated."""
    if not hasattr(os, "fork"):
        raise UserError(
            "mutation-gate runs mutants in forked processes; run it on "
            "Linux or macOS (e.g. in CI)"
        )
    hook_settings = settings.mutation_gate
    results = Results(change_set.describe(), hook_settings.fail_under)
    for mutants in planned.values():
        results.outcomes += [
            _outcome(mutant, "allowed") for mutant in mutants if mutant.allowed
        ]
    if not any(
        not mutant.allowed for mutants in planned.values() for mutant in mutants
    ):
        return results
    check_data_describes_the_change(list(planned), change_set)
    selection = select_tests(change_set, settings, root)
    run_whole_suite_for_unpassable_names(selection)
    if selection.is_empty and not selection.everything:
        print(f"{HOOK_ID}: no test is affected by {change_set.describe()}")
        results.outcomes += [
            _outcome(mutant, "not-covered")
            for mutants in planned.values()
            for mutant in mutants
            if not mutant.allowed
        ]
        return results
    command = tox_command(root, hook_settings.runner)
    env_arguments = ["-e", hook_settings.env] if hook_settings.env else []
    posargs: list[str] = []
    if not selection.everything:
        posargs = ["--", *(str(root / selector) for selector in selection.selectors())]
        check_posargs(command, env_arguments, root)
    with tempfile.TemporaryDirectory(prefix="testwarden-mutation-") as scratch_name:
        scratch = Path(scratch_name)
        document, by_id = _plan_document(
            planned,
            change_set.read_after(_changes_of(change_set, planned)),
            scratch / "results.json",
            jobs,
        )
        plan_file = scratch / "plan.json"
        plan_file.write_text(json.dumps(document), encoding="utf-8")
        completed = run_tox_with_plugin(
            command,
            [*env_arguments, *posargs],
            root,
            PLUGIN_MODULE,
            (PLAN_VARIABLE, plan_file),
        )
        try:
            run = json.loads((scratch / "results.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            _print_tail(completed.stdout + completed.stderr)
            raise UserError(
                "the tox environment did not run pytest with the mutation plugin "
                f"({failure_cause(completed.stderr or completed.stdout)}); its commands "
                "must run pytest and pass {posargs} to it"
            ) from None
    for path, installed in run["stale"].items():
        raise UserError(
            f"{path}: the tests import {installed}, whose content differs from the "
            "checkout; recreate the tox environment (tox -r) or install the project"
        )
    for path, module in run.get("early", {}).items():
        raise UserError(
            f"{path}: {module} was imported before pytest loaded the mutation "
            "plugin (by another plugin, or PYTHONSTARTUP); mutants cannot be "
            "compiled into it"
        )
    if not run["baseline_passed"]:
        _print_tail(completed.stdout)
        print(f"{HOOK_ID}: the tests fail without any mutant; fix them first")
        return None
    for mutant_id, mutant in by_id.items():
        verdict = run["verdicts"].get(str(mutant_id), {"verdict": "not-covered"})
        results.outcomes.append(
            _outcome(mutant, verdict["verdict"], verdict.get("tests", []))
        )
    results.outcomes.sort(key=lambda outcome: (outcome.path, outcome.line))
    return results


def _changes_of(
    change_set: git.ChangeSet, planned: dict[str, list[Mutant]]
) -> list[git.FileChange]:
    return [change for change in change_set.changes if change.path in planned]


def _outcome(mutant: Mutant, verdict: str, tests: list[str] | None = None) -> Outcome:
    return Outcome(
        mutant.key,
        mutant.path,
        mutant.line,
        mutant.operator,
        mutant.original,
        mutant.mutated,
        verdict,
        list(tests or []),
        mutant.allowed,
    )


def print_results(results: Results) -> None:
    for outcome in results.survived:
        print(f"{outcome.path}:{outcome.line}: {survivor_message(outcome)}")
    for outcome in results.outcomes:
        if outcome.verdict == "allowed":
            print(
                f"{outcome.path}:{outcome.line}: mutant accepted as equivalent: "
                f"`{outcome.original}` -> `{outcome.mutated}` ({outcome.allowed})"
            )
        elif outcome.verdict == "error":
            print(
                f"{outcome.path}:{outcome.line}: mutant not judged: running "
                f"`{outcome.mutated}` failed outside the tests"
            )
    not_covered = [o for o in results.outcomes if o.verdict == "not-covered"]
    if not_covered:
        lines = ", ".join(f"{o.path}:{o.line}" for o in not_covered)
        print(
            f"{HOOK_ID}: {len(not_covered)} line(s) no test executed, not "
            f"mutated: {lines} (coverage-gate reports them)"
        )
    if results.not_judged:
        print(
            f"{HOOK_ID}: {len(results.not_judged)} mutant(s) not judged: the gate "
            "cannot vouch for their lines; run the tox environment's tests by hand "
            "to see why they fail outside the tests"
        )
    score = results.score
    if score is None:
        print(f"{HOOK_ID}: no mutant to judge in {results.compared_with}")
        return
    timeouts = sum(o.verdict == "timeout" for o in results.outcomes)
    broken = sum(o.verdict == "import-broken" for o in results.outcomes)
    details = "".join(
        [
            f", {timeouts} by timeout" if timeouts else "",
            f", {broken} by a broken import" if broken else "",
        ]
    )
    verdict = "TOO LOW" if results.score_too_low else "ok"
    print(
        f"mutation score: {score:.2f}% of {results.compared_with}: "
        f"{len(results.killed)} of {len(results.killed) + len(results.survived)} "
        f"mutants killed{details} (fail-under {results.fail_under:g}%) {verdict}"
    )


def merge_results(paths: Sequence[Path], fail_under: float | None) -> Results:
    """The JSON results of several shards as one."""
    merged: Results | None = None
    seen: dict[str, Outcome] = {}
    for path in paths:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            if document.get("format") != RESULTS_FORMAT:
                raise ValueError("format")
            outcomes = [Outcome(**entry) for entry in document["mutants"]]
            shard = Results(document["compared_with"], float(document["fail_under"]))
        except (OSError, ValueError, KeyError, TypeError):
            raise UserError(
                f"{path}: not mutation-gate results (write them with --json)"
            ) from None
        merged = merged or shard
        for outcome in outcomes:
            seen.setdefault(outcome.key, outcome)
    assert merged is not None  # argparse requires one path at least
    merged.outcomes = sorted(seen.values(), key=lambda o: (o.path, o.line))
    if fail_under is not None:
        merged.fail_under = fail_under
    return merged


def run_gate(
    change_set: git.ChangeSet,
    settings: config.Config,
    root: Path,
    *,
    list_only: bool = False,
    shard: tuple[int, int] | None = None,
    json_file: Path | None = None,
    jobs: int | None = None,
) -> int:
    print(change_set.mode_line(HOOK_ID))
    planned = in_shard(plan_mutants(change_set, settings, root), shard)
    if list_only:
        print_mutants(planned)
        return 0
    results = run_mutants(change_set, settings, root, planned, jobs)
    if results is None:
        return 1
    print_results(results)
    if json_file is not None:
        write_atomically(json_file, json.dumps(results.to_json(), indent=1).encode())
    return 0 if results.passed else 1


def survivor_message(outcome: Outcome) -> str:
    """What a surviving mutant says, after its `path:line: `."""
    shown = ", ".join(outcome.tests[:SHOWN_TESTS])
    more = ", ..." if len(outcome.tests) > SHOWN_TESTS else ""
    return (
        f"mutant survived: `{outcome.original}` -> `{outcome.mutated}` (ran "
        f"{len(outcome.tests)} test{'' if len(outcome.tests) == 1 else 's'}: "
        f"{shown}{more}); add a test that fails when this line is wrong"
    )


def gate_report(
    change_set: git.ChangeSet, settings: config.Config, root: Path
) -> HookReport:
    """The gate on CHANGE_SET as findings (`testwarden check --mutate`): when
    the score is too low, each survivor and the score; a failed test run."""
    hook_report = HookReport(HOOK_ID)
    planned = plan_mutants(change_set, settings, root)
    results = run_mutants(change_set, settings, root, planned, None)
    if results is None:
        hook_report.block(
            "tests-failed",
            "",
            None,
            f"the tests fail on {change_set.describe()} without any mutant; fix them",
        )
        return hook_report
    print_results(results)
    for outcome in results.not_judged:
        hook_report.block(
            "mutant-not-judged",
            outcome.path,
            outcome.line,
            f"mutant `{outcome.original}` -> `{outcome.mutated}` not judged: its "
            "test run failed outside the tests; the line is not vouched for",
        )
    if not results.score_too_low:
        return hook_report
    for outcome in results.survived:
        hook_report.block(
            "mutant-survived", outcome.path, outcome.line, survivor_message(outcome)
        )
    hook_report.block(
        "score-too-low",
        "",
        None,
        f"mutation score {results.score:.2f}% of {results.compared_with} is below "
        f"fail-under {results.fail_under:g}%",
    )
    return hook_report


@quiet_on_closed_pipe
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=HOOK_ID,
        description="Check that a test fails when a changed line is wrong "
        "(mutation testing of the change).",
    )
    git.add_change_set_arguments(parser)
    parser.add_argument(
        "--list", action="store_true", help="print the mutants; run nothing"
    )
    parser.add_argument(
        "--shard", type=parse_shard, help="run only shard K of N (K/N) of the mutants"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--merge",
        type=Path,
        nargs="+",
        metavar="RESULTS",
        help="merge the --json results of shards into one verdict; run nothing",
    )
    parser.add_argument(
        "--fail-under", type=float, help="lowest mutation score that passes (%%)"
    )
    parser.add_argument("-e", "--env", help="tox environment to run")
    parser.add_argument("--runner", help="command that starts tox")
    parser.add_argument(
        "--jobs", type=int, help="mutants run at once (default: every core)"
    )
    args = parser.parse_args(argv)
    try:
        if args.merge:
            results = merge_results(args.merge, args.fail_under)
            print_results(results)
            return 0 if results.passed else 1
        root = git.repo_root()
        settings = config.load(
            root,
            {
                HOOK_ID: {
                    "fail-under": args.fail_under,
                    "env": args.env,
                    "runner": args.runner,
                }
            },
        )
        return run_gate(
            git.change_set_from_arguments(args),
            settings,
            root,
            list_only=args.list,
            shard=args.shard,
            json_file=args.json,
            jobs=args.jobs,
        )
    except UserError as error:
        return report(error)


if __name__ == "__main__":
    raise SystemExit(main())
