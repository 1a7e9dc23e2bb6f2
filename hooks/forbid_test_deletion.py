"""forbid-test-deletion: reject a change that makes tests vanish.

A change loses a test when a test function or method, a parametrize case,
or a whole test file is gone on the after side. A test added elsewhere in the
change under the same name, or with the same definition under a new name, is
the lost one moved or renamed. The rest count as replaced when the changed
test files collect at least as many tests after the change as before, and are
not lost when a test file the change leaves alone defines them identically.
A deleted, emptied or moved-out conftest.py is always reported: it holds
fixtures and hooks, not countable tests.

Test files are the files pytest collects (hooks/pytest_collection.py), each
side judged by its own configuration and conftest.py files, or the
`test-files` globs when set: a file renamed so that it no longer matches
`python_files`, moved out of `testpaths`, or newly excluded by
`collect_ignore` loses its tests as surely as a deleted one. A computed
collect_ignore that the change adds or alters is reported, since which files
it excludes cannot be read. What is left needs an exemption with
a reason in [tool.testwarden.forbid-test-deletion].
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from hooks import git, guard
from hooks.config import Config, Exemption
from hooks.errors import quiet_on_closed_pipe
from hooks.findings import HookReport
from hooks.pytest_collection import CollectedFiles, NotCollected, collected_files_of
from hooks.python_source import NotPython
from hooks.suite_inventory import (
    COLLECTION_FILTER_FILE,
    ChangedTestFiles,
    PairedTests,
    TestDefinition,
    collected_count,
    display_path,
    exemption_for,
    pair_tests,
    parse,
    read_changed_test_files,
    report_unparsable,
)

HOOK_ID = "forbid-test-deletion"


@dataclass(frozen=True)
class Removal:
    """Something the change takes away from the test suite, where it was last seen."""

    path: str
    line: int | None
    qualname: str | None
    message: str
    replaceable: bool = True
    # A lost test's definition, to recognise it if another test file still has it.
    test: TestDefinition | None = None

    def location_path(self) -> str:
        return display_path(self.path)

    def location(self) -> str:
        shown = self.location_path()
        return f"{shown}:{self.line}" if self.line else shown

    def test_id(self) -> str:
        """The id an allow entry names it by."""
        shown = self.location_path()
        return f"{shown}::{self.qualname}" if self.qualname else shown


@dataclass
class Findings:
    removals: list[Removal]
    replaced: list[Removal]
    exempted: list[tuple[Removal, Exemption]]
    # Lost tests that an unchanged test file still defines, name and body alike.
    kept_elsewhere: list[tuple[Removal, str]]
    collected_before: int
    collected_after: int


def _file_fates(
    files: ChangedTestFiles, after: CollectedFiles | None
) -> dict[str, str]:
    """What happened to each before test file that lost its content.
    AFTER: the after side's test files, to say why pytest no longer collects one."""
    new_path_of = {
        change.old_path or change.path: change.path
        for change in files.change_set.changes
        if change.new_blob
    }
    fates = {}
    for before_path, after_path in files.after_path.items():
        new_path = new_path_of.get(before_path)
        reason = (
            after.why_not_collected(new_path)
            if after is not None
            and new_path is not None
            and new_path.rpartition("/")[2] != COLLECTION_FILTER_FILE
            else None
        )
        if after_path is None and before_path in files.vanished:
            fates[before_path] = _no_longer_collected(files.vanished[before_path])
        elif after_path is None and new_path == before_path and reason is not None:
            fates[before_path] = _no_longer_collected(reason)
        elif after_path is None and new_path is not None:
            shown = display_path(new_path)
            fates[before_path] = f"moved to {shown}, which is not a test file"
            if reason is not None:
                fates[before_path] += f": {_because(reason)}"
        elif after_path is None:
            fates[before_path] = "deleted"
        elif files.after[after_path].empty and not files.before[before_path].empty:
            fates[before_path] = "emptied"
    return fates


def _lost_cases(before: TestDefinition, after: TestDefinition) -> str:
    after_cases = {
        table.argnames: Counter(table.cases)
        for table in after.parametrizations
        if table.cases is not None
    }
    removed = []
    for table in before.parametrizations:
        if table.cases is not None and table.argnames in after_cases:
            removed.extend(
                (Counter(table.cases) - after_cases[table.argnames]).elements()
            )
    return f": {', '.join(removed)}" if removed else ""


def _no_longer_collected(reason: NotCollected) -> str:
    return f"no longer collected: {_because(reason)}"


