"""coverage-gate: total coverage stays at the threshold, and changed lines are covered.

The tests run through the consumer's tox (hooks/tox_runner.py) with
COVERAGE_FILE pointing into a fresh directory, so only this run's data counts.
coverage.py computes the total with the consumer's own configuration and
writes the XML report; diff-cover measures the lines of our own patch of the
change set. At commit time only the affected tests run (the selection of
tox-changed-tests), so only changed-line coverage is checked there.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import posixpath
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import coverage
from coverage.config import CoverageConfig
from coverage.files import (
    GlobMatcher,
    ModuleMatcher,
    TreeMatcher,
    canonical_filename,
    prep_patterns,
)

from hooks import config, git, test_runs
from hooks.affected_tests import record_test_map, select_tests
from hooks.atomic_write import write_atomically
from hooks.errors import UserError, quiet_on_closed_pipe, report
from hooks.findings import HookReport, add_format_argument, print_report
from hooks.import_graph import module_names
from hooks.tox_runner import (
    PASS_COVERAGE_FILE,
    check_posargs,
    checkout_files,
    load_coverage,
    run_tox,
    run_whole_suite_for_unpassable_names,
    tox_command,
)

TOTAL_FIX = (
    "add tests for the least covered files (`coverage report --sort=cover` lists them)"
)


@dataclass
class Result:
    total_percent: float | None = None
    total_threshold: float = 0.0
    changed_percent: float | None = None
    changed_threshold: float = 0.0
    uncovered_by_file: dict[str, tuple[float, list[int]]] = field(default_factory=dict)
    not_measured: list[str] = field(default_factory=list)
    compared_with: str = ""

    @property
    def files_below(self) -> dict[str, tuple[float, list[int]]]:
        return {
            path: (percent, lines)
            for path, (percent, lines) in self.uncovered_by_file.items()
            if percent < self.changed_threshold
        }

    @property
    def passed(self) -> bool:
        return (
            (self.total_percent is None or self.total_percent >= self.total_threshold)
            and (
                self.changed_percent is None
                or self.changed_percent >= self.changed_threshold
            )
            and not self.files_below
            and not self.not_measured
        )


def line_ranges(lines: Iterable[int]) -> str:
    """[3, 4, 5, 9] -> '3-5, 9'."""
    return ", ".join(
        str(first) if first == last else f"{first}-{last}"
        for first, last in _runs(lines)
    )


def _runs(lines: Iterable[int]) -> list[tuple[int, int]]:
    """[3, 4, 5, 9] -> [(3, 5), (9, 9)]: the first and last line of each run."""
    runs: list[list[int]] = []
    for line in sorted(lines):
        if runs and line == runs[-1][1] + 1:
            runs[-1][1] = line
        else:
            runs.append([line, line])
    return [(first, last) for first, last in runs]


def check_data_describes_the_change(
    executed: list[str], change_set: git.ChangeSet
) -> None:
    """The run must have executed exactly what is being checked."""
    tracked = git.tracked_blobs(change_set.after_rev)
    untracked = [path for path in executed if path not in tracked]
    if untracked:
        raise UserError(
            f"{untracked[0]}: the tests executed this file but git does not track it, "
            "so the result does not describe the commit; add it or remove it"
        )
    working_tree = git.working_tree_blobs(executed)
    differing = [path for path in executed if working_tree[path] != tracked[path]]
    if differing:
        raise UserError(
            f"{differing[0]}: the tests executed this file as it is in the working "
            "tree, which differs from what is being checked; stage or stash the edits"
        )


def measure_changed_lines(
    measured: coverage.Coverage, change_set: git.ChangeSet, scratch: Path
) -> tuple[float | None, dict[str, tuple[float, list[int]]]]:
    """Changed-line %, and per file: (percent, uncovered changed lines)."""
    patch = scratch / "change.diff"
    patch.write_bytes(git.unified_diff(change_set))
    xml_report = scratch / "coverage.xml"
    json_report = scratch / "diff-cover.json"
    measured.xml_report(outfile=str(xml_report))
    command = [
        sys.executable,
        "-m",
        "diff_cover.diff_cover_tool",
        str(xml_report),
        "--diff-file",
        str(patch),
        "--format",
        f"json:{json_report}",
    ]
    if measured.config.branch:
        command.append("--branch-coverage")
    subprocess.run(command, capture_output=True, check=True)
    diff_report = json.loads(json_report.read_text(encoding="utf-8"))
    uncovered_by_file = {
        path: (stats["percent_covered"], stats["violation_lines"])
        for path, stats in diff_report["src_stats"].items()
        if stats["violation_lines"]
    }
    if not diff_report["total_num_lines"]:
        return None, uncovered_by_file
    return float(diff_report["total_percent_covered"]), uncovered_by_file


def never_measured(
    measured: coverage.Coverage,
    executed: Iterable[str],
    change_set: git.ChangeSet,
    settings: config.Config,
) -> list[str]:
    """Changed source files the run never executed: diff-cover would skip them."""
    executed = set(executed)
    package_dirs = {
        posixpath.dirname(path)
        for path in git.tracked_blobs(change_set.after_rev)
        if posixpath.basename(path) == "__init__.py"
    }
    return [
        change.path
        for change in change_set.changes
        if change.path.endswith(".py")
        and change.new_blob
        and change.path not in executed
        and not settings.is_test_file(change.path)
        and git.added_lines(change)
        and in_coverage_scope(
            measured.config, change.path, module_names(change.path, package_dirs)
        )
    ]


def in_coverage_scope(
    settings: CoverageConfig, path: str, importable_as: Iterable[str]
) -> bool:
    """Whether coverage.py with SETTINGS measures and reports PATH, importable
    as the modules IMPORTABLE_AS, by coverage's own rules: `source` and
    `source_pkgs` bound what is measured when set (else `[run] include`),
    `[report] include` what is reported, and no `omit` may match."""
    absolute = canonical_filename(os.path.abspath(path))
    source_dirs = list(getattr(settings, "source_dirs", None) or ())  # coverage 7.9+
    source_pkgs = list(settings.source_pkgs or ())
    for source in settings.source or ():
        (source_dirs if os.path.isdir(source) else source_pkgs).append(source)
    if source_dirs or source_pkgs:
        in_source_pkgs = ModuleMatcher(source_pkgs)
        in_source_dirs = TreeMatcher([canonical_filename(d) for d in source_dirs])
        if not in_source_dirs.match(absolute) and not any(
            in_source_pkgs.match(module) for module in importable_as
        ):
            return False
    elif settings.run_include and not _matches(settings.run_include, absolute):
        return False
    if settings.report_include and not _matches(settings.report_include, absolute):
        return False
    omit = [*(settings.run_omit or ()), *(settings.report_omit or ())]
    return not _matches(omit, absolute)


def _matches(patterns: Iterable[str], absolute_path: str) -> bool:
    return GlobMatcher(prep_patterns(patterns)).match(absolute_path)


def print_totals(result: Result) -> None:
    """The measured percentages against their thresholds, as the run ends."""
    if result.total_percent is not None:
        verdict = "ok" if result.total_percent >= result.total_threshold else "TOO LOW"
        print(
            f"total coverage: {result.total_percent:.2f}% "
            f"(threshold {result.total_threshold:g}%) {verdict}"
        )
    if result.changed_percent is not None:
        verdict = (
            "ok" if result.changed_percent >= result.changed_threshold else "TOO LOW"
        )
        print(
            f"changed lines covered: {result.changed_percent:.2f}% of "
            f"{result.compared_with} (threshold {result.changed_threshold:g}%) {verdict}"
        )


def report_of(result: Result) -> HookReport:
    """What blocks: total coverage below its threshold, each uncovered range
    of a changed file below the changed-line threshold, each changed file no
    test executed. Uncovered ranges of the other files are notes."""
    hook_report = HookReport("coverage-gate")
    if (
        result.total_percent is not None
        and result.total_percent < result.total_threshold
    ):
        hook_report.block(
            "total-coverage",
            "",
            None,
            f"total coverage {result.total_percent:.2f}% is below the threshold "
            f"of {result.total_threshold:g}%; {TOTAL_FIX}",
        )
    for path, (percent, lines) in result.uncovered_by_file.items():
        if path not in result.files_below:
            hook_report.notes.append(
                f"{path}:{line_ranges(lines)}: uncovered "
                f"({percent:.0f}% of its changed lines)"
            )
            continue
        for first, last in _runs(lines):
            span = f"line {first} is" if first == last else f"lines {first}-{last} are"
            hook_report.block(
                "uncovered-lines",
                path,
                first,
                f"changed {span} not covered; the file is below "
                f"threshold ({percent:.0f}% of its changed lines covered, "
                f"{result.changed_threshold:g}% needed): add a test that executes "
                + ("it" if first == last else "them"),
            )
    for path in result.not_measured:
        hook_report.block(
            "not-measured",
            path,
            None,
            "not measured: no test executed this changed file; "
            "add a test that imports it",
        )
    changed_too_low = (
        result.changed_percent is not None
        and result.changed_percent < result.changed_threshold
    )
    if result.files_below or result.not_measured or changed_too_low:
        hook_report.fix = (
            "add tests that execute the changed lines listed above, "
            "and stage them with the change."
        )
    else:
        hook_report.fix = f"{TOTAL_FIX}."
    return hook_report


def markdown_report(result: Result) -> str:
    rows = [
        "## coverage-gate",
        "",
        "| measure | value | threshold |",
        "| --- | --- | --- |",
    ]
    if result.total_percent is not None:
        rows.append(
            f"| total | {result.total_percent:.2f}% | {result.total_threshold:g}% |"
        )
    if result.changed_percent is not None:
        rows.append(
            f"| changed lines | {result.changed_percent:.2f}% | "
            f"{result.changed_threshold:g}% |"
        )
    if result.uncovered_by_file or result.not_measured:
        rows += ["", "| file | uncovered changed lines |", "| --- | --- |"]
        rows += [
            f"| `{path}` | {line_ranges(lines)} |"
            for path, (_, lines) in result.uncovered_by_file.items()
        ]
        rows += [f"| `{path}` | not measured |" for path in result.not_measured]
    rows += ["", "**passed**" if result.passed else "**failed**", ""]
    return "\n".join(rows)


def _measure(
    root: Path,
    command: list[str],
    env_arguments: list[str],
    posargs: list[str],
    ran: list[str] | None,
    scratch: Path,
) -> tuple[coverage.Coverage | None, str]:
    """Coverage data of running RAN (None: the whole suite) on this tree: from
    a passed run tox-changed-tests made of it, or from running tox now.
    No data, and why, when the tests fail."""
    tree = git.working_tree_id()
    run_with = [*command, *env_arguments]
    prior = test_runs.find(root, tree, run_with, ran)
    if prior is not None and not prior.passed:
        return None, f"not run again: {prior.describe()}"
    if prior is not None and prior.coverage_file:
        try:
            shutil.copyfile(prior.coverage_file, scratch / ".coverage")
        except OSError:
            pass
        else:
            print(f"coverage-gate: measured without running again: {prior.describe()}")
            return load_coverage(scratch, root), ""
    if posargs:
        check_posargs(command, env_arguments, root)
    returncode = run_tox(
        command,
        [*env_arguments, *PASS_COVERAGE_FILE, *posargs],
        root,
        {"COVERAGE_FILE": str(scratch / ".coverage")},
    )
    if returncode != 0:
        test_runs.remember(root, "coverage-gate", tree, run_with, ran, passed=False)
        return None, "the tests failed; coverage is only measured on a passing run"
    measured = load_coverage(scratch, root)
    test_runs.remember(
        root,
        "coverage-gate",
        tree,
        run_with,
        ran,
        passed=True,
        coverage_data=Path(measured.get_data().data_filename()),
    )
    return measured, ""


def run_gate(
    change_set: git.ChangeSet,
    settings: config.Config,
    root: Path,
    *,
    check_changed_lines: bool = True,
    markdown: Path | None = None,
) -> HookReport:
    """Measure CHANGE_SET's coverage and report what blocks it. What the run
    does (and tox's output) goes to stdout as it happens, the totals last."""
    hook_settings = settings.coverage_gate
    print(change_set.mode_line("coverage-gate"))
    # A commit and named files run the tests they affect; a range and the
    # whole tree run the whole suite and measure total coverage.
    selective = change_set.mode in (git.STAGED, git.FILES)
    run_tests = True
    posargs: list[str] = []
    ran: list[str] | None = None  # what the run is given; None: the whole suite
    if selective:
        selection = select_tests(change_set, settings, root)
        run_whole_suite_for_unpassable_names(selection)
        if not selection.everything:
            ran = selection.selectors()
            posargs = ["--", *(str(root / selector) for selector in ran)]
            run_tests = bool(ran)
    command = tox_command(root, hook_settings.runner)
    env_arguments = ["-e", hook_settings.env] if hook_settings.env else []

    result = Result(compared_with=change_set.describe())
    with tempfile.TemporaryDirectory(prefix="testwarden-coverage-") as scratch_name:
        scratch = Path(scratch_name)
        if not run_tests:
            print(f"coverage-gate: no test is affected by {change_set.describe()}")
            measured = coverage.Coverage(data_file=None)  # configuration only: no run
            executed: list[str] = []
        else:
            measured, failure = _measure(
                root, command, env_arguments, posargs, ran, scratch
            )
            if measured is None:
                hook_report = HookReport("coverage-gate")
                hook_report.block("tests-failed", "", None, failure)
                return hook_report
            executed = list(checkout_files(measured.get_data(), root))
            check_data_describes_the_change(executed, change_set)
            print(
                "coverage-gate: "
                + record_test_map(measured.get_data(), root, settings, ran)
            )
            if not selective:
                result.total_percent = measured.report(file=io.StringIO())
            if check_changed_lines:
                result.changed_percent, result.uncovered_by_file = (
                    measure_changed_lines(measured, change_set, scratch)
                )
        result.total_threshold = max(
            hook_settings.fail_under, measured.config.fail_under
        )
        result.changed_threshold = hook_settings.diff_fail_under
        if check_changed_lines:
            result.not_measured = never_measured(
                measured, executed, change_set, settings
            )
    print_totals(result)
    if markdown is not None:
        write_atomically(markdown, markdown_report(result).encode())
    return report_of(result)


@quiet_on_closed_pipe
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="coverage-gate",
        description="Keep total coverage at the threshold and changed lines covered.",
    )
    git.add_change_set_arguments(parser)
    parser.add_argument(
        "--compare-ref",
        help="check changed lines against REF...HEAD and run the whole suite "
        "(for CI, e.g. origin/main)",
    )
    parser.add_argument(
        "--fail-under", type=float, help="total coverage threshold (%%)"
    )
    parser.add_argument(
        "--diff-fail-under", type=float, help="changed-line coverage threshold (%%)"
    )
    parser.add_argument("-e", "--env", help="tox environment(s) to run")
    parser.add_argument("--runner", help="command that starts tox")
    parser.add_argument(
        "--markdown", type=Path, help="also write a Markdown report here"
    )
    add_format_argument(parser)
    args = parser.parse_args(argv)
    try:
        root = git.repo_root()
        settings = config.load(
            root,
            {
                "coverage-gate": {
                    "fail-under": args.fail_under,
                    "diff-fail-under": args.diff_fail_under,
                    "env": args.env,
                    "runner": args.runner,
                }
            },
        )
        if args.compare_ref:
            change_set = git.range_changes(args.compare_ref, args.to_ref or "HEAD")
        else:
            change_set = git.change_set_from_arguments(args)
        # Text goes to stdout in the order it happens; annotations and JSON
        # lines have stdout to themselves, the run's own output goes to stderr.
        with contextlib.redirect_stdout(
            sys.stdout if args.format == "text" else sys.stderr
        ):
            hook_report = run_gate(
                change_set,
                settings,
                root,
                check_changed_lines=change_set.mode != git.ALL_FILES,
                markdown=args.markdown,
            )
    except UserError as error:
        return report(error)
    print_report(hook_report, args.format)
    return hook_report.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
