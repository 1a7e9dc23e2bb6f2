"""Which tests a change can break: what tox-changed-tests (and coverage-gate) run.

The whole suite runs, with the reason said, when a guess would be unsafe:
build, tox, pytest or coverage configuration, dependency pins, the root
conftest.py, or a changed file that is neither Python nor known to be
irrelevant to tests.

Test files are the files a run of the whole suite collects, by pytest's own
rules (hooks/pytest_collection.py), or by `test-files` when that is set: a
file pytest would not collect is never selected, since naming it runs it.

By the import graph: changed test files; test files that import a changed
module, directly or through other modules (conftest.py files count as
imported by every test below them); every test below a changed conftest.py.

By the test map (hooks/test_map.py), when one is recorded and not stale: the
tests that executed changed function bodies, changed and new test files, the
test files that failed last time; the import graph for every change the map
cannot vouch for.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import coverage.config
from coverage import CoverageData

from hooks import git, test_map
from hooks.config import Config, globs_to_regex
from hooks.import_graph import ImportGraph, parse_tree
from hooks.pytest_collection import CollectedFiles, collected_files_of

# Files that change how tests are collected, run or installed.
RUN_EVERYTHING_ON = (
    "/tox.ini",
    "/tox.toml",
    "/pyproject.toml",
    "/setup.py",
    "/setup.cfg",
    "/pytest.ini",
    "/.pytest.ini",
    "/pytest.toml",
    "/.pytest.toml",
    "/.coveragerc",
    "/conftest.py",
    "/MANIFEST.in",
    "*.lock",
    "requirements*.txt",
    "requirements/**",
    "constraints*.txt",
    "Pipfile",
)
# Where coverage.py's own search (config_files_to_try) finds its settings ->
# the [run] section there and the line to add, in that file's syntax.
TEST_FUNCTION_SETTING = {
    ".coveragerc": ("[run]", "dynamic_context = test_function"),
    ".coveragerc.toml": ("[run]", 'dynamic_context = "test_function"'),
    "setup.cfg": ("[coverage:run]", "dynamic_context = test_function"),
    "tox.ini": ("[coverage:run]", "dynamic_context = test_function"),
    "pyproject.toml": ("[tool.coverage.run]", 'dynamic_context = "test_function"'),
}


@dataclass
class Selection:
    test_files: dict[str, str] = field(default_factory=dict)  # path -> why
    # Files that run in part: path -> test id -> why (from the test map).
    tests: dict[str, dict[str, str]] = field(default_factory=dict)
    everything: str | None = None  # why the whole suite must run instead
    unselected: dict[str, str] = field(default_factory=dict)  # changed path -> why
    made_with: str = "import graph"  # how: the test map, or why not
    notes: list[str] = field(default_factory=list)  # what the selection cannot see

    def add(self, path: str, reason: str) -> None:
        self.test_files.setdefault(path, reason)
        self.tests.pop(path, None)

    def add_test(self, test: str, reason: str) -> None:
        path = test_map.test_file_of(test)
        if test == path:
            self.add(path, reason)
        elif path not in self.test_files:
            self.tests.setdefault(path, {}).setdefault(test, reason)

    @property
    def is_empty(self) -> bool:
        return not self.everything and not self.test_files and not self.tests

    def selectors(self) -> list[str]:
        """What pytest is given: whole test files, then single tests."""
        return [
            *self.test_files,
            *(test for tests in self.tests.values() for test in tests),
        ]


def ignored_by_tests(config: Config) -> re.Pattern[str]:
    """Paths whose change affects no test: the `ignore` globs, and the mock-data
    baseline wherever it lives (only forbid-mock-data reads it)."""
    return globs_to_regex(
        (
            *config.tox_changed_tests.ignore,
            "/" + config.forbid_mock_data.baseline,
        )
    )


def test_environment(blobs: Mapping[str, str], config: Config) -> dict[str, str]:
    """The tracked files besides Python that tests may read: the test map is
    valid only while they stay as they were."""
    ignored = ignored_by_tests(config)
    return {
        path: blob
        for path, blob in blobs.items()
        if not path.endswith(".py") and not ignored.match(path)
    }


def coverage_config_file(root: Path) -> str | None:
    """The file in ROOT coverage.py reads its settings from, by its own search."""
    for name, is_coverage_file, _ in coverage.config.config_files_to_try(True):
        settings = coverage.config.CoverageConfig()
        if settings.from_file(str(root / name), lambda _: None, is_coverage_file):
            return name
    return None


def no_test_contexts(root: Path) -> str:
    """What to set for a test map, where the coverage configuration lives."""
    name = coverage_config_file(root) or "pyproject.toml"
    section, line = TEST_FUNCTION_SETTING.get(
        name, TEST_FUNCTION_SETTING[".coveragerc"]  # $COVERAGE_RCFILE
    )
    return (
        "no test map recorded: the coverage data has no per-test contexts; for a "
        f"selection by coverage, add `{line}` under `{section}` in {name}, or run "
        "pytest with `--cov-context=test`"
    )


def count_tests(tests: Collection[str]) -> str:
    """'4 tests', or '2 test files' for contexts that name only the file."""
    single = sum(test_map.NODE_SEPARATOR in test for test in tests)
    files = len(tests) - single
    if files and not single:
        return _counted(files, "test file")
    return _counted(single, "test") + (
        f" and {_counted(files, 'test file')}" if files else ""
    )


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def record_test_map(
    data: CoverageData, root: Path, config: Config, ran: Sequence[str] | None
) -> str:
    """Record the test map from a passing run's coverage data; say what happened.
    RAN: the test files and tests the run was given, None for the whole suite."""
    if not test_map.has_test_contexts(data):
        return no_test_contexts(root)
    blobs = git.tracked_blobs()
    collected = collected_files_of(config, root, None)
    tests = [path for path in blobs if collected.collects(path)]
    try:
        recorded = test_map.record(
            data, root, blobs, tests, test_environment(blobs, config), ran
        )
    except OSError as error:
        return f"no test map recorded: cannot write it: {error}"
    if recorded is None:
        return (
            "test map not updated: there is none for this configuration yet, and "
            "only a run of the whole suite records one (coverage-gate --all-files)"
        )
    action = "recorded" if ran is None else "updated"
    return f"test map {action}: {count_tests(recorded)} executed measured code"


def select_tests(
    change_set: git.ChangeSet,
    config: Config,
    root: Path,
    *,
    use_test_map: bool = True,
) -> Selection:
    run_everything = globs_to_regex(
        (*RUN_EVERYTHING_ON, *config.tox_changed_tests.run_all_on)
    )
    ignored = ignored_by_tests(config)
    selection = Selection()
    if change_set.mode == git.ALL_FILES:
        selection.everything = "every tracked file is checked"
        return selection
    after_blobs = git.tracked_blobs(change_set.after_rev)

    changed_python: list[str] = []
    deleted_python: list[str] = []
    for change in change_set.changes:
        for path in _paths_of(change):
            if run_everything.match(path):
                selection.everything = f"{path} changed: it configures how tests run"
                return selection
            if path.endswith(".py"):
                (changed_python if path in after_blobs else deleted_python).append(path)
            elif not ignored.match(path):
                selection.everything = (
                    f"{path} changed: tests may read it (list it under `ignore` "
                    "in [tool.testwarden.tox-changed-tests] if they do not)"
                )
                return selection

    collected = collected_files_of(config, root, change_set.after_rev)
    recorded, selection.made_with = _usable_test_map(
        root,
        test_environment(after_blobs, config),
        after_blobs,
        change_set,
        use_test_map,
    )
    if recorded is None:
        selecting = _select_by_imports(
            selection, collected, after_blobs, changed_python, deleted_python
        )
        why = "no test imports it"
    else:
        selecting = _select_by_test_map(
            selection, collected, after_blobs, recorded, root
        )
        why = "no test executed its changed code"
    renamed_away = {
        change.old_path for change in change_set.changes if change.status == git.RENAMED
    }
    for path in changed_python:
        if path not in selecting:
            selection.unselected[path] = _not_collected(path, collected) or why
    for path in deleted_python:
        if path not in selecting and path not in renamed_away:
            selection.unselected[path] = f"deleted, and {why}"
    selection.test_files = dict(sorted(selection.test_files.items()))
    selection.tests = dict(sorted(selection.tests.items()))
    selection.notes = _unreadable_ignore_lists(selection, collected)
    return selection


def _not_collected(path: str, collected: CollectedFiles) -> str | None:
    """Why a changed file named like a test is no test pytest runs, if it is not."""
    if not collected.rules.matches_python_files(path):
        return None
    reason = collected.why_not_collected(path)
    return f"pytest does not collect it: {reason.reason}" if reason else None


def _unreadable_ignore_lists(
    selection: Selection, collected: CollectedFiles
) -> list[str]:
    """A computed collect_ignore may exclude selected files; say that it was not read."""
    notes = []
    for listed in collected.rules.unreadable:
        directory = posixpath.dirname(listed.conftest)
        if any(
            not directory or path.startswith(f"{directory}/")
            for path in (*selection.test_files, *selection.tests)
        ):
            notes.append(
                f"{listed.conftest}:{listed.line}: {listed.name} is computed "
                f"({', '.join(listed.computed)}); the selection cannot read it and "
                "may name a file it excludes: write it as a list of strings"
            )
    return notes


def _usable_test_map(
    root: Path,
    environment: Mapping[str, str],
    after_blobs: Mapping[str, str],
    change_set: git.ChangeSet,
    wanted: bool,
) -> tuple[test_map.TestMap | None, str]:
    """The recorded test map that fits the tree best, if one still describes
    how the tests run, and how the selection is made."""
    if not wanted:
        return None, "import graph (--no-test-map)"
    if change_set.mode == git.FILES:
        # The map knows what changed since it was recorded; named files are
        # asked about whole, changed or not.
        return None, "import graph (named files: every test that imports them)"
    changed_from = {
        change.old_path or change.path: change.old_blob
        for change in change_set.changes
        if change.old_blob
    }
    recorded, description = test_map.fitting_map(
        root, environment, after_blobs, changed_from
    )
    if recorded is None:
        return None, f"import graph ({description})"
    return recorded, description


def _select_by_imports(
    selection: Selection,
    collected: CollectedFiles,
    after_blobs: Mapping[str, str],
    changed_python: list[str],
    deleted_python: list[str],
    why_changed: Mapping[str, str] | None = None,
) -> set[str]:
    """Select by the import graph; return the changed paths that selected a test.
    WHY_CHANGED adds to a reason why its path counts as changed."""
    why_changed = why_changed or {}

    def add(test: str, reason: str, changed: str) -> None:
        because = why_changed.get(changed)
        selection.add(test, f"{reason} ({because})" if because else reason)
        selecting.add(changed)

    graph = ImportGraph.build(parse_tree(after_blobs), deleted_python)
    tests = [path for path in graph.parsed if collected.collects(path)]
    _add_conftest_edges(graph, tests)
    selecting: set[str] = set()
    for path in changed_python:
        if collected.collects(path):
            add(path, "changed", path)
        if posixpath.basename(path) == "conftest.py":
            directory = posixpath.dirname(path)
            for test in tests:
                if test.startswith(directory + "/"):
                    add(test, f"below the changed {path}", path)
    for importer, changed in graph.importers_of(
        [*changed_python, *deleted_python]
    ).items():
        if collected.collects(importer):
            add(importer, f"imports {changed}", changed)
    if changed_python or deleted_python:
        _add_tests_reaching_unfollowable_imports(graph, tests, selection)
    return selecting


def _select_by_test_map(
    selection: Selection,
    collected: CollectedFiles,
    after_blobs: Mapping[str, str],
    recorded: test_map.TestMap,
    root: Path,
) -> set[str]:
    """The tests the map says executed changed code; the import graph for the
    changes the map cannot vouch for; and the tests that failed last time."""
    test_files = [path for path in after_blobs if collected.collects(path)]
    affected = test_map.affected_by_changes(recorded, after_blobs, test_files)
    for test, reason in affected.tests.items():
        selection.add_test(test, reason)
    selecting = set(affected.selecting)
    if affected.unsure:
        deleted = [path for path in affected.unsure if path not in after_blobs]
        unsure = [path for path in affected.unsure if path in after_blobs]
        selecting |= _select_by_imports(
            selection, collected, after_blobs, unsure, deleted, affected.unsure
        )
    for path in _failed_last_time(root, after_blobs):
        if collected.collects(path):
            selection.add(path, "failed in the last run")
    _run_whole_files_when_all_tests_are_selected(selection, recorded)
    return selecting


def _failed_last_time(root: Path, after_blobs: Mapping[str, str]) -> list[str]:
    """Test files with a failure in pytest's own record of the last run."""
    try:
        failed = json.loads(
            (root / ".pytest_cache" / "v" / "cache" / "lastfailed").read_text(
                encoding="utf-8"
            )
        )
    except (OSError, ValueError):
        return []
    if not isinstance(failed, dict):
        return []
    paths = {node_id.partition("::")[0] for node_id in failed}
    return sorted(path for path in paths if path in after_blobs)


