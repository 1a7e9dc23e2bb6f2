"""forbid-skipped-tests: reject a change that switches existing tests off.

A test present before the change is switched off when it gains a skip
marker (pytest.mark.skip/skipif/xfail, unittest.skip*, a pytest.skip(),
pytest.xfail() or pytest.importorskip() call, in the test, its class, its
setup or its module), or when it is renamed or commented out so that pytest
no longer collects it. A conftest.py that gains collect_ignore entries or a
deselecting pytest_collection_modifyitems hides tests too.

The guideline is "if you skip a test, you must create a replacement test in
its place": switched-off tests pass when the change adds at least as many
new, unskipped test cases to the same file or to a test file it creates.
Collection filters have no replacement. Anything else needs an exemption
with a reason: `# testwarden: allow-skip reason="..."` on the marker's line,
or an entry in [tool.testwarden.forbid-skipped-tests].
"""

from __future__ import annotations

import ast
import posixpath
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from hooks import git, guard
from hooks.config import Config, Exemption
from hooks.errors import quiet_on_closed_pipe
from hooks.findings import HookReport
from hooks.suite_inventory import (
    MODIFY_ITEMS_HOOK,
    ChangedTestFiles,
    CollectionFilter,
    PairedTests,
    TestPair,
    collected_count,
    display_path,
    empty_inventory,
    exemption_for,
    pair_tests,
    read_changed_test_files,
    report_unparsable,
)

HOOK_ID = "forbid-skipped-tests"
# The test an allow example names until a blocked test gives its real id.
ALLOW_EXAMPLE = "tests/test_x.py::test_name"
GUIDELINE = '"if you skip a test, you must create a replacement test in its place"'


@dataclass(frozen=True)
class SwitchedOff:
    """A test (or, for a collection filter, a set of tests) the change switches off."""

    path: str
    line: int
    end_line: int
    qualname: str | None
    before_path: str
    message: str
    # Collected cases it switches off; None when no count of new tests can replace it.
    cases: int | None
    rule: str
    # The marker that switches it off, for a new skip: one for a whole module.
    marker: str | None = None

    def location(self) -> str:
        return f"{display_path(self.path)}:{self.line}"

    def test_id(self) -> str:
        """The id an allow entry names it by."""
        path = display_path(self.path)
        return f"{path}::{self.qualname}" if self.qualname else path


@dataclass
class Findings:
    blocked: list[SwitchedOff]
    replaced: list[SwitchedOff]
    exempted: list[tuple[SwitchedOff, str]]
    # Per file: (cases switched off, new unskipped cases counted against them).
    replacement_counts: dict[str, tuple[int, int]]


def _added_skips(pair: TestPair) -> list[SwitchedOff]:
    before_sources = {marker.source for marker in pair.before.skips}
    extra_kinds = Counter(marker.kind for marker in pair.after.skips) - Counter(
        marker.kind for marker in pair.before.skips
    )
    switched_off = []
    for kind, extra in extra_kinds.items():
        markers = sorted(
            (marker for marker in pair.after.skips if marker.kind == kind),
            key=lambda marker: marker.source in before_sources,
        )
        switched_off.extend(
            SwitchedOff(
                pair.after_path,
                marker.line,
                marker.end_line,
                pair.after.qualname,
                pair.before_path,
                f"{display_path(pair.after_path)}::{pair.after.qualname} is newly "
                f"switched off by {marker.describe()}",
                marker.cases or collected_count(pair.after),
                "new-skip",
                marker.describe(),
            )
            for marker in markers[:extra]
        )
    return switched_off


def _disabled_tests(files: ChangedTestFiles, paired: PairedTests) -> list[SwitchedOff]:
    switched_off = []
    for before_path, test in paired.lost:
        after_path = files.after_path[before_path]
        if after_path is None:
            continue  # the whole file is gone: forbid-test-deletion's concern
        disabled = files.after[after_path].disabled_as(
            test.qualname, files.before[before_path]
        )
        if disabled is not None:
            how, line = disabled
            switched_off.append(
                SwitchedOff(
                    after_path,
                    line,
                    line,
                    test.qualname,
                    before_path,
                    f"{display_path(before_path)}::{test.qualname} is {how}",
                    collected_count(test),
                    "disabled-test",
                )
            )
    return switched_off


