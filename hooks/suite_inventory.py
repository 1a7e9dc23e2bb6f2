"""The inventory of a Python test file, and of the test files a change touches.

parse() reads one file into an Inventory: its tests (hooks.suite_reader),
commented-out definitions and `# testwarden: allow-skip` comments.
read_changed_test_files applies it to both sides of a ChangeSet and
pair_tests matches the tests of one side with the other.
"""

from __future__ import annotations

import ast
import os
import re
import tokenize
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from io import BytesIO

from hooks.allow_comments import allow_comments
from hooks.config import Exemption
from hooks.findings import HookReport
from hooks.git import ChangeSet, FileChange
from hooks.pytest_collection import NotCollected
from hooks.python_source import NotPython
from hooks.python_source import parse as parse_python
from hooks.suite_reader import (
    COLLECTION_FILTER_FILE,
    IGNORE_LISTS,
    MODIFY_ITEMS_HOOK,
    PARAMETRIZE,
    SETUP_NAMES,
    SKIP_CALLS,
    SKIP_EXCEPTIONS,
    SKIP_MARKERS,
    CollectionFilter,
    Parametrization,
    SkipMarker,
    TestDefinition,
    TestFileReader,
)

__all__ = [
    "COLLECTION_FILTER_FILE",
    "IGNORE_LISTS",
    "MODIFY_ITEMS_HOOK",
    "PARAMETRIZE",
    "SETUP_NAMES",
    "SKIP_CALLS",
    "SKIP_EXCEPTIONS",
    "SKIP_MARKERS",
    "ChangedTestFiles",
    "CollectionFilter",
    "Inventory",
    "PairedTests",
    "Parametrization",
    "SkipMarker",
    "TestDefinition",
    "TestPair",
    "UnparsableFile",
    "collected_count",
    "display_path",
    "empty_inventory",
    "exemption_for",
    "is_python_test_file",
    "pair_tests",
    "parse",
    "read_changed_test_files",
    "report_unparsable",
]

_COMMENTED_DEFINITION = re.compile(
    r"^\s*#+\s*(?:async\s+def|def|class)\s+(?P<name>[A-Za-z_]\w*)"
)
_REGULAR_FILE_MODES = ("100644", "100755")


@dataclass(frozen=True)
class Inventory:
    tests: dict[str, TestDefinition]
    # Definitions pytest does not collect, by qualname: where a renamed test ends up.
    uncollected: dict[str, int]
    commented_out: dict[str, int]
    filters: tuple[CollectionFilter, ...]
    # Line -> reason of each `# testwarden: allow-skip` comment ("" when it gives none).
    allow_skip: dict[int, str]
    # No statement at all: nothing but blank lines and comments.
    empty: bool = False
    # The parsed module, for hooks that read the tests' bodies.
    module: ast.Module | None = field(default=None, compare=False, repr=False)

    def allow_skip_reason(self, first_line: int, last_line: int) -> str | None:
        """The reason of an allow-skip comment on these lines: "" if it has none."""
        reasons = [
            self.allow_skip[line]
            for line in range(first_line, last_line + 1)
            if line in self.allow_skip
        ]
        return max(reasons, default=None)

    def disabled_as(self, qualname: str, before: Inventory) -> tuple[str, int] | None:
        """How a test gone since BEFORE was kept but switched off: renamed or commented out."""
        segments = qualname.split("::")
        for candidate, line in self.uncollected.items():
            candidate_segments = candidate.split("::")
            if (
                candidate not in before.uncollected
                and len(candidate_segments) == len(segments)
                and all(
                    new.endswith(old) for new, old in zip(candidate_segments, segments)
                )
            ):
                return f"now {candidate}, which pytest does not collect", line
        for segment in segments:
            if segment in self.commented_out and segment not in before.commented_out:
                return "commented out", self.commented_out[segment]
        return None


def empty_inventory() -> Inventory:
    return Inventory({}, {}, {}, (), {})


