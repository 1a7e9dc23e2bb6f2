"""What a guard hook found, and the views of it: text, GitHub annotations, JSON.

A hook builds a HookReport; its own command line prints it as text, and
`testwarden check` gathers the reports of every guard hook over a range and
prints them in the format asked for.
"""

from __future__ import annotations

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
    path: str
    line: int | None
    message: str
    commit: str | None = None

    def location(self) -> str:
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


def github_annotations(findings: Iterable[Finding]) -> str:
    """GitHub Actions workflow commands: one error annotation per finding."""
    lines = []
    for finding in findings:
        properties = f"file={_escape_property(finding.path)}"
        if finding.line:
            properties += f",line={finding.line}"
        title = f"{finding.hook}: {finding.rule}"
        lines.append(
            f"::error {properties},title={_escape_property(title)}::"
            f"{_escape_data(finding.message)}"
        )
    return "".join(f"{line}\n" for line in lines)


def json_lines(findings: Iterable[Finding]) -> str:
    """One JSON object per finding and line: hook, rule, path, line, message, commit."""
    return "".join(json.dumps(asdict(finding)) + "\n" for finding in findings)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