def _because(reason: NotCollected) -> str:
    return f"{display_path(reason.reason)}; to keep its tests, {reason.fix}"


def _removals(
    files: ChangedTestFiles, paired: PairedTests, after: CollectedFiles | None = None
) -> list[Removal]:
    seen_in = files.change_set.before_rev[:12]
    fates = _file_fates(files, after)
    removals = []
    for path, test in paired.lost:
        how = f"removed: file {fates[path]}" if path in fates else "removed"
        removals.append(
            Removal(
                path,
                test.line,
                test.qualname,
                f"{display_path(path)}::{test.qualname} {how} (last seen in {seen_in})",
                test=test,
            )
        )
    for pair in paired.pairs:
        before_count, after_count = pair.before.case_count, pair.after.case_count
        if (
            before_count is not None
            and after_count is not None
            and after_count < before_count
        ):
            removals.append(
                Removal(
                    pair.before_path,
                    pair.before.line,
                    pair.before.qualname,
                    f"{display_path(pair.before_path)}::{pair.before.qualname} lost "
                    f"{before_count - after_count} of {before_count} parametrize cases"
                    f"{_lost_cases(pair.before, pair.after)} (last seen in {seen_in})",
                )
            )
    for path in files.before:
        if path.rpartition("/")[2] == COLLECTION_FILTER_FILE and path in fates:
            removals.append(
                Removal(
                    path,
                    None,
                    None,
                    f"{display_path(path)} {fates[path]} (last seen in {seen_in}): "
                    "its fixtures and hooks are gone",
                    replaceable=False,
                )
            )
    return removals


def unchanged_test_definitions(
    files: ChangedTestFiles, is_test_file: Callable[[str], bool]
) -> dict[tuple[str, str], str]:
    """(name, fingerprint) -> path of the tests in test files the change leaves alone."""
    change_set = files.change_set
    changed = {change.path for change in change_set.changes}
    changed.update(change.old_path for change in change_set.changes if change.old_path)
    blobs = {
        path: blob
        for path, blob in git.tracked_blobs(change_set.after_rev).items()
        if path not in changed and path.endswith(".py") and is_test_file(path)
    }
    contents = git.read_blobs(blobs.values())
    definitions = {}
    for path, blob in blobs.items():
        try:
            tests = parse(contents[blob], path).tests.values()
        except NotPython:
            continue  # pytest collects nothing from it either
        definitions.update(((test.name, test.fingerprint), path) for test in tests)
    return definitions


def no_longer_collected(
    change_set: git.ChangeSet, before: CollectedFiles, after: CollectedFiles
) -> dict[str, NotCollected]:
    """Test files the change leaves alone that pytest collects before the change
    and not after it (a changed configuration or conftest.py), and why."""
    if before.rules.inputs == after.rules.inputs:
        return {}
    changed = {change.path for change in change_set.changes}
    changed.update(change.old_path for change in change_set.changes if change.old_path)
    vanished = {}
    for path in sorted(before.rules.paths - changed):
        if before.collects(path):
            reason = after.why_not_collected(path)
            if reason is not None:
                vanished[path] = reason
    return vanished


def add_uncollected_files(
    files: ChangedTestFiles,
    vanished: Mapping[str, NotCollected],
    blobs: Mapping[str, str],
) -> None:
    """Count the tests of the files in VANISHED (path -> why) as gone after the change."""
    contents = git.read_blobs(blobs[path] for path in vanished)
    for path in vanished:
        try:
            files.before[path] = parse(contents[blobs[path]], path)
        except NotPython:
            continue  # pytest collected nothing from it either
        files.after_path[path] = None
        files.vanished[path] = vanished[path]


def unreadable_ignore_lists(
    before: CollectedFiles, after: CollectedFiles
) -> list[Removal]:
    """A computed collect_ignore the change adds or alters: what it excludes is unknown."""
    known = {
        (listed.conftest, listed.name, listed.computed)
        for listed in before.rules.unreadable
    }
    return [
        Removal(
            listed.conftest,
            listed.line,
            None,
            f"{listed.name} is computed ({', '.join(listed.computed)}): which test "
            "files it stops pytest collecting cannot be read; write it as a list "
            "of strings",
            replaceable=False,
        )
        for listed in after.rules.unreadable
        if (listed.conftest, listed.name, listed.computed) not in known
    ]