def _ignored_path(conftest: str, item: CollectionFilter) -> str | None:
    """The path a literal `collect_ignore` entry names (relative to its
    conftest.py, as pytest reads it), or None for any other filter."""
    if item.kind != "collect_ignore":
        return None
    try:
        entry = ast.literal_eval(item.detail)
    except (ValueError, SyntaxError):
        return None
    if not isinstance(entry, str):
        return None
    return posixpath.normpath(posixpath.join(posixpath.dirname(conftest), entry))


def _hides_no_existing_file(
    conftest: str, item: CollectionFilter, files: ChangedTestFiles
) -> bool:
    """A `collect_ignore` entry for a file that did not exist before, or that a
    conftest.py already ignored before (attrs moved its root conftest.py into
    tests/), keeps no test from running that ran before."""
    ignored = _ignored_path(conftest, item)
    if ignored is None:
        return False
    ignored_before = {
        _ignored_path(path, entry)
        for path, inventory in files.before.items()
        for entry in inventory.filters
    }
    existed = any(
        ignored == path or path.startswith(ignored + "/")
        for path in git.tracked_blobs(files.change_set.before_rev)
    )
    return ignored in ignored_before or not existed


def _added_filters(files: ChangedTestFiles) -> list[SwitchedOff]:
    before_path_of = {
        after: before for before, after in files.after_path.items() if after
    }
    switched_off = []
    for after_path, inventory in files.after.items():
        before_path = before_path_of.get(after_path, after_path)
        before = files.before.get(before_path, empty_inventory())
        extra = Counter(
            (item.kind, item.detail) for item in inventory.filters
        ) - Counter((item.kind, item.detail) for item in before.filters)
        for item in inventory.filters:
            if extra[(item.kind, item.detail)] <= 0:
                continue
            extra[(item.kind, item.detail)] -= 1
            if _hides_no_existing_file(after_path, item, files):
                continue
            if item.kind == MODIFY_ITEMS_HOOK:
                message = (
                    f"{MODIFY_ITEMS_HOOK} now deselects or skips tests: {item.detail}"
                )
            else:
                message = f"{item.kind} gains {item.detail}: pytest stops collecting it"
            switched_off.append(
                SwitchedOff(
                    after_path,
                    item.line,
                    item.end_line,
                    None,
                    before_path,
                    message,
                    None,
                    "collection-filter",
                )
            )
    return switched_off


def find_switched_off_tests(
    files: ChangedTestFiles, exemptions: Sequence[Exemption]
) -> Findings:
    paired = pair_tests(files)
    candidates = [
        *(skip for pair in paired.pairs for skip in _added_skips(pair)),
        *_disabled_tests(files, paired),
        # Before the first commit there is no test a filter could hide.
        *(
            _added_filters(files)
            if files.change_set.before_rev != git.empty_tree()
            else ()
        ),
    ]
    findings = Findings([], [], [], {})
    to_replace: dict[str, list[SwitchedOff]] = {}
    for item in candidates:
        reason = files.after[item.path].allow_skip_reason(item.line, item.end_line)
        exemption = exemption_for(
            exemptions, item.path, item.qualname
        ) or exemption_for(exemptions, item.before_path, item.qualname)
        if reason:
            findings.exempted.append((item, f"{reason} (inline allow-skip)"))
        elif exemption is not None:
            findings.exempted.append((item, exemption.reason))
        elif item.cases is None:
            findings.blocked.append(item)
        else:
            to_replace.setdefault(item.path, []).append(item)
    new_cases: Counter[str] = Counter()
    for path, test in paired.added:
        if not test.skips:
            new_cases[path] += collected_count(test)
    spare_in_new_files = sum(new_cases[path] for path in files.added_files)
    for path, items in to_replace.items():
        needed = sum(item.cases or 0 for item in items)
        available = new_cases[path] if path not in files.added_files else 0
        from_new_files = min(spare_in_new_files, max(needed - available, 0))
        spare_in_new_files -= from_new_files
        findings.replacement_counts[path] = (needed, available + from_new_files)
        if needed <= available + from_new_files:
            findings.replaced.extend(items)
        else:
            findings.blocked.extend(items)
    return findings


