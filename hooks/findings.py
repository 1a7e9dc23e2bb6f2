"""What a hook found, and the views of it: text, GitHub annotations, JSON.

A guard hook and coverage-gate build a HookReport; their own command line
prints it in the format asked for (`--format`, text by default), and
`testwarden check` gathers the reports of every guard hook (and coverage-gate
with --run-tests) over a range and prints them the same way.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import TextIO


@dataclass(frozen=True)
class Finding:
    """One thing that blocks the change."""

    hook: str
    rule: str
    # "" when the finding is about the change as a whole (total coverage, a
    # failed test run), not about one file.
    path: str
    line: int | None
    message: str
    commit: str | None = None

    def location(self) -> str:
        """`path:line`, `path`, or the hook id for the change as a whole."""
        if not self.path:
            return self.hook
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass
class HookReport:
    hook: str
    findings: list[Finding] = field(default_factory=list)
    # Lines that inform without blocking: notes, exemptions used, summaries.
    notes: list[str] = field(default_factory=list)
    # How to fix what blocks; printed only when something does.
    fix: str = ""
    # The hook rewrote a file (as a pre-commit fixer does): exit 1 to restage.
    fixed_files: bool = False

    def block(self, rule: str, path: str, line: int | None, message: str) -> None:
        self.findings.append(Finding(self.hook, rule, path, line, message))

    def in_commit(self, commit: str) -> HookReport:
        return replace(
            self,
            findings=[replace(finding, commit=commit) for finding in self.findings],
        )

    @property
    def exit_code(self) -> int:
        return 1 if self.findings or self.fixed_files else 0

    def print_text(self, stream: TextIO | None = None) -> None:
        stream = stream or sys.stdout
        for finding in self.findings:
            stream.write(f"{finding.location()}: {finding.message}\n")
        for note in self.notes:
            stream.write(f"{note}\n")
        if self.findings and self.fix:
            stream.write(f"To fix: {self.fix}\n")


FORMATS = ("text", "github", "json")


def add_format_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="text (default), GitHub workflow annotations, or JSON lines",
    )


def print_report(hook_report: HookReport, output_format: str) -> None:
    """HOOK_REPORT on stdout as text, GitHub annotations or JSON lines."""
    if output_format == "github":
        sys.stdout.write(github_annotations(hook_report.findings))
    elif output_format == "json":
        sys.stdout.write(json_lines(hook_report.findings))
    else:
        hook_report.print_text()


def github_annotations(findings: Iterable[Finding]) -> str:
    """GitHub Actions workflow commands: one error annotation per finding.

    A finding about the change as a whole has no file: GitHub shows it on
    the run's summary."""
    lines = []
    for finding in findings:
        properties = []
        if finding.path:
            properties.append(f"file={_escape_property(finding.path)}")
        if finding.path and finding.line:
            properties.append(f"line={finding.line}")
        title = f"{finding.hook}: {finding.rule}"
        properties.append(f"title={_escape_property(title)}")
        lines.append(f"::error {','.join(properties)}::{_escape_data(finding.message)}")
    return "".join(f"{line}\n" for line in lines)


def json_lines(findings: Iterable[Finding]) -> str:
    """One JSON object per finding and line: hook, rule, path, line, message, commit."""
    return "".join(json.dumps(asdict(finding)) + "\n" for finding in findings)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