def find_removed_tests(
    files: ChangedTestFiles,
    exemptions: Sequence[Exemption],
    is_test_file: Callable[[str], bool],
    after: CollectedFiles | None = None,
    unreadable: Sequence[Removal] = (),
) -> Findings:
    """AFTER: the after side's test files, to say why one is no longer collected;
    UNREADABLE: removals for computed collect_ignore lists."""
    paired = pair_tests(files)
    collected_before = sum(collected_count(test) for _, test in paired.lost)
    collected_after = sum(collected_count(test) for _, test in paired.added)
    for pair in paired.pairs:
        if pair.before.case_count is None or pair.after.case_count is None:
            continue  # unknown on one side: count it as unchanged
        collected_before += pair.before.case_count
        collected_after += pair.after.case_count
    findings = Findings([], [], [], [], collected_before, collected_after)
    blocked = []
    for removal in [*_removals(files, paired, after), *unreadable]:
        exemption = exemption_for(exemptions, removal.path, removal.qualname)
        if exemption is not None:
            findings.exempted.append((removal, exemption))
        elif removal.replaceable and collected_after >= collected_before:
            findings.replaced.append(removal)
        else:
            blocked.append(removal)
    # Reading the whole tree is slow; only a blocked lost test needs it.
    elsewhere = (
        unchanged_test_definitions(files, is_test_file)
        if any(removal.test for removal in blocked)
        else {}
    )
    for removal in blocked:
        key = (removal.test.name, removal.test.fingerprint) if removal.test else None
        if key in elsewhere:
            findings.kept_elsewhere.append((removal, elsewhere[key]))
        else:
            findings.removals.append(removal)
    return findings


def check(change_set: git.ChangeSet, config: Config) -> HookReport:
    root = git.repo_root()
    before = collected_files_of(config, root, change_set.before_rev)
    after = collected_files_of(config, root, change_set.after_rev)
    files = read_changed_test_files(change_set, before.is_test_file, after.is_test_file)
    unreadable: list[Removal] = []
    if after.globs is None:
        add_uncollected_files(
            files, no_longer_collected(change_set, before, after), before.rules.blobs
        )
        unreadable = unreadable_ignore_lists(before, after)
    findings = find_removed_tests(
        files, config.forbid_test_deletion.allow, after.collects, after, unreadable
    )
    report = HookReport(HOOK_ID)
    for removal in findings.removals:
        report.block(
            "removed-test", removal.location_path(), removal.line, removal.message
        )
    report_unparsable(
        files,
        report,
        after="its tests cannot be counted",
        before="pytest collected nothing from it, so nothing in it can be lost",
    )
    for removal in findings.replaced:
        report.notes.append(
            f"{removal.location()}: note: {removal.message}; counted as replaced: the changed "
            f"test files collect {findings.collected_after} tests after the change, "
            f"{findings.collected_before} before"
        )
    for removal, path in findings.kept_elsewhere:
        report.notes.append(
            f"{removal.location()}: note: {removal.message}; not lost: "
            f"{display_path(path)} still defines it, identically"
        )
    for removal, exemption in findings.exempted:
        report.notes.append(
            f"{removal.location()}: exempt: {removal.message}; reason: {exemption.reason}"
        )
    if findings.exempted:
        report.notes.append(
            f"{HOOK_ID}: {len(findings.exempted)} exemption(s) used from [tool.testwarden.{HOOK_ID}]"
        )
    if not change_set.has_before_side:
        report.notes.append(
            f"{HOOK_ID}: {change_set.option} has no before side, so no test can be missing; "
            f"checked that the {len(files.after)} test files parse. Check a commit "
            "or a range (--from-ref/--to-ref) to find removed tests."
        )
    if findings.removals:
        report.notes.append(
            f"{HOOK_ID}: {change_set.describe()} removes tests: the changed test files "
            f"collect {findings.collected_before} tests before and {findings.collected_after} after."
        )
    example = (
        findings.removals[0].test_id()
        if findings.removals
        else "tests/test_x.py::test_name"
    )
    report.fix = (
        "restore the tests, or move them (a test with the same name or "
        "the same body elsewhere counts as moved), or add new tests so that the "
        "changed test files collect as many tests as before; make every test "
        "file parse; keep test files where pytest collects them (python_files, "
        "testpaths, norecursedirs, collect_ignore). If the removal is deliberate, name it with a reason in "
        "pyproject.toml:\n"
        f"  [tool.testwarden.{HOOK_ID}]\n"
        f'  allow = [{{ test = "{example}", reason = "why it goes" }}]'
    )
    return report


@quiet_on_closed_pipe
def main(argv: Sequence[str] | None = None) -> int:
    return guard.run(
        HOOK_ID,
        "Reject a change that deletes tests, test files or parametrize cases "
        "without replacing them.",
        check,
        argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