def one_per_marker(items: Sequence[SwitchedOff]) -> list[tuple[SwitchedOff, str]]:
    """One message per marker: a module's `pytestmark` or a class decorator
    switches off many tests at once, and is one finding naming how many."""
    by_marker: dict[object, list[SwitchedOff]] = {}
    for item in items:
        # A rename or a filter has no marker: it stands alone.
        key = (item.path, item.line, item.marker) if item.marker else id(item)
        by_marker.setdefault(key, []).append(item)
    messages = []
    for group in by_marker.values():
        first = group[0]
        if len(group) == 1:
            messages.append((first, first.message))
            continue
        names = ", ".join(item.qualname or "" for item in group[:3])
        more = f" and {len(group) - 3} more" if len(group) > 3 else ""
        messages.append(
            (
                first,
                f"{first.marker} newly switches off {len(group)} tests of "
                f"{display_path(first.path)}: {names}{more}",
            )
        )
    return messages


def _reasonless_comments(files: ChangedTestFiles) -> list[tuple[str, int]]:
    return [
        (display_path(path), line)
        for path, inventory in files.after.items()
        for line, reason in sorted(inventory.allow_skip.items())
        if not reason
    ]


def check(change_set: git.ChangeSet, config: Config) -> HookReport:
    files = read_changed_test_files(change_set, config.is_test_file)
    report = HookReport(HOOK_ID)
    report.fix = (
        f"remove the skip, or follow the guideline {GUIDELINE} by adding at least "
        "as many new, unskipped tests to the same file; if the skip is deliberate, say why "
        'on its line: `@pytest.mark.skip(reason="...")  # testwarden: allow-skip '
        'reason="why"`, or in pyproject.toml:\n'
        f"  [tool.testwarden.{HOOK_ID}]\n"
        f'  allow = [{{ test = "{ALLOW_EXAMPLE}", reason = "why" }}]'
    )
    report_unparsable(
        files,
        report,
        after="its skips cannot be checked",
        before="nothing to compare against",
    )
    for path, line in _reasonless_comments(files):
        report.block(
            "exemption-without-reason",
            path,
            line,
            '`# testwarden: allow-skip` needs a reason: write reason="why this test is '
            'switched off"',
        )
    if not change_set.has_before_side:
        report.notes.append(
            f"{HOOK_ID}: {change_set.option} has no before side, so existing skips are taken as "
            f"the baseline; checked that the {len(files.after)} test files parse and that "
            "every allow-skip comment has a reason. Check a commit or a range "
            "(--from-ref/--to-ref) to find newly switched-off tests."
        )
        return report

    findings = find_switched_off_tests(files, config.forbid_skipped_tests.allow)
    for item, message in one_per_marker(findings.blocked):
        report.block(item.rule, display_path(item.path), item.line, message)
    for item, message in one_per_marker(findings.replaced):
        report.notes.append(f"{item.location()}: note: {message}; new tests replace it")
    if findings.blocked:
        report.fix = report.fix.replace(ALLOW_EXAMPLE, findings.blocked[0].test_id())
    for path, (needed, added) in findings.replacement_counts.items():
        verdict = (
            "accepted, as the guideline asks"
            if needed <= added
            else f"add {needed - added} more in this file or in a new test file"
        )
        report.notes.append(
            f"{display_path(path)}: {needed} test case(s) switched off, {added} new unskipped "
            f"test case(s) added in their place: {verdict} ({GUIDELINE})"
        )
    for item, reason in findings.exempted:
        report.notes.append(
            f"{item.location()}: exempt: {item.message}; reason: {reason}"
        )
    if findings.exempted:
        report.notes.append(f"{HOOK_ID}: {len(findings.exempted)} exemption(s) used")
    return report


@quiet_on_closed_pipe
def main(argv: Sequence[str] | None = None) -> int:
    return guard.run(
        HOOK_ID,
        "Reject a change that skips, disables or deselects existing tests "
        "without adding replacements.",
        check,
        argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
