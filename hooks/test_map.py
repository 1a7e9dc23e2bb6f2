"""Which tests executed which lines: the map behind the precise selection.

coverage.py records which test executed each line when the run has per-test
contexts: pytest-cov's `--cov-context=test` (a context is the test's node id
and phase, "tests/test_a.py::test_x[1]|run") or coverage's `dynamic_context =
test_function` (a context is module and function, "tests.test_a.test_x", so
the test is known only by its file). `record` reads those contexts through
coverage.py's data API and keeps, for each source file and for the content
(blob id) it had when the tests ran, which tests executed which lines. A run
of the whole suite adds a new map; a run of some tests replaces what the
map it was selected with held for those tests.

`affected_by_changes` answers: which tests can the difference between what
the map saw and the tree now affect? For each version of a file the map
holds that differs from the file now, git's diff says which lines changed.
When every change lies inside function bodies, the tests that executed those
functions are the answer. Anything else is `unsure`, and the caller falls
back to the import graph: module-level code, class bodies, decorators and
signatures, files the map never saw, conftest.py files, deleted files,
functions that ran outside any test (fixtures in `test_function` mode,
collection, import time), a version git no longer has.

A map also keeps the blob of every tracked non-Python file tests may read
(tox.ini, pyproject.toml, lock files, data), its environment: it is valid
only while they stay as they were. The hook's cache directory keeps up to
MAPS_KEPT maps per checkout (one per environment and commit the whole suite
ran on, the least recently used dropped), so that going back to a branch
finds its map again; `fitting_map` chooses, among the maps of the current
environment, the one that holds the current version of the most files.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import os
import posixpath
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from coverage import CoverageData

from hooks import cache, git
from hooks.atomic_write import write_atomically
from hooks.tox_runner import checkout_files

MAP_FORMAT = 2
MAPS_KEPT = 8  # per checkout; the least recently used beyond are dropped
# Test ids: "path::Class::test" (a node id without parameters) or "path"
# (the whole file, when the contexts name only a module and function).
NODE_SEPARATOR = "::"
PYTEST_CONTEXT_PHASE = "|"
SHORT_COMMIT = 7
BODY_PARTS = ("test_files", "executed", "outside_tests", "unmeasured")

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
    commit: str | None = None  # HEAD when the whole suite ran
    branch: str | None = None  # the branch HEAD was on then

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

    def blobs_held(self) -> dict[str, list[str]]:
        """Path -> the versions of the file the map holds, test files included."""
        held = {path: self.versions(path) for path in self.known_paths()}
        for path, blob in self.test_files.items():
            held.setdefault(path, set()).add(blob)
        return {path: sorted(blobs) for path, blobs in sorted(held.items())}

    def describe(self) -> str:
        where = (
            f"on {self.commit[:SHORT_COMMIT]}" if self.commit else "before any commit"
        )
        branch = f" ({self.branch})" if self.branch else ""
        return f"test map recorded {where}{branch}"


@dataclass
class Affected:
    tests: dict[str, str] = field(default_factory=dict)  # test id -> why
    unsure: dict[str, str] = field(default_factory=dict)  # path -> why
    selecting: set[str] = field(default_factory=set)  # paths that selected a test


def test_file_of(test: str) -> str:
    return test.partition(NODE_SEPARATOR)[0]


# Storing: a directory per checkout, a file per map. A file's first line is
# the header (environment, commit, branch, the blobs the map holds), enough to
# choose a map without parsing the others' line data; the second line is the
# body. Its name digests the environment and the commit, so a whole-suite run
# on the same commit and configuration replaces the map. Its modification
# time is when it was last used.


@dataclass(frozen=True)
class StoredMap:
    """A map file, as its header describes it."""

    path: Path
    environment: dict[str, str]
    commit: str | None
    branch: str | None
    blobs_held: dict[str, list[str]]
    last_used: int  # nanoseconds

    def fit(self, blobs: Mapping[str, str]) -> int:
        """How many files of BLOBS the map holds the current version of."""
        return sum(
            1 for path, blob in blobs.items() if blob in self.blobs_held.get(path, ())
        )

    def load(self) -> TestMap | None:
        """The whole map, or None when the file is unreadable."""
        try:
            with self.path.open("rb") as stream:
                stream.readline()
                body = json.loads(stream.read())
        except (OSError, ValueError):
            return None
        if not isinstance(body, dict) or not all(
            isinstance(body.get(part), dict) for part in BODY_PARTS
        ):
            return None
        return TestMap(
            self.environment,
            *(body[part] for part in BODY_PARTS),
            commit=self.commit,
            branch=self.branch,
        )


def maps_directory(root: Path) -> Path:
    digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:24]
    return cache.cache_directory() / "test-map" / digest


def stored_maps(root: Path) -> list[StoredMap]:
    """The readable maps of the checkout at ROOT, most recently used first."""
    headers = [_read_header(path) for path in maps_directory(root).glob("*.json")]
    return sorted(
        (header for header in headers if header is not None),
        key=lambda stored: (stored.last_used, stored.path.name),
        reverse=True,
    )


def _read_header(path: Path) -> StoredMap | None:
    try:
        with path.open("rb") as stream:
            header = json.loads(stream.readline())
            last_used = os.fstat(stream.fileno()).st_mtime_ns
    except (OSError, ValueError):
        return None
    if (
        not isinstance(header, dict)
        or header.get("format") != MAP_FORMAT
        or not isinstance(header.get("environment"), dict)
        or not isinstance(header.get("blobs_held"), dict)
    ):
        return None
    return StoredMap(
        path,
        header["environment"],
        header.get("commit"),
        header.get("branch"),
        header["blobs_held"],
        last_used,
    )


def fitting_map(
    root: Path,
    environment: Mapping[str, str],
    blobs: Mapping[str, str],
    changed_from: Mapping[str, str] | None = None,
) -> tuple[TestMap | None, str]:
    """Of the maps recorded with ENVIRONMENT, the one holding the current
    version (BLOBS) of the most files, and which it is; or None and why none.
    Between maps that fit as well, the one holding the versions the change
    started from (CHANGED_FROM, path -> blob) wins, then the one used last."""
    stored = stored_maps(root)
    same_environment = [map_ for map_ in stored if map_.environment == environment]
    # sorted() is stable: the most recently used stays first among equals.
    for candidate in sorted(
        same_environment,
        key=lambda map_: (map_.fit(blobs), map_.fit(changed_from or {})),
        reverse=True,
    ):
        loaded = candidate.load()
        if loaded is not None:
            _mark_used(candidate.path)
            return loaded, loaded.describe()
    others = [map_ for map_ in stored if map_.environment != environment]
    if others:
        return None, f"test map is stale: {stale_because(others[0], environment)}"
    return None, "no test map recorded yet"


def stale_because(recorded: StoredMap, environment: Mapping[str, str]) -> str:
    """Why a map of another environment does not describe how the tests run."""
    changed = next(
        path
        for path in sorted({*recorded.environment, *environment})
        if recorded.environment.get(path) != environment.get(path)
    )
    return f"{changed} changed since the test map was recorded"


def save(root: Path, test_map: TestMap) -> None:
    """Write the map (replacing the one of its environment and commit), then
    drop the least recently used beyond MAPS_KEPT."""
    header = {
        "format": MAP_FORMAT,
        "environment": test_map.environment,
        "commit": test_map.commit,
        "branch": test_map.branch,
        "blobs_held": test_map.blobs_held(),
    }
    body = {part: getattr(test_map, part) for part in BODY_PARTS}
    name = hashlib.sha256(
        json.dumps([sorted(test_map.environment.items()), test_map.commit]).encode()
    ).hexdigest()[:24]
    directory = maps_directory(root)
    path = directory / f"{name}.json"
    write_atomically(path, b"\n".join(_compact_json(part) for part in (header, body)))
    _mark_used(path)
    kept = {map_.path for map_ in stored_maps(root)[:MAPS_KEPT]}
    for stored_path in directory.glob("*.json"):
        if stored_path not in kept:
            stored_path.unlink(missing_ok=True)


def _compact_json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _mark_used(path: Path) -> None:
    # Explicit nanoseconds: the clock file systems stamp writes with is coarse.
    now = time.time_ns()
    with contextlib.suppress(OSError):  # gone, or not ours: it stays as it was
        os.utime(path, ns=(now, now))


# Recording


def has_test_contexts(data: CoverageData) -> bool:
    return any(context for context in data.measured_contexts())


def record(
    data: CoverageData,
    root: Path,
    tracked: Mapping[str, str],
    test_files: Sequence[str],
    environment: Mapping[str, str],
    ran: Sequence[str] | None,
) -> set[str] | None:
    """Store what DATA says each test executed; return the tests it names
    (node ids, or test files under `test_function` contexts).

    TRACKED: path -> blob of the files git tracks; TEST_FILES the collected
    test files among them, ENVIRONMENT the non-Python files whose blobs the
    map is valid for. RAN lists what the run was given (test files and node
    ids), None for the whole suite: that adds a new map, on HEAD; a partial
    run updates the map the selection chose. Returns None, storing nothing,
    when a partial run has no map of the same environment to update."""
    contexts = [context for context in data.measured_contexts() if context]
    if ran is None:
        test_map = TestMap(
            dict(environment), commit=git.head_commit(), branch=git.current_branch()
        )
    else:
        previous, _ = fitting_map(root, environment, tracked)
        if previous is None:
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