def parse(source: bytes, path: str) -> Inventory:
    """The inventory of one test file; NotPython when Python cannot parse it."""
    module = parse_python(path, source)
    text = _decode(source)
    reader = TestFileReader(module)
    tests = reader.tests()
    return Inventory(
        tests=tests,
        uncollected=reader.uncollected(tests),
        commented_out=_commented_out(text),
        filters=(
            reader.collection_filters()
            if os.path.basename(path) == COLLECTION_FILTER_FILE
            else ()
        ),
        allow_skip=allow_comments(text, "skip"),
        empty=not module.body,
        module=module,
    )


def _decode(source: bytes) -> str:
    encoding, _ = tokenize.detect_encoding(BytesIO(source).readline)
    return source.decode(encoding, errors="replace")


def _commented_out(text: str) -> dict[str, int]:
    names: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _COMMENTED_DEFINITION.match(line)
        if match:
            names.setdefault(match.group("name"), number)
    return names


def display_path(path: str) -> str:
    """PATH as one printable line, whatever bytes git gave for it."""
    text = os.fsencode(path).decode("utf-8", errors="backslashreplace")
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def exemption_for(
    exemptions: Iterable[Exemption], path: str, qualname: str | None = None
) -> Exemption | None:
    """The configured exemption naming this file, or this test, its class or file."""
    test_id = f"{path}::{qualname}" if qualname else path
    for exemption in exemptions:
        if test_id == exemption.test or test_id.startswith(f"{exemption.test}::"):
            return exemption
    return None


@dataclass(frozen=True)
class UnparsableFile:
    path: str
    side: str
    revision: str
    line: int | None
    reason: str

    def location(self) -> str:
        shown = display_path(self.path)
        return f"{shown}:{self.line}" if self.line else shown


def report_unparsable(
    files: ChangedTestFiles, report: HookReport, *, after: str, before: str
) -> None:
    """A test file that stops parsing blocks (AFTER says what cannot be checked);
    one that did not parse before is a note (BEFORE says why that is harmless)."""
    for unparsable in files.unparsable:
        if unparsable.side == "after":
            report.block(
                "unparsable",
                display_path(unparsable.path),
                unparsable.line,
                f"cannot parse this test file ({unparsable.revision}): "
                f"{unparsable.reason}; {after}",
            )
        else:
            report.notes.append(
                f"{unparsable.location()}: note: did not parse before the change "
                f"({unparsable.revision}): {unparsable.reason}; {before}"
            )


@dataclass
class ChangedTestFiles:
    """Inventories of the test files a change touches, on both sides.

    before is keyed by the path before the change, after by the path after;
    after_path maps a before path to its path after the change, or to None
    when it was deleted or is no longer a test file. Files that do not parse
    on either side are left out of both and listed in unparsable.
    """

    change_set: ChangeSet
    before: dict[str, Inventory] = field(default_factory=dict)
    after: dict[str, Inventory] = field(default_factory=dict)
    after_path: dict[str, str | None] = field(default_factory=dict)
    added_files: set[str] = field(default_factory=set)
    unparsable: list[UnparsableFile] = field(default_factory=list)
    # Test files the change leaves alone that pytest no longer collects: path -> why.
    vanished: dict[str, NotCollected] = field(default_factory=dict)


def is_python_test_file(
    path: str, mode: str, is_test_file: Callable[[str], bool]
) -> bool:
    return path.endswith(".py") and mode in _REGULAR_FILE_MODES and is_test_file(path)


def read_changed_test_files(
    change_set: ChangeSet,
    is_test_file: Callable[[str], bool],
    is_after_test_file: Callable[[str], bool] | None = None,
) -> ChangedTestFiles:
    """IS_AFTER_TEST_FILE, when given, judges the after side (its own pytest
    collection rules); IS_TEST_FILE judges the before side, or both."""
    files = ChangedTestFiles(change_set)
    is_after_test_file = is_after_test_file or is_test_file
    before_changes: list[FileChange] = []
    after_changes: list[FileChange] = []
    for change in change_set.changes:
        before_path = change.old_path or change.path
        if change.old_blob and is_python_test_file(
            before_path, change.old_mode, is_test_file
        ):
            before_changes.append(change)
        if change.new_blob and is_python_test_file(
            change.path, change.new_mode, is_after_test_file
        ):
            after_changes.append(change)
    after_paths = {change.path for change in after_changes}
    for change in before_changes:
        before_path = change.old_path or change.path
        files.after_path[before_path] = (
            change.path if change.path in after_paths else None
        )
    files.added_files = after_paths - set(files.after_path.values())
    unparsable_before = _parse_all(
        change_set.read_before(before_changes),
        files.before,
        "before",
        change_set.before_rev,
        files,
    )
    unparsable_after = _parse_all(
        change_set.read_after(after_changes),
        files.after,
        "after",
        change_set.after_rev or "index",
        files,
    )
    # Without both sides of a file there is nothing to compare: leave it out.
    for before_path, after_path in list(files.after_path.items()):
        if before_path in unparsable_before or after_path in unparsable_after:
            del files.after_path[before_path]
            files.before.pop(before_path, None)
            files.after.pop(after_path, None)
    return files


