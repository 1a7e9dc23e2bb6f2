"""`testwarden check`: every guard hook over a commit range, for CI.

`--no-verify` skips a local hook; it cannot skip CI. This command runs the
guard hooks of hooks/registry.py (test deletion, skips, mock data,
guardrails) over FROM...TO, as one diff or commit by commit (`--per-commit`
names the offending commit), optionally coverage-gate (`--run-tests`) and
mutation-gate (`--mutate`) on the range too, and
prints every finding as text, GitHub workflow annotations or JSON lines.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from hooks import config, git, registry
from hooks.errors import UserError, quiet_on_closed_pipe, report
from hooks.findings import (
    Finding,
    HookReport,
    add_format_argument,
    github_annotations,
    json_lines,
)

BOLD_RED, DIM, RESET = "\033[1;31m", "\033[2m", "\033[0m"


def guard_reports(
    change_sets: list[tuple[str | None, git.ChangeSet]], settings: config.Config
) -> list[HookReport]:
    reports = []
    for commit, change_set in change_sets:
        for hook in registry.GUARD_HOOKS:
            hook_report = importlib.import_module(hook.module).check(
                change_set, settings
            )
            reports.append(hook_report.in_commit(commit) if commit else hook_report)
    return reports


def coverage_report(
    change_set: git.ChangeSet, settings: config.Config, root: Path
) -> HookReport:
    """coverage-gate on the whole range. What the run prints as it goes (tox's
    output, the totals) goes to stderr: stdout holds the findings."""
    from hooks import coverage_gate

    with contextlib.redirect_stdout(sys.stderr):
        return coverage_gate.run_gate(change_set, settings, root)


def mutation_report(
    change_set: git.ChangeSet, settings: config.Config, root: Path
) -> HookReport:
    """mutation-gate on the whole range; its progress goes to stderr."""
    from hooks import mutation_gate

    with contextlib.redirect_stdout(sys.stderr):
        return mutation_gate.gate_report(change_set, settings, root)


def print_text(reports: list[HookReport], colour: bool) -> None:
    for hook_report in reports:
        if not hook_report.findings:
            continue
        commit = hook_report.findings[0].commit
        heading = f"{hook_report.hook}" + (f" in {commit[:12]}" if commit else "")
        print(f"{BOLD_RED}{heading}{RESET}" if colour else heading)
        hook_report.print_text()
    blocking = [finding for hook_report in reports for finding in hook_report.findings]
    summary = (
        f"testwarden check: {len(blocking)} finding(s)"
        if blocking
        else ("testwarden check: nothing blocks")
    )
    print(f"{DIM}{summary}{RESET}" if colour else summary)


def wants_colour() -> bool:
    return "NO_COLOR" not in os.environ and sys.stdout.isatty()


@quiet_on_closed_pipe
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="testwarden check",
        description="Run every guard hook over a commit range (for CI).",
    )
    parser.add_argument(
        "--from-ref", required=True, help="start of the range (e.g. origin/main)"
    )
    parser.add_argument(
        "--to-ref", default="HEAD", help="end of the range (default: HEAD)"
    )
    parser.add_argument(
        "--per-commit",
        action="store_true",
        help="check each commit on its own, to name the one that blocks",
    )
    parser.add_argument(
        "--run-tests", action="store_true", help="also run coverage-gate on the range"
    )
    parser.add_argument(
        "--mutate",
        action="store_true",
        help="also run mutation-gate on the range (Linux or macOS)",
    )
    add_format_argument(parser)
    args = parser.parse_args(argv)
    try:
        root = git.repo_root()
        settings = config.load(root)
        whole_range = git.range_changes(args.from_ref, args.to_ref)
        if args.per_commit:
            change_sets = [
                (commit, git.commit_changes(commit))
                for commit in git.commits_between(args.from_ref, args.to_ref)
            ]
        else:
            change_sets = [(None, whole_range)]
        reports = guard_reports(change_sets, settings)
        if args.run_tests:
            reports.append(coverage_report(whole_range, settings, root))
        if args.mutate:
            reports.append(mutation_report(whole_range, settings, root))
    except UserError as error:
        return report(error)
    findings: list[Finding] = [
        finding for hook_report in reports for finding in hook_report.findings
    ]
    if args.format == "github":
        sys.stdout.write(github_annotations(findings))
    elif args.format == "json":
        sys.stdout.write(json_lines(findings))
    else:
        print_text(reports, wants_colour())
    return 1 if findings else 0
