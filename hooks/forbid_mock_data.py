"""forbid-mock-data: no fabricated data enters the codebase.

Every Python file the change touches is read from git and analysed
(hooks.mock_detection): mock objects, fake-data libraries, mocked services,
fabricated fixtures and stubs patched in with monkeypatch, plus new data
files named or placed as mock data. Mock data anywhere counts, not only in
test files; a test file (config `test-files`) that cannot be analysed blocks,
any other file gets a note.

In a commit or a range only findings on lines the change adds block. The
baseline file lists known findings by file, function and rule; anything
beyond it blocks, in every mode. The hook only shrinks the baseline;
`testwarden baseline` writes it. Exceptions: `# testwarden: allow-mock
reason="why"` on the line, or a boundary declared in
[tool.testwarden.forbid-mock-data] allow-patch (never the project's own code).
"""

from __future__ import annotations

import argparse
import functools
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from hooks import config as config_module
from hooks import git, guard, mock_detection
from hooks.atomic_write import write_atomically
from hooks.baseline import Baseline, Key
from hooks.config import AllowedPatch, Config
from hooks.errors import UserError, quiet_on_closed_pipe, report
from hooks.findings import HookReport
from hooks.mock_detection import Exempt, FileReport, Finding
from hooks.python_source import NotPython, parse

HOOK_ID = "forbid-mock-data"
GUIDELINE = (
    "no mock data anywhere: tests run against real data, files, databases and processes"
)
# Larger files are generated, not written: reading them costs more than it finds.
MAX_FILE_BYTES = 1_000_000
# From this many Python files on, they are analysed in worker processes, one
# per core (on trees of 46 and 60 files, click's and httpx's, as fast as in
# one process; on SQLAlchemy's 686, a third faster).
PARALLEL_THRESHOLD = 16


@dataclass(frozen=True)
class Unreadable:
    """A Python file that could not be analysed: where, if known, and why."""

    line: int | None
    reason: str