def _parse_all(
    sources: dict[str, bytes],
    into: dict[str, Inventory],
    side: str,
    revision: str,
    files: ChangedTestFiles,
) -> set[str]:
    """Parse SOURCES into INTO; record and return the paths that do not parse."""
    failed = set()
    for path, source in sources.items():
        try:
            into[path] = parse(source, path)
        except NotPython as error:
            files.unparsable.append(
                UnparsableFile(path, side, revision[:12], error.line, error.reason)
            )
            failed.add(path)
    return failed


@dataclass(frozen=True)
class TestPair:
    before_path: str
    before: TestDefinition
    after_path: str
    after: TestDefinition


@dataclass(frozen=True)
class PairedTests:
    """Tests on both sides (same file and name, or moved by name), lost ones, new ones."""

    pairs: tuple[TestPair, ...]
    lost: tuple[tuple[str, TestDefinition], ...]
    added: tuple[tuple[str, TestDefinition], ...]


def pair_tests(files: ChangedTestFiles) -> PairedTests:
    pairs = []
    lost = []
    before_path_of = {
        after: before for before, after in files.after_path.items() if after
    }
    for before_path, inventory in files.before.items():
        after_path = files.after_path[before_path]
        after_tests = files.after[after_path].tests if after_path else {}
        for qualname, test in inventory.tests.items():
            if qualname in after_tests:
                pairs.append(
                    TestPair(before_path, test, after_path, after_tests[qualname])
                )
            else:
                lost.append((before_path, test))
    added = []
    for after_path, inventory in files.after.items():
        before_tests = (
            files.before[before_path_of[after_path]].tests
            if after_path in before_path_of
            else {}
        )
        added.extend(
            (after_path, test)
            for qualname, test in inventory.tests.items()
            if qualname not in before_tests
        )
    # A test added elsewhere in the change under the same name, or with the
    # same definition under a new name, is the lost one, moved or renamed.
    for same in (_same_name, _same_definition):
        still_lost = []
        for before_path, test in lost:
            destination = next((entry for entry in added if same(entry[1], test)), None)
            if destination is None:
                still_lost.append((before_path, test))
            else:
                added.remove(destination)
                pairs.append(TestPair(before_path, test, *destination))
        lost = still_lost
    return PairedTests(tuple(pairs), tuple(lost), tuple(added))


def _same_name(one: TestDefinition, other: TestDefinition) -> bool:
    return one.name == other.name


def _same_definition(one: TestDefinition, other: TestDefinition) -> bool:
    return one.fingerprint == other.fingerprint


def collected_count(test: TestDefinition) -> int:
    """Cases a test collects, counting an unknown parametrization as one."""
    count = test.case_count
    return 1 if count is None else count


def new_and_changed_tests(files: ChangedTestFiles) -> list[str]:
    """Node ids (`path::qualname`) of the tests FILES add or change, in file
    order: a test new on the after side, or on both sides with a different
    definition. A test moved or renamed as it was is neither."""
    paired = pair_tests(files)
    tests = [(path, test) for path, test in paired.added]
    tests.extend(
        (pair.after_path, pair.after)
        for pair in paired.pairs
        if pair.before.fingerprint != pair.after.fingerprint
    )
    tests.sort(key=lambda entry: (entry[0], entry[1].line))
    return [f"{path}::{test.qualname}" for path, test in tests]
