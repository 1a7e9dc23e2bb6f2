"""Which tests executed which lines: the map behind the precise selection.

coverage.py records which test executed each line when the run has per-test
contexts: pytest-cov's `--cov-context=test` (a context is the test's node id
and phase, "tests/test_a.py::test_x[1]|run") or coverage's `dynamic_context =
test_function` (a context is module and function, "tests.test_a.test_x", so
the test is known only by its file). `record` reads those contexts through
coverage.py's data API and keeps, for each source file and for the content
(blob id) it had when the tests ran, which tests executed which lines. A run
of the whole suite starts a new map; a run of some tests replaces what the
map held for those tests.

`affected_by_changes` answers: which tests can the difference between what
the map saw and the tree now affect? For each version of a file the map
holds that differs from the file now, git's diff says which lines changed.
When every change lies inside function bodies, the tests that executed those
functions are the answer. Anything else is `unsure`, and the caller falls
back to the import graph: module-level code, class bodies, decorators and
signatures, files the map never saw, conftest.py files, deleted files,
functions that ran outside any test (fixtures in `test_function` mode,
collection, import time), a version git no longer has.

The map is one JSON file per repository in the hook's cache directory. It
also keeps the blob of every tracked non-Python file tests may read
(tox.ini, pyproject.toml, lock files, data): when one of them changes, the
map is stale until the whole suite runs again.
"""

from __future__ import annotations

import ast
import hashlib
import json
import posixpath
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from coverage import CoverageData

from hooks import format_cache, git
from hooks.atomic_write import write_atomically
from hooks.tox_runner import checkout_files

MAP_FORMAT = 1
# Test ids: "path::Class::test" (a node id without parameters) or "path"
# (the whole file, when the contexts name only a module and function).
NODE_SEPARATOR = "::"
PYTEST_CONTEXT_PHASE = "|"

LineRanges = list[list[int]]  # [[first, last], ...], sorted


@dataclass
class TestMap:
    environment: dict[str, str] = field(default_factory=dict)  # path -> blob
    test_files: dict[str, str] = field(default_factory=dict)  # path -> blob
    # source path -> blob -> test id -> lines the test executed
    executed: dict[str, dict[str, dict[str, LineRanges]]] = field(default_factory=dict)
    # source path -> blob -> lines executed outside any test we can name
    outside_tests: dict[str, dict[str, LineRanges]] = field(default_factory=dict)
    # source path -> blob, for files the run measured no line of
    unmeasured: dict[str, str] = field(default_factory=dict)

    def versions(self, path: str) -> set[str]:
        versions = {*self.executed.get(path, {}), *self.outside_tests.get(path, {})}
        if path in self.unmeasured:
            versions.add(self.unmeasured[path])
        return versions

    def known_paths(self) -> set[str]:
        return {*self.executed, *self.outside_tests, *self.unmeasured}

    def tests_by_file(self) -> dict[str, set[str]]:
        """Test file -> the tests of it the map holds lines for."""
        by_file: dict[str, set[str]] = {}
        for versions in self.executed.values():
            for tests in versions.values():
                for test in tests:
                    by_file.setdefault(test_file_of(test), set()).add(test)
        return by_file


@dataclass
class Affected:
    tests: dict[str, str] = field(default_factory=dict)  # test id -> why
    unsure: dict[str, str] = field(default_factory=dict)  # path -> why
    selecting: set[str] = field(default_factory=set)  # paths that selected a test


def test_file_of(test: str) -> str:
    return test.partition(NODE_SEPARATOR)[0]


def map_path(root: Path) -> Path:
    digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:24]
    return format_cache.cache_directory() / "test-map" / f"{digest}.json"


