"""Which test files a change can break: what tox-changed-tests (and coverage-gate) run.

Selected: changed test files; test files that import a changed module, directly
or through other modules (conftest.py files count as imported by every test
below them); every test below a changed conftest.py. The whole suite runs,
with the reason said, when a guess would be unsafe: build, tox, pytest or
coverage configuration, dependency pins, the root conftest.py, or a changed
file that is neither Python nor known to be irrelevant to tests.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field

from hooks import git
from hooks.config import Config, globs_to_regex
from hooks.import_graph import ImportGraph, parse_tree

# Files that change how tests are collected, run or installed.
RUN_EVERYTHING_ON = (
    "/tox.ini",
    "/tox.toml",
    "/pyproject.toml",
    "/setup.py",
    "/setup.cfg",
    "/pytest.ini",
    "/.coveragerc",
    "/conftest.py",
    "/MANIFEST.in",
    "*.lock",
    "requirements*.txt",
    "requirements/**",
    "constraints*.txt",
    "Pipfile",
)
PYTEST_COLLECTS = ("test_*.py", "*_test.py")


@dataclass
class Selection:
    test_files: dict[str, str] = field(default_factory=dict)  # path -> why
    everything: str | None = None  # why the whole suite must run instead
    unselected: dict[str, str] = field(default_factory=dict)  # changed path -> why

    def add(self, path: str, reason: str) -> None:
        self.test_files.setdefault(path, reason)


def is_collected_test(path: str, config: Config) -> bool:
    name = posixpath.basename(path)
    return config.is_test_file(path) and any(
        fnmatch.fnmatchcase(name, pattern) for pattern in PYTEST_COLLECTS
    )


def select_tests(change_set: git.ChangeSet, config: Config) -> Selection:
    settings = config.hook("tox-changed-tests")
    run_everything = globs_to_regex((*RUN_EVERYTHING_ON, *settings["run-all-on"]))
    ignored = globs_to_regex(settings["ignore"])
    after_blobs = git.tracked_blobs(change_set.after_rev)
    selection = Selection()

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

    graph = ImportGraph.build(parse_tree(after_blobs), deleted_python)
    tests = [path for path in graph.parsed if is_collected_test(path, config)]
    _add_conftest_edges(graph, tests)

    selecting: set[str] = set()  # changed paths that selected at least one test
    for path in changed_python:
        if is_collected_test(path, config):
            selection.add(path, "changed")
            selecting.add(path)
        if posixpath.basename(path) == "conftest.py":
            directory = posixpath.dirname(path)
            for test in tests:
                if test.startswith(directory + "/"):
                    selection.add(test, f"below the changed {path}")
                    selecting.add(path)
    for importer, changed in graph.importers_of(
        [*changed_python, *deleted_python]
    ).items():
        if is_collected_test(importer, config):
            selection.add(importer, f"imports {changed}")
            selecting.add(changed)

    if changed_python or deleted_python:
        _add_tests_reaching_unfollowable_imports(graph, tests, selection)
    renamed_away = {
        change.old_path for change in change_set.changes if change.status == git.RENAMED
    }
    for path in changed_python:
        if path not in selecting:
            selection.unselected[path] = "no test imports it"
    for path in deleted_python:
        if path not in selecting and path not in renamed_away:
            selection.unselected[path] = "deleted, and no test imports it"
    selection.test_files = dict(sorted(selection.test_files.items()))
    return selection


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
