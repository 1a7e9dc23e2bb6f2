"""Where a Python file fabricates data instead of using real data.

Two layers. Line facts: imports and uses of mock-object, fake-data and
mocked-service libraries, and `monkeypatch.setattr` of code to a stub. Fixture
verdicts: where each pytest fixture's value comes from; it is fabricated when
the fixture (or a helper in the same file that it calls) uses one of those
libraries or stubs, or returns literal records or a stand-in object built
from literals. Everything else passes: data loaded from a file, built in
tmp_path, a real connection or process, the project's own code.

A name counts for what the file's imports make it, never for its spelling:
`MockConfigEntry` from a test library is not a mock, `fake_site_packages`
that builds a real directory is not fabricated.

The parts: hooks.mock_rules (libraries, rules, Finding), hooks.mock_facts
(the walk that collects line facts), hooks.mock_stand_ins (the stand-ins a
test file writes and hands the code), hooks.mock_doubles (the shape of a
hand-written double), hooks.mock_values (what a value is: literal, stand-in,
stub), hooks.mock_fixtures (verdicts on fixtures). This module puts them
together and applies allow comments and allowed patches.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import PurePosixPath

from hooks.allow_comments import allow_comments
from hooks.mock_facts import LineFacts
from hooks.mock_fixtures import fixture_verdicts
from hooks.mock_rules import (
    FABRICATED_FIXTURE,
    FAKE_DATA_LIBRARY,
    HAND_WRITTEN_DOUBLE,
    LIBRARIES,
    MOCK_DATA_FILE,
    MOCK_OBJECT,
    MOCKED_SERVICE,
    MODULE_SCOPE,
    MONKEYPATCH_STUB,
    PLUGIN_FIXTURES,
    Exempt,
    FileReport,
    Finding,
    FixtureVerdict,
    Library,
    is_project,
    library_of,
)
from hooks.mock_values import ModuleValues
from hooks.python_source import parse

__all__ = [
    "FABRICATED_FIXTURE",
    "FAKE_DATA_LIBRARY",
    "HAND_WRITTEN_DOUBLE",
    "LIBRARIES",
    "MOCK_DATA_FILE",
    "MOCK_OBJECT",
    "MOCKED_SERVICE",
    "MODULE_SCOPE",
    "MONKEYPATCH_STUB",
    "PLUGIN_FIXTURES",
    "Exempt",
    "FileReport",
    "Finding",
    "FixtureVerdict",
    "Library",
    "analyse",
    "library_of",
    "may_contain_mock_data",
    "mock_data_file",
]

_MOCK_DATA_DIRECTORIES = frozenset(
    {"mocks", "__mocks__", "fakes", "mock_data", "fake_data", "mocked_data"}
)
_MOCK_DATA_NAME = re.compile(r"(?:mock|mocked|fake|dummy)(?:[_\-.]|s[_\-.])", re.I)

# A file can hold a finding only if one of these matches, so most files are
# skipped without parsing. Each pattern starts with a literal, which the regex
# engine finds fast; one alternation over everything scans ten times slower.
_LIBRARY_NAMES = "|".join(
    re.escape(name) for name in sorted({name.split(".")[0] for name in LIBRARIES})
)
_IMPORT_STATEMENT = re.compile(
    rf"import[ \t]+(?:[\w.]+(?:[ \t]+as[ \t]+\w+)?[ \t]*,[ \t]*)*(?:{_LIBRARY_NAMES})\b".encode()
)
_EVIDENCE = tuple(
    re.compile(pattern.encode())
    for pattern in (
        rf"from[ \t]+(?:{_LIBRARY_NAMES})\b",
        r"from[ \t]+unittest[ \t]+import",
        r"unittest\.mock",
        r"import_module\(",
        r"__import__\(",
        r"importorskip\(",
        r"mocker\b",
        r"_mock\b",
        r"faker\b",
        r"freezer\b",
        r"time_machine\b",
        r"pytest\.fixture\b",
        r"pytest\.yield_fixture\b",
        r"pytest_asyncio\.fixture\b",
        r"@[ \t]*fixture\b",
        r"import pytest as",
        r"onkey[Pp]atch",
        r"testwarden",
        r"MockTransport\b",
    )
)


def may_contain_mock_data(source: bytes) -> bool:
    """False only for a file in which analyse() cannot find anything, except
    a hand-written double in a test file that shows no other sign of faking:
    reading those costs precision (value objects given to the code under test
    look the same) for little recall (see docs/hooks/forbid-mock-data.md)."""
    for match in _IMPORT_STATEMENT.finditer(source):
        before = source[source.rfind(b"\n", 0, match.start()) + 1 : match.start()]
        # `import mock` starts a statement; `from x import mock` does not.
        if not before.strip() or before.rstrip().endswith((b":", b";")):
            return True
    return any(pattern.search(source) for pattern in _EVIDENCE)


def mock_data_file(path: str) -> Finding | None:
    """A data file named or placed as mock data; Python files are judged by content."""
    posix = PurePosixPath(path)
    if posix.suffix in (".py", ".pyi"):
        return None
    directory = next(
        (part for part in posix.parts[:-1] if part.lower() in _MOCK_DATA_DIRECTORIES),
        None,
    )
    if directory is None and not _MOCK_DATA_NAME.match(posix.name):
        return None
    where = f"in a `{directory}/` directory" if directory else "named"
    return Finding(
        path,
        1,
        MOCK_DATA_FILE,
        "<file>",
        f"a new data file {where} as mock data",
        "data captured from the real system (a real export, a file the project's "
        "code writes), committed under tests/data with a name that says what it holds",
        end_line=1,
    )


def analyse(
    source: bytes,
    path: str,
    *,
    project_modules: frozenset[str] = frozenset(),
    allowed_target: Callable[[str], str | None] = lambda target: None,
    test_code: bool = False,
) -> FileReport:
    """Every finding in one Python file, with allow comments and allowed patches applied.

    ALLOWED_TARGET returns the configured reason when a patch target may be
    faked, else None; the project's own modules are never allowed. Only in
    TEST_CODE is a class judged as a hand-written double.
    """
    if not may_contain_mock_data(source):
        return FileReport()
    module = parse(path, source)
    values = ModuleValues(module, project_modules)
    facts = LineFacts(module, source, path, values, test_code=test_code)
    raw = _mock_objects_win(
        facts.findings()
        + [
            _fixture_finding(path, verdict)
            for verdict in fixture_verdicts(values, facts)
        ]
    )
    allow = allow_comments(source, "mock") if b"testwarden" in source else {}
    report = FileReport(
        reasonless_allow_lines=sorted(line for line, why in allow.items() if not why)
    )

    def target_reason(finding: Finding) -> str | None:
        return _allowed_reason(finding, project_modules, allowed_target)

    uses = [
        finding
        for finding in raw
        if not finding.enabler and finding.rule in (MOCK_OBJECT, MONKEYPATCH_STUB)
    ]
    only_allowed_uses = bool(uses) and all(target_reason(use) for use in uses)
    for finding in sorted(raw, key=lambda finding: (finding.line, finding.rule)):
        inline = next(
            (
                allow[line]
                for line in range(finding.line, finding.end_line + 1)
                if allow.get(line)
            ),
            None,
        )
        reason = target_reason(finding)
        if inline:
            report.exempt.append(Exempt(finding, f"{inline} (inline allow-mock)"))
        elif reason:
            report.exempt.append(Exempt(finding, f"{reason} (allow-patch)"))
        elif finding.enabler and finding.rule == MOCK_OBJECT and only_allowed_uses:
            report.exempt.append(
                Exempt(finding, "only used to patch allowed targets (allow-patch)")
            )
        else:
            report.findings.append(finding)
    return report


def _mock_objects_win(findings: list[Finding]) -> list[Finding]:
    """FINDINGS less the hand-written doubles that hold another finding or
    share their function with a mock object: a class or helper that makes a
    Mock or patches is a mock object, whatever else it does."""
    others = [finding for finding in findings if finding.rule != HAND_WRITTEN_DOUBLE]
    with_mocks = {
        finding.function
        for finding in others
        if finding.rule == MOCK_OBJECT and not finding.enabler
    }
    return others + [
        finding
        for finding in findings
        if finding.rule == HAND_WRITTEN_DOUBLE
        and finding.function not in with_mocks
        and not any(finding.line <= other.line <= finding.end_line for other in others)
    ]


def _allowed_reason(
    finding: Finding,
    project_modules: frozenset[str],
    allowed_target: Callable[[str], str | None],
) -> str | None:
    targets = finding.patch_targets
    if not targets or any(
        target is None or is_project(target, project_modules) for target in targets
    ):
        return None
    reasons = [allowed_target(target) for target in targets if target]
    return reasons[0] if all(reasons) else None


def _fixture_finding(path: str, verdict: FixtureVerdict) -> Finding:
    noun = verdict.name.replace("_", " ")
    return Finding(
        path,
        verdict.line,
        FABRICATED_FIXTURE,
        verdict.qualname,
        f"{verdict.kind} `{verdict.name}` {verdict.what}",
        verdict.instead
        or f"build the {noun} through the project's code against real resources "
        "(tmp_path, a real test database, a real server), or load it from a "
        "committed data file",
        end_line=verdict.end_line,
        evidence_line=verdict.evidence_line,
        patch_targets=verdict.patch_targets,
    )