def load(root: Path) -> TestMap | None:
    try:
        stored = json.loads(map_path(root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    parts = ("environment", "test_files", "executed", "outside_tests", "unmeasured")
    if (
        not isinstance(stored, dict)
        or stored.get("format") != MAP_FORMAT
        or not all(isinstance(stored.get(part), dict) for part in parts)
    ):
        return None
    return TestMap(*(stored[part] for part in parts))


def save(root: Path, test_map: TestMap) -> None:
    stored = {"format": MAP_FORMAT, **test_map.__dict__}
    path = map_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(stored, separators=(",", ":")).encode())


def stale_because(test_map: TestMap, environment: Mapping[str, str]) -> str | None:
    """Why the map no longer describes how the tests run, or None."""
    for path in sorted({*test_map.environment, *environment}):
        if test_map.environment.get(path) != environment.get(path):
            return f"{path} changed since the test map was recorded"
    return None


# Recording


def has_test_contexts(data: CoverageData) -> bool:
    return any(context for context in data.measured_contexts())


def record(
    data: CoverageData,
    root: Path,
    tracked: Collection[str],
    test_files: Sequence[str],
    environment: Mapping[str, str],
    ran: Sequence[str] | None,
) -> set[str] | None:
    """Store what DATA says each test executed; return the tests it names
    (node ids, or test files under `test_function` contexts).

    TRACKED are the paths git tracks, TEST_FILES the collected test files
    among them, ENVIRONMENT the
    non-Python files whose blobs the map is valid for. RAN lists what the run
    was given (test files and node ids), None for the whole suite. Returns
    None, storing nothing, when a partial run has no map of the same
    environment to update."""
    contexts = [context for context in data.measured_contexts() if context]
    if ran is None:
        test_map = TestMap()
    else:
        previous = load(root)
        if previous is None or stale_because(previous, environment):
            return None
        test_map = previous
        _forget(test_map, ran)
    test_by_context = _resolve_contexts(contexts, test_files)
    measured = _checkout_files(data, root, tracked)
    blobs = git.working_tree_blobs(sorted(measured))
    recorded_tests: set[str] = set()
    executed_files: set[str] = set()
    for path, measured_file in measured.items():
        blob = blobs[path]
        by_test: dict[str, set[int]] = {}
        outside: set[int] = set()
        for line, line_contexts in data.contexts_by_lineno(measured_file).items():
            for context in line_contexts:
                test = test_by_context.get(context)
                if test is None:
                    outside.add(line)
                else:
                    by_test.setdefault(test, set()).add(line)
        if not by_test and not outside:
            # coverage lists the files of `source` no test imported, lineless.
            test_map.unmeasured.setdefault(path, blob)
            continue
        executed_files.add(path)
        versions = test_map.executed.setdefault(path, {}).setdefault(blob, {})
        for test, lines in by_test.items():
            versions[test] = _ranges(lines)
            recorded_tests.add(test)
        if outside:
            previous_outside = _lines(
                test_map.outside_tests.get(path, {}).get(blob, [])
            )
            test_map.outside_tests.setdefault(path, {})[blob] = _ranges(
                outside | previous_outside
            )
        test_map.unmeasured.pop(path, None)
    ran_files = (
        list(test_files)
        if ran is None
        else [selector for selector in ran if NODE_SEPARATOR not in selector]
    )
    test_map.test_files.update(git.working_tree_blobs(ran_files))
    if ran is None:
        test_map.unmeasured = _unmeasured_sources(tracked, executed_files, test_files)
    test_map.environment = dict(environment)
    _drop_empty(test_map)
    save(root, test_map)
    return recorded_tests


def _forget(test_map: TestMap, ran: Sequence[str]) -> None:
    """Drop what the map held for the tests that ran again."""
    selectors = set(ran)

    def ran_again(test: str) -> bool:
        # "a.py::C::t" ran if "a.py", "a.py::C" or "a.py::C::t" was selected.
        parts = test.split(NODE_SEPARATOR)
        return any(
            NODE_SEPARATOR.join(parts[:length]) in selectors
            for length in range(1, len(parts) + 1)
        )

    for versions in test_map.executed.values():
        for tests in versions.values():
            for test in [test for test in tests if ran_again(test)]:
                del tests[test]


def _drop_empty(test_map: TestMap) -> None:
    for path, versions in list(test_map.executed.items()):
        for blob in [blob for blob, tests in versions.items() if not tests]:
            del versions[blob]
        if not versions:
            del test_map.executed[path]


def _resolve_contexts(
    contexts: Iterable[str], test_files: Sequence[str]
) -> dict[str, str]:
    """Context -> test id, for the contexts that name a test of TEST_FILES."""
    by_suffix: dict[str, str | None] = {}  # "tests/test_a.py" or "tests.test_a"
    for path in test_files:
        parts = path.removesuffix(".py").split("/")
        for start in range(len(parts)):
            for key in ("/".join(parts[start:]) + ".py", ".".join(parts[start:])):
                by_suffix[key] = path if by_suffix.get(key, path) == path else None
    resolved = {}
    for context in contexts:
        if PYTEST_CONTEXT_PHASE in context:
            node_id = context.rpartition(PYTEST_CONTEXT_PHASE)[0]
            path, _, name = node_id.partition(NODE_SEPARATOR)
            test_file = by_suffix.get(path)
            if test_file and name:
                resolved[context] = (
                    f"{test_file}{NODE_SEPARATOR}{_without_parameters(name)}"
                )
        else:
            module = context
            while "." in module:
                module = module.rpartition(".")[0]
                if by_suffix.get(module):
                    resolved[context] = by_suffix[module]
                    break
    return resolved


def _without_parameters(name: str) -> str:
    return name.partition("[")[0]


def _checkout_files(
    data: CoverageData, root: Path, tracked: Collection[str]
) -> dict[str, str]:
    """Repository-relative path -> measured file name, for tracked checkout files."""
    return {
        path: measured_file
        for path, measured_file in checkout_files(data, root).items()
        if path in tracked
    }


def _unmeasured_sources(
    tracked: Collection[str], executed_files: set[str], test_files: Sequence[str]
) -> dict[str, str]:
    """Path -> blob of the tracked Python files besides tests no test executed."""
    tests = set(test_files)
    unmeasured = [
        path
        for path in tracked
        if path.endswith(".py") and path not in executed_files and path not in tests
    ]
    return git.working_tree_blobs(unmeasured)


def _ranges(lines: Iterable[int]) -> LineRanges:
    ranges: LineRanges = []
    for line in sorted(lines):
        if ranges and line == ranges[-1][1] + 1:
            ranges[-1][1] = line
        else:
            ranges.append([line, line])
    return ranges


def _lines(ranges: LineRanges) -> set[int]:
    return {line for first, last in ranges for line in range(first, last + 1)}


def _overlaps(ranges: LineRanges, spans: Iterable[tuple[int, int]]) -> bool:
    return any(
        first <= span_last and span_first <= last
        for first, last in ranges
        for span_first, span_last in spans
    )


# Selecting


@dataclass(frozen=True)
class ChangedFunction:
    name: str
    first_body_line: int
    last_line: int


def affected_by_changes(
    test_map: TestMap, after_blobs: Mapping[str, str], test_files: Sequence[str]
) -> Affected:
    """The tests the difference between the map's files and AFTER_BLOBS can affect."""
    affected = Affected()
    for test_file in test_files:
        recorded = test_map.test_files.get(test_file)
        if recorded != after_blobs[test_file]:
            affected.tests[test_file] = (
                "changed since the test map was recorded"
                if recorded
                else "new, or not in the test map"
            )
            affected.selecting.add(test_file)
    known = test_map.known_paths()
    collected = set(test_files)
    for path in sorted(after_blobs):
        if path.endswith(".py") and path not in known and path not in collected:
            affected.unsure[path] = "not in the test map (new since it was recorded)"
    versions_to_compare: dict[str, set[str]] = {}
    for path in sorted(known):
        if path not in after_blobs:
            affected.unsure[path] = "deleted since the test map was recorded"
            for tests in test_map.executed.get(path, {}).values():
                for test in tests:
                    if test_file_of(test) in after_blobs:
                        affected.tests.setdefault(test, f"executed the deleted {path}")
                        affected.selecting.add(path)
        elif posixpath.basename(path) == "conftest.py":
            if test_map.versions(path) != {after_blobs[path]}:
                affected.unsure[path] = "a conftest.py changed"
        else:
            changed = test_map.versions(path) - {after_blobs[path]}
            if changed:
                versions_to_compare[path] = changed
    contents = git.read_blobs(
        [
            blob
            for path, versions in versions_to_compare.items()
            for blob in (*versions, after_blobs[path])
        ],
        skip_missing=True,
    )
    for path, versions in versions_to_compare.items():
        for blob in sorted(versions):
            _select_for_version(test_map, path, blob, after_blobs, contents, affected)
    return affected


def _select_for_version(
    test_map: TestMap,
    path: str,
    blob: str,
    after_blobs: Mapping[str, str],
    contents: Mapping[str, bytes],
    affected: Affected,
) -> None:
    after_blob = after_blobs[path]
    if blob not in contents or after_blob not in contents:
        affected.unsure[path] = "the version the test map saw is gone from git"
        return
    changed = changed_functions(
        contents[blob], contents[after_blob], git.diff_hunks(blob, after_blob)
    )
    if isinstance(changed, str):
        affected.unsure[path] = changed
        return
    spans = [(function.first_body_line, function.last_line) for function in changed]
    if _overlaps(test_map.outside_tests.get(path, {}).get(blob, []), spans):
        affected.unsure[path] = "changed code also ran outside any test"
        return
    for test, lines in test_map.executed.get(path, {}).get(blob, {}).items():
        if test_file_of(test) not in after_blobs:
            continue  # the test file is gone
        for function in changed:
            if _overlaps(lines, [(function.first_body_line, function.last_line)]):
                affected.tests.setdefault(test, f"executed {path}: {function.name}")
                affected.selecting.add(path)
                break


def changed_functions(
    before: bytes, after: bytes, hunks: Sequence[git.Hunk]
) -> list[ChangedFunction] | str:
    """The functions (innermost, before side) whose bodies the hunks change, or
    why the change is not confined to function bodies."""
    try:
        before_functions = _function_spans(ast.parse(before))
        after_functions = _function_spans(ast.parse(after))
    except (SyntaxError, ValueError):
        return "does not parse"
    changed: dict[tuple[int, int], ChangedFunction] = {}
    for hunk in hunks:
        if hunk.old_count:
            old_lines = range(hunk.old_start, hunk.old_start + hunk.old_count)
            functions = [_innermost_body(before_functions, line) for line in old_lines]
        else:
            # Lines inserted after old_start: inside a function when both the
            # line before and the line after the insertion belong to it.
            functions = [
                _innermost_text(before_functions, hunk.old_start, hunk.old_start + 1)
            ]
        new_lines = range(hunk.new_start, hunk.new_start + hunk.new_count)
        if None in functions or any(
            _innermost_body(after_functions, line) is None for line in new_lines
        ):
            return f"line {hunk.old_start} changed outside a function body"
        for function in functions:
            changed[(function.first_body_line, function.last_line)] = function
    return list(changed.values())


@dataclass(frozen=True)
class _FunctionSpan:
    name: str
    def_line: int
    first_body_line: int
    last_line: int


def _function_spans(module: ast.Module) -> list[_FunctionSpan]:
    """Every function and method, named by its qualified name (Class.method)."""
    spans = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = prefix + child.name
                spans.append(
                    _FunctionSpan(
                        name, child.lineno, child.body[0].lineno, child.end_lineno
                    )
                )
                visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(module, "")
    return spans


def _innermost_body(
    functions: Sequence[_FunctionSpan], line: int
) -> ChangedFunction | None:
    containing = [
        function
        for function in functions
        if function.first_body_line <= line <= function.last_line
    ]
    return _innermost(containing)


def _innermost_text(
    functions: Sequence[_FunctionSpan], before: int, after: int
) -> ChangedFunction | None:
    containing = [
        function
        for function in functions
        if function.def_line <= before and after <= function.last_line
    ]
    return _innermost(containing)


def _innermost(containing: Sequence[_FunctionSpan]) -> ChangedFunction | None:
    if not containing:
        return None
    function = max(containing, key=lambda function: function.first_body_line)
    return ChangedFunction(function.name, function.first_body_line, function.last_line)