@dataclass
class Scan:
    """Everything the change's files hold, before the baseline is applied."""

    reports: dict[str, FileReport] = field(default_factory=dict)
    # (path, line, message) of test files that could not be checked.
    errors: list[tuple[str, int | None, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Paths whose findings were all counted: the baseline may shrink for them.
    checked_paths: set[str] = field(default_factory=set)

    def findings(self) -> list[Finding]:
        return [
            finding for report in self.reports.values() for finding in report.findings
        ]

    def exempt(self) -> list[Exempt]:
        return [item for report in self.reports.values() for item in report.exempt]


def project_modules(paths: Sequence[str]) -> frozenset[str]:
    """Top-level modules and packages of the repository (src/ layout included)."""
    names = set()
    for path in paths:
        parts = PurePosixPath(path).parts
        if parts[0] == "src" and len(parts) > 2:
            parts = parts[1:]
        if path.endswith(".py"):
            names.add(parts[0].removesuffix(".py"))
    return frozenset(names)


def allowed_patches(
    config: Config, own_modules: frozenset[str]
) -> tuple[AllowedPatch, ...]:
    allowed = config.forbid_mock_data.allow_patch
    for entry in allowed:
        if entry.target.split(".")[0] in own_modules:
            raise UserError(
                f"[tool.testwarden.{HOOK_ID}] allow-patch: {entry.target!r} is the "
                "project's own code, which is never faked; only external boundaries "
                "(a payment provider, a cloud API) can be allowed"
            )
    return allowed


def _reason_for(target: str, allowed: Sequence[AllowedPatch]) -> str | None:
    for entry in allowed:
        if target == entry.target or target.startswith(entry.target + "."):
            return entry.reason
    return None


def scan(change_set: git.ChangeSet, config: Config, baseline_path: str) -> Scan:
    """Analyse the after side of every file in CHANGE_SET."""
    own_modules = project_modules(git.tracked_files())
    allowed = allowed_patches(config, own_modules)
    result = Scan()
    python_changes = []
    for change in change_set.changes:
        if change.new_blob is None:
            result.checked_paths.add(change.path)
        elif change.is_submodule or change.is_symlink:
            continue
        elif change.path.endswith(".py"):
            python_changes.append(change)
        elif change.path.endswith(".ipynb"):
            result.notes.append(
                f"{change.path}: note: notebooks are not checked for mock data; "
                "keep test code in .py files"
            )
        elif change.path != baseline_path and (
            change.status in (git.ADDED, git.COPIED) or not change_set.has_before_side
        ):
            data_file = mock_detection.mock_data_file(change.path)
            result.reports[change.path] = FileReport(
                findings=[data_file] if data_file else []
            )
            result.checked_paths.add(change.path)
    sources = change_set.read_after(python_changes)
    written = {
        path: source
        for path, source in sources.items()
        if len(source) <= MAX_FILE_BYTES
    }
    outcomes = analyse_files(written, config, own_modules, allowed)
    for path, source in sources.items():
        if path not in written:
            result.notes.append(
                f"{path}: note: not checked for mock data: {len(source)} bytes is more "
                f"than {MAX_FILE_BYTES}, the size of generated code, not written code"
            )
            continue
        outcome = outcomes[path]
        if isinstance(outcome, FileReport):
            result.reports[path] = outcome
            result.checked_paths.add(path)
        elif config.is_test_file(path):
            result.errors.append(
                (
                    path,
                    outcome.line,
                    f"cannot check this test file for mock data: {outcome.reason}",
                )
            )
        else:
            where = f"{path}:{outcome.line}" if outcome.line else path
            result.notes.append(
                f"{where}: note: not checked for mock data: {outcome.reason}"
            )
    return result


def analyse_files(
    sources: Mapping[str, bytes],
    config: Config,
    own_modules: frozenset[str],
    allowed: Sequence[AllowedPatch],
) -> dict[str, FileReport | Unreadable]:
    """Path -> what its source holds, for every Python file of SOURCES; in
    worker processes when there is a tree of them."""
    analyse = functools.partial(
        analyse_file, project_modules=own_modules, allowed=allowed
    )
    workers = os.cpu_count() or 1
    if workers == 1 or len(sources) < PARALLEL_THRESHOLD:
        return {
            path: analyse(path, source, config.is_test_file(path))
            for path, source in sources.items()
        }
    # Largest first, a few files per task: the workers finish at about the same time.
    largest_first = sorted(sources, key=lambda path: len(sources[path]), reverse=True)
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as executor:
        outcomes = executor.map(
            analyse,
            largest_first,
            [sources[path] for path in largest_first],
            [config.is_test_file(path) for path in largest_first],
            chunksize=4,
        )
        by_path = dict(zip(largest_first, outcomes))
    return {path: by_path[path] for path in sources}


def analyse_file(
    path: str,
    source: bytes,
    test_code: bool,
    *,
    project_modules: frozenset[str],
    allowed: Sequence[AllowedPatch],
) -> FileReport | Unreadable:
    try:
        if test_code and not mock_detection.may_contain_mock_data(source):
            # analyse() skips such a file unparsed; a test file must parse.
            parse(path, source)
        return mock_detection.analyse(
            source,
            path,
            project_modules=project_modules,
            allowed_target=functools.partial(_reason_for, allowed=allowed),
            test_code=test_code,
        )
    except NotPython as error:
        return Unreadable(error.line, error.reason)


def _added_lines(change_set: git.ChangeSet, scanned: Scan) -> dict[str, set[int]]:
    """Per path with something to report: the lines the change adds."""
    added: dict[str, set[int]] = {}
    for change in change_set.changes:
        report_of = scanned.reports.get(change.path)
        if report_of is None or not (
            report_of.findings or report_of.exempt or report_of.reasonless_allow_lines
        ):
            continue
        if change.status in (git.ADDED, git.COPIED) or not change_set.has_before_side:
            added[change.path] = set(range(1, _line_count(report_of) + 1))
        else:
            added[change.path] = git.added_lines(change)
    return added


def _line_count(report_of: FileReport) -> int:
    findings = [*report_of.findings, *(item.finding for item in report_of.exempt)]
    return max(
        [
            *(finding.end_line for finding in findings),
            *(finding.evidence_line for finding in findings),
            *report_of.reasonless_allow_lines,
        ]
    )


def blocked_findings(
    findings: Sequence[Finding], added: Mapping[str, set[int]], baseline: Baseline
) -> list[Finding]:
    """Findings beyond the baseline's count for their key, new lines first."""
    by_key: dict[Key, list[Finding]] = {}
    for finding in findings:
        by_key.setdefault(finding.key(), []).append(finding)
    blocked = []
    for key, group in by_key.items():
        excess = len(group) - baseline.allowance(key)
        new = [item for item in group if item.is_added(added.get(item.path, set()))]
        if excess > 0:
            blocked.extend(new[-excess:])
    return sorted(blocked, key=lambda finding: (finding.path, finding.line))


# A finding by what it is, wherever it is: its function, rule and source lines.
MoveKey = tuple[str, str, tuple[str, ...]]


def move_key(finding: Finding, source: bytes) -> MoveKey:
    lines = source.decode("utf-8", "replace").splitlines()
    span = {*range(finding.line, finding.end_line + 1), finding.evidence_line}
    text = tuple(
        lines[line - 1].strip() for line in sorted(span) if 0 < line <= len(lines)
    )
    return finding.function, finding.rule, text


def without_moved(
    blocked: Sequence[Finding],
    findings: Sequence[Finding],
    added: Mapping[str, set[int]],
    sources: Mapping[str, bytes],
    before: Counter[MoveKey],
) -> list[Finding]:
    """BLOCKED less the findings the change moved rather than added: the same
    code (function, rule, lines) the changed files had before and no longer
    have where it was, now on added lines, in the same file or another one
    (a test moved to a new file). An edit of the code is not a move. SOURCES
    holds the changed Python files after the change."""
    moved = before - Counter(
        move_key(finding, sources[finding.path])
        for finding in findings
        if finding.path in sources
        and not finding.is_added(added.get(finding.path, set()))
    )
    kept = []
    for finding in blocked:
        key = (
            move_key(finding, sources[finding.path])
            if finding.path in sources
            else None
        )
        if key is not None and moved[key] > 0:
            moved[key] -= 1
        else:
            kept.append(finding)
    return kept


def read_baseline(
    change_set: git.ChangeSet, path: str
) -> tuple[Baseline, bytes | None]:
    """The baseline on the change's after side (the index, or the to-revision)."""
    revision = change_set.after_rev or ""
    try:
        object_id = git.run("rev-parse", "--verify", "--quiet", f"{revision}:{path}")
    except git.GitError:
        return Baseline({}), None
    blob = object_id.decode().strip()
    content = git.read_blobs([blob])[blob]
    return Baseline.parse(content, path), content


def _shrink(
    change_set: git.ChangeSet,
    scanned: Scan,
    baseline: Baseline,
    content: bytes | None,
    path: str,
    report: HookReport,
) -> None:
    current = Counter(finding.key() for finding in scanned.findings())
    checked = set(scanned.checked_paths)
    if not change_set.has_before_side:
        # A batch or a --files run checks only some files; a file git no
        # longer tracks has none of its baselined findings left.
        tracked = set(git.tracked_files())
        checked |= {key[0] for key in baseline.counts if key[0] not in tracked}
    smaller = baseline.shrunk(current, checked)
    removed = baseline.total() - smaller.total()
    if not removed:
        return
    on_disk = git.repo_root() / path
    if change_set.mode == git.RANGE:
        report.notes.append(
            f"{path}: note: {removed} baselined finding(s) no longer occur; "
            f"run `{HOOK_ID} --all-files` in a checkout to remove them"
        )
        return
    if not on_disk.is_file() or on_disk.read_bytes() != content:
        report.notes.append(
            f"{path}: note: {removed} baselined finding(s) no longer occur, but the file "
            "has unstaged edits; stage it and run again to remove them"
        )
        return
    write_atomically(on_disk, smaller.dump())
    report.notes.append(
        f"Fixing {path}: removed {removed} baselined finding(s) that no longer occur "
        "(the baseline only shrinks); stage it"
    )
    report.fixed_files = True


def check(change_set: git.ChangeSet, config: Config) -> HookReport:
    baseline_path = config.forbid_mock_data.baseline
    scanned = scan(change_set, config, baseline_path)
    baseline, content = read_baseline(change_set, baseline_path)
    baseline = baseline.renamed(
        {
            change.old_path: change.path
            for change in change_set.changes
            if change.status == git.RENAMED and change.old_path
        }
    )
    added = _added_lines(change_set, scanned)
    blocked = blocked_findings(scanned.findings(), added, baseline)
    if blocked and change_set.has_before_side:
        changes = [
            change
            for change in change_set.changes
            if change.path in added and change.path.endswith(".py")
        ]
        before_paths = [
            change.old_path or change.path
            for change in change_set.changes
            if change.old_blob and (change.old_path or change.path).endswith(".py")
        ]
        blocked = without_moved(
            blocked,
            scanned.findings(),
            added,
            change_set.read_after(changes),
            _findings_by_move_key(change_set.before_rev, before_paths, config),
        )
    report = HookReport(HOOK_ID)
    for path, line, message in scanned.errors:
        report.block("unreadable", path, line, message)
    for path, report_of in sorted(scanned.reports.items()):
        for line in report_of.reasonless_allow_lines:
            if line in added.get(path, set()):
                report.block(
                    "exemption-without-reason",
                    path,
                    line,
                    '`# testwarden: allow-mock` needs a reason: write reason="why this '
                    'must be fake"',
                )
    for finding in blocked:
        report.block(
            finding.rule,
            finding.path,
            finding.line,
            f"{finding.rule}: {finding.what}; use instead: {finding.instead}",
        )
    report.notes.extend(sorted(scanned.notes))
    for item in scanned.exempt():
        if item.finding.is_added(added.get(item.finding.path, set())):
            report.notes.append(
                f"{item.finding.path}:{item.finding.line}: exempt: {item.finding.rule}: "
                f"{item.finding.what}; reason: {item.reason}"
            )
    _shrink(change_set, scanned, baseline, content, baseline_path, report)
    if report.findings:
        report.notes.append(
            f"{HOOK_ID}: {len(report.findings)} finding(s) in {change_set.describe()} "
            f"({GUIDELINE})"
        )
    report.fix = (
        "replace the mock data with what each line suggests. For a boundary "
        "the team fakes on purpose (a payment provider, a cloud API), declare it:\n"
        f"  [tool.testwarden.{HOOK_ID}]\n"
        '  allow-patch = [{ target = "stripe.Charge.create", reason = "why" }]\n'
        'or say why on the line: `# testwarden: allow-mock reason="why"`. '
        "To adopt the hook in a codebase that has mock data already, record it "
        "once with `testwarden baseline` and commit the file."
    )
    return report


def write_baseline(config: Config) -> int:
    """`testwarden baseline`: record every current finding of the tracked files."""
    baseline_path = config.forbid_mock_data.baseline
    scanned = scan(git.all_files(), config, baseline_path)
    for message in scanned.notes:
        print(message)
    for path, line, message in scanned.errors:
        print(f"{path}:{line}: {message}" if line else f"{path}: {message}")
    target = git.repo_root() / baseline_path
    previous = (
        Baseline.parse(target.read_bytes(), baseline_path)
        if target.is_file()
        else Baseline({})
    )
    recorded = Baseline.from_keys(finding.key() for finding in scanned.findings())
    write_atomically(target, recorded.dump())
    grown = sum(
        max(count - previous.allowance(key), 0)
        for key, count in recorded.counts.items()
    )
    files = len({key[0] for key in recorded.counts})
    print(
        f"wrote {baseline_path}: {recorded.total()} finding(s) in {files} file(s), "
        f"{grown} more than before; commit it"
    )
    return 0


def _scan_tree(
    revision: str, paths: Iterable[str], config: Config
) -> tuple[git.ChangeSet, Scan]:
    """PATHS of REVISION's tree, analysed as if added."""
    blobs = git.tracked_blobs(revision)
    changes = tuple(
        git.FileChange(git.ADDED, path, None, None, blobs[path], "000000", "100644")
        for path in sorted(set(paths))
        if path in blobs
    )
    tree = git.ChangeSet(git.ALL_FILES, git.empty_tree(), revision, changes)
    return tree, scan(tree, config, config.forbid_mock_data.baseline)


def existing_findings(
    revision: str, paths: Iterable[str], config: Config
) -> Counter[Key]:
    """What `testwarden baseline` would record for PATHS in REVISION's tree."""
    _, scanned = _scan_tree(revision, paths, config)
    return Counter(finding.key() for finding in scanned.findings())


def _findings_by_move_key(
    revision: str, paths: Iterable[str], config: Config
) -> Counter[MoveKey]:
    tree, scanned = _scan_tree(revision, paths, config)
    sources = tree.read_after(list(tree.changes))
    return Counter(
        move_key(finding, sources[finding.path]) for finding in scanned.findings()
    )


@quiet_on_closed_pipe
def main(argv: Sequence[str] | None = None) -> int:
    return guard.run(
        HOOK_ID,
        "Reject a change that adds mock data: mock objects, fake-data "
        "libraries, mocked services, fabricated fixtures, mock data files.",
        check,
        argv,
    )


@quiet_on_closed_pipe
def baseline_main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="testwarden baseline",
        description="Record the mock data the tracked files hold now, so that "
        f"{HOOK_ID} blocks only what is added from here on. Only this command "
        "adds to the baseline; the hook only removes from it.",
    )
    parser.parse_args(argv)
    try:
        return write_baseline(config_module.load(git.repo_root()))
    except UserError as error:
        return report(error)


if __name__ == "__main__":
    raise SystemExit(main())