def _run_whole_files_when_all_tests_are_selected(
    selection: Selection, recorded: test_map.TestMap
) -> None:
    """A whole file is a shorter command line, and also runs its tests the
    map has no line for (tests that execute no measured code)."""
    tests_by_file = recorded.tests_by_file()
    for path in list(selection.tests):
        if set(selection.tests[path]) >= tests_by_file[path]:
            reasons = dict.fromkeys(selection.tests[path].values())
            selection.add(path, "; ".join(reasons))


def _paths_of(change: git.FileChange) -> Iterable[str]:
    if change.old_path and change.old_path != change.path:
        yield change.old_path
    yield change.path


def _add_conftest_edges(graph: ImportGraph, tests: list[str]) -> None:
    """pytest loads every conftest.py above a test file before the test file."""
    conftest_dirs = {
        posixpath.dirname(path): path
        for path in graph.parsed
        if posixpath.basename(path) == "conftest.py"
    }
    for test in tests:
        directory = posixpath.dirname(test)
        while True:
            conftest = conftest_dirs.get(directory)
            if conftest is not None and conftest != test:
                graph.imports.setdefault(test, set()).add(conftest)
                graph.importers.setdefault(conftest, set()).add(test)
            if not directory:
                break
            directory = posixpath.dirname(directory)


def _add_tests_reaching_unfollowable_imports(
    graph: ImportGraph, tests: list[str], selection: Selection
) -> None:
    """A test that reaches an import the graph cannot follow may reach anything."""
    unfollowable = graph.unfollowable_imports()
    reaching = graph.importers_of(unfollowable)
    for test in tests:
        origin = test if test in unfollowable else reaching.get(test)
        if origin is not None:
            selection.add(test, f"reaches {unfollowable[origin]}")
