"""Which files pytest collects from a tree read from git: pytest's own rules.

The configuration file is found as `_pytest/config/findpaths.py` finds it
from the project root: the first of pytest.toml, .pytest.toml, pytest.ini,
.pytest.ini, pyproject.toml ([tool.pytest] or [tool.pytest.ini_options]),
tox.ini ([pytest]) and setup.cfg ([tool:pytest]) that holds pytest settings.
Files above the repository root are not in git and are not read.

A run without arguments collects (`_pytest/main.py`, `_pytest/python.py`):
below each `testpaths` entry (globs expanded; the root when none matches),
every `.py` file matching `python_files`, except in `__pycache__`, virtualenvs
and directories matching `norecursedirs`, and except what `collect_ignore` /
`collect_ignore_glob` of the nearest conftest.py defining them, or `--ignore`
/ `--ignore-glob` in `addopts`, exclude. pytest imports conftest.py to read
its lists; here they are read from the module's literal statements, and a
computed part is reported as unreadable instead of guessed.

pytest's functions read the file system and import conftest.py; both sides of
a change live in git, so the rules are mirrored here, not called.
"""

from __future__ import annotations

import ast
import fnmatch
import posixpath
import re
import shlex
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import iniconfig

from hooks import git
from hooks.config import Config
from hooks.errors import UserError

CONFTEST = "conftest.py"
IGNORE_LISTS = ("collect_ignore", "collect_ignore_glob")
# In pytest's precedence order (_pytest.config.findpaths.CONFIG_LOADERS_BY_NAME).
CONFIG_FILES = (
    "pytest.toml",
    ".pytest.toml",
    "pytest.ini",
    ".pytest.ini",
    "pyproject.toml",
    "tox.ini",
    "setup.cfg",
)
DEFAULT_PYTHON_FILES = ("test_*.py", "*_test.py")
DEFAULT_NORECURSEDIRS = (
    "*.egg",
    ".*",
    "_darcs",
    "build",
    "CVS",
    "dist",
    "node_modules",
    "venv",
    "{arch}",
)
_VENV_MARKERS = ("pyvenv.cfg", "conda-meta/history")
_GLOB_CHARACTERS = re.compile(r"[*?[]")


@dataclass(frozen=True)
class Option:
    """One pytest setting, with the file (and section) that sets it."""

    name: str
    values: tuple[str, ...]
    where: str

    def describe(self) -> str:
        return f"{self.name} = {' '.join(self.values)} ({self.where})"


@dataclass(frozen=True)
class PytestSettings:
    """What pytest's configuration says about collection."""

    # The configuration file and its table (`pytest.ini [pytest]`), None if none.
    source: str | None
    testpaths: Option
    python_files: Option
    norecursedirs: Option
    ignore: tuple[str, ...]  # --ignore in addopts, as written
    ignore_glob: tuple[str, ...]  # --ignore-glob in addopts, as written


@dataclass(frozen=True)
class IgnoreList:
    """collect_ignore or collect_ignore_glob of one conftest.py, as written."""

    conftest: str
    name: str
    line: int
    entries: tuple[str, ...]
    # Source of the parts that are not literal strings: pytest knows them, we do not.
    computed: tuple[str, ...] = ()
    # Entries added under an if/try: they apply in some environments, maybe not all.
    guarded: frozenset[str] = frozenset()

    def where(self) -> str:
        return f"{self.name} in {self.conftest}:{self.line}"

    def condition(self, entry: str) -> str:
        return (
            " (under a condition: in some environments)"
            if entry in self.guarded
            else ""
        )


@dataclass(frozen=True)
class NotCollected:
    """Why pytest does not collect a file, and how to make it collect it."""

    reason: str
    fix: str


def read_settings(files: Mapping[str, bytes]) -> PytestSettings:
    """pytest's settings from the root files FILES (name -> content): the first
    that configures pytest wins."""
    for name in CONFIG_FILES:
        if name in files:
            found = _load(name, files[name])
            if found is not None:
                table, section = found
                return _settings(table, f"{name} {section}".strip())
    return _settings({}, None)


def _settings(table: Mapping[str, object], where: str | None) -> PytestSettings:
    def option(name: str, default: tuple[str, ...]) -> Option:
        if name not in table:
            return Option(name, default, "pytest's default")
        return Option(name, _args(table[name], where, name), where)

    addopts = _args(table.get("addopts", []), where, "addopts")
    return PytestSettings(
        where,
        option("testpaths", ()),
        option("python_files", DEFAULT_PYTHON_FILES),
        option("norecursedirs", DEFAULT_NORECURSEDIRS),
        _option_values(addopts, "--ignore"),
        _option_values(addopts, "--ignore-glob"),
    )


def _args(value: object, where: str | None, name: str) -> tuple[str, ...]:
    """An `args` setting as pytest's getini reads it: a string is split like a shell."""
    if isinstance(value, str):
        try:
            return tuple(shlex.split(value))
        except ValueError as error:
            raise UserError(f"{where}: {name}: {error}; fix the quoting") from None
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise UserError(
        f"{where}: {name} must be a string or a list of strings, got {value!r}"
    )


def _option_values(arguments: tuple[str, ...], option: str) -> tuple[str, ...]:
    values = []
    for index, argument in enumerate(arguments):
        if argument.startswith(option + "="):
            values.append(argument.partition("=")[2])
        elif argument == option and index + 1 < len(arguments):
            values.append(arguments[index + 1])
    return tuple(values)


def _load(name: str, content: bytes) -> tuple[dict[str, object], str] | None:
    """The pytest table of one configuration file and where it is, None if it
    holds none (pytest.ini and pytest.toml always count, even empty)."""
    if name.endswith(".toml"):
        document = _parse_toml(name, content)
        if name != "pyproject.toml":
            return document.get("pytest", {}), "[pytest]"
        tool_pytest = document.get("tool", {}).get("pytest", {})
        native = {
            key: value for key, value in tool_pytest.items() if key != "ini_options"
        }
        ini_options = tool_pytest.get("ini_options")
        if native and ini_options is not None:
            raise UserError(
                f"{name}: [tool.pytest] and [tool.pytest.ini_options] both set; "
                "pytest refuses that: keep one of them"
            )
        if native:
            return native, "[tool.pytest]"
        if ini_options is None:
            return None
        return ini_options, "[tool.pytest.ini_options]"
    try:
        parsed = iniconfig.IniConfig(name, data=content.decode("utf-8"))
    except iniconfig.ParseError as error:
        raise UserError(f"{error}; pytest cannot read it either, fix the line")
    except UnicodeDecodeError as error:
        raise UserError(f"{name}: not UTF-8 ({error.reason}); save it as UTF-8")
    section = "tool:pytest" if name == "setup.cfg" else "pytest"
    if section in parsed:
        return dict(parsed[section].items()), f"[{section}]"
    if name == "setup.cfg" and "pytest" in parsed:
        raise UserError(
            "setup.cfg: pytest no longer reads a [pytest] section here; "
            "rename it to [tool:pytest]"
        )
    return ({}, "") if name.startswith(("pytest", ".pytest")) else None


def _parse_toml(name: str, content: bytes) -> dict[str, object]:
    try:
        return tomllib.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise UserError(f"{name}: invalid TOML: {error}; fix it so pytest can read it")


def read_ignore_lists(conftest: str, source: bytes) -> tuple[IgnoreList, ...]:
    """The collect_ignore lists a conftest.py builds at module level."""
    try:
        module = ast.parse(source, filename=conftest)
    except (SyntaxError, ValueError):
        return ()  # pytest fails to import it: nothing is collected below it anyway
    found: dict[str, IgnoreList] = {}
    for statement, guarded in _module_statements(module.body, False):
        for name in IGNORE_LISTS:
            contribution = _contribution(statement, name)
            if contribution is None:
                continue
            entries, computed = contribution
            guarded_entries = frozenset(entries if guarded else ())
            # Every branch counts: an entry pytest may apply is an entry.
            earlier = found.get(name)
            if earlier is not None:
                entries = earlier.entries + entries
                computed = earlier.computed + computed
                guarded_entries |= earlier.guarded
            line = earlier.line if earlier else statement.lineno
            found[name] = IgnoreList(
                conftest, name, line, entries, computed, guarded_entries
            )
    return tuple(found.values())


def _module_statements(
    statements: Iterable[ast.stmt], guarded: bool
) -> Iterable[tuple[ast.stmt, bool]]:
    """Module-level statements, looking into if/try/with blocks (all branches),
    each with whether a condition decides if it runs."""
    for statement in statements:
        if isinstance(statement, ast.With):
            yield from _module_statements(statement.body, guarded)
        elif isinstance(statement, (ast.If, ast.Try, ast.TryStar)):
            for block in ("body", "orelse", "finalbody"):
                yield from _module_statements(getattr(statement, block, ()), True)
            for handler in getattr(statement, "handlers", ()):
                yield from _module_statements(handler.body, True)
        else:
            yield statement, guarded


def _contribution(
    statement: ast.stmt, name: str
) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(literal entries, computed sources) STATEMENT adds to NAME, None if none."""
    value: ast.expr | None = None
    if isinstance(statement, ast.Assign) and any(
        isinstance(target, ast.Name) and target.id == name
        for target in statement.targets
    ):
        value = statement.value
    elif (
        isinstance(statement, (ast.AnnAssign, ast.AugAssign))
        and isinstance(statement.target, ast.Name)
        and statement.target.id == name
        and statement.value is not None
    ):
        value = statement.value
    elif (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Call)
        and isinstance(statement.value.func, ast.Attribute)
        and isinstance(statement.value.func.value, ast.Name)
        and statement.value.func.value.id == name
    ):
        call = statement.value
        if call.func.attr in ("append", "insert") and call.args:
            value = ast.List(elts=[call.args[-1]])
        else:
            value = call.args[0] if call.func.attr == "extend" and call.args else call
    if value is None:
        return None
    if not isinstance(value, (ast.List, ast.Tuple)):
        return (), (ast.unparse(value),)
    entries = []
    computed = []
    for element in value.elts:
        if isinstance(element, ast.Constant) and isinstance(element.value, str):
            entries.append(element.value)
        else:
            computed.append(ast.unparse(element))
    return tuple(entries), tuple(computed)


class CollectionRules:
    """pytest's collection rules for one tree: which of its files a run collects."""

    def __init__(
        self,
        root: Path,
        blobs: Mapping[str, str],
        settings: PytestSettings,
        ignore_lists: Iterable[IgnoreList],
    ) -> None:
        """BLOBS: path -> blob id of every file in the tree."""
        self.root = root
        self.settings = settings
        self.blobs = blobs
        self.paths = frozenset(blobs)
        self.directories = {""}
        for path in self.paths:
            directory = posixpath.dirname(path)
            while directory not in self.directories:
                self.directories.add(directory)
                directory = posixpath.dirname(directory)
        self.ignore_lists: dict[tuple[str, str], IgnoreList] = {
            (posixpath.dirname(listed.conftest), listed.name): listed
            for listed in ignore_lists
        }
        self.start_paths = self._start_paths()

    def _start_paths(self) -> tuple[str, ...]:
        """Where a run without arguments starts: testpaths, else the root."""
        found: list[str] = []
        for pattern in self.settings.testpaths.values:
            pattern = posixpath.normpath(pattern.replace("\\", "/"))
            if not _GLOB_CHARACTERS.search(pattern):
                if pattern in self.paths or pattern in self.directories:
                    found.append(pattern)
                continue
            segments = pattern.split("/")
            found.extend(
                sorted(
                    path
                    for path in (*self.paths, *self.directories)
                    if path and _glob_matches(segments, path.split("/"))
                )
            )
        return tuple(found) or ("",)

    @property
    def inputs(self) -> tuple[object, ...]:
        """Everything the verdicts depend on besides the path: equal inputs,
        equal verdicts."""
        virtualenvs = frozenset(
            path for path in self.paths if path.endswith(_VENV_MARKERS)
        )
        return (
            self.settings,
            frozenset(self.ignore_lists.values()),
            self.start_paths,
            virtualenvs,
        )

    @property
    def unreadable(self) -> list[IgnoreList]:
        """The conftest ignore lists with computed parts, which these rules cannot see."""
        return [listed for listed in self.ignore_lists.values() if listed.computed]

    def collects(self, path: str) -> bool:
        return self.why_not_collected(path) is None

    def is_test_file(self, path: str) -> bool:
        """A test module pytest collects, or a conftest.py it loads: one at or
        above where collection starts, or in a directory it collects."""
        if posixpath.basename(path) != CONFTEST:
            return self.collects(path)
        directory = posixpath.dirname(path)
        return any(
            _is_within(start, directory)
            or (
                _is_within(directory, start)
                and self._walk_reason(start, directory, is_file=False) is None
            )
            for start in self.start_paths
        )

    def why_not_collected(self, path: str) -> NotCollected | None:
        if not path.endswith(".py"):
            return NotCollected(f"{path} is not a Python file", "name it *.py")
        reasons = []
        for start in self.start_paths:
            if not _is_within(path, start):
                continue
            reason = self._walk_reason(start, path, is_file=True)
            if reason is None:
                return None
            reasons.append(reason)
        if reasons:
            return reasons[0]
        testpaths = self.settings.testpaths
        return NotCollected(
            f"{path} is outside {testpaths.describe()}",
            f"move it under testpaths, or add its directory to testpaths in "
            f"{testpaths.where}",
        )

    def _walk_reason(
        self, start: str, path: str, *, is_file: bool
    ) -> NotCollected | None:
        """Why pytest, collecting START, does not reach PATH (below or at START)."""
        if path == start:
            return None  # named on the command line: collected whatever its name
        relative = path[len(start) :].lstrip("/") if start else path
        parts = relative.split("/")
        current = start
        for index, part in enumerate(parts):
            current = posixpath.join(current, part) if current else part
            last = index == len(parts) - 1
            reason = self._ignored(current, is_directory=not (last and is_file))
            if reason is not None:
                return reason
        if is_file and not self.matches_python_files(path):
            python_files = self.settings.python_files
            return NotCollected(
                f"{path} does not match {python_files.describe()}",
                "name it to match python_files, or add a pattern for it to "
                f"python_files in {self._settings_file()}",
            )
        return None

    def _ignored(self, path: str, *, is_directory: bool) -> NotCollected | None:
        """pytest_ignore_collect of _pytest/main.py for one path."""
        name = posixpath.basename(path)
        absolute = str(self.root / path)
        if name == "__pycache__":
            return NotCollected(
                f"{path} is in __pycache__", "move it out of __pycache__"
            )
        parent = posixpath.dirname(path)
        listed = self._nearest_ignore_list(parent, "collect_ignore")
        if listed is not None:
            base = posixpath.dirname(listed.conftest)
            for entry in listed.entries:
                if _join(base, entry) == path:
                    return NotCollected(
                        f"{path} is excluded by {listed.where()}"
                        + listed.condition(entry),
                        f"remove its entry from {listed.where()}",
                    )
        for entry in self.settings.ignore:
            if _join("", entry) == path:
                return NotCollected(
                    f"{path} is excluded by --ignore={entry} in addopts "
                    f"({self.settings.source})",
                    f"remove --ignore={entry} from addopts in {self.settings.source}",
                )
        listed = self._nearest_ignore_list(parent, "collect_ignore_glob")
        if listed is not None:
            base = self.root / posixpath.dirname(listed.conftest)
            for entry in listed.entries:
                if fnmatch.fnmatch(absolute, posixpath.normpath(str(base / entry))):
                    return NotCollected(
                        f"{path} is excluded by {listed.where()} ({entry!r})"
                        + listed.condition(entry),
                        f"remove {entry!r} from {listed.where()}",
                    )
        for entry in self.settings.ignore_glob:
            if fnmatch.fnmatch(absolute, posixpath.normpath(str(self.root / entry))):
                return NotCollected(
                    f"{path} is excluded by --ignore-glob={entry} in addopts "
                    f"({self.settings.source})",
                    f"remove --ignore-glob={entry} from addopts in {self.settings.source}",
                )
        if not is_directory:
            return None
        marker = next(
            (marker for marker in _VENV_MARKERS if f"{path}/{marker}" in self.paths),
            None,
        )
        if marker is not None:
            return NotCollected(
                f"{path}/ is a virtualenv ({path}/{marker})",
                "move the tests out of the virtualenv",
            )
        norecursedirs = self.settings.norecursedirs
        for pattern in norecursedirs.values:
            if _fnmatch_ex(pattern, absolute):
                return NotCollected(
                    f"{path}/ matches {pattern!r} of {norecursedirs.describe()}",
                    f"move it out of {path}/, or drop {pattern!r} from norecursedirs "
                    f"in {self._settings_file()}",
                )
        return None

    def _nearest_ignore_list(self, directory: str, name: str) -> IgnoreList | None:
        """The list of the nearest conftest.py at or above DIRECTORY that sets NAME."""
        while True:
            listed = self.ignore_lists.get((directory, name))
            if listed is not None or not directory:
                return listed
            directory = posixpath.dirname(directory)

    def _settings_file(self) -> str:
        """Where to change a setting: the file pytest reads, or one it would."""
        return self.settings.source or "pytest.ini [pytest]"

    def matches_python_files(self, path: str) -> bool:
        absolute = str(self.root / path)
        return any(
            _fnmatch_ex(pattern, absolute)
            for pattern in self.settings.python_files.values
        )


def _is_within(path: str, start: str) -> bool:
    return not start or path == start or path.startswith(f"{start}/")


def _join(base: str, entry: str) -> str:
    return posixpath.normpath(posixpath.join(base, entry.replace("\\", "/")))


def _fnmatch_ex(pattern: str, absolute: str) -> bool:
    """_pytest.pathlib.fnmatch_ex: a pattern without `/` matches the name."""
    if "/" not in pattern:
        return fnmatch.fnmatch(posixpath.basename(absolute), pattern)
    if not pattern.startswith("/"):
        pattern = f"*/{pattern}"
    return fnmatch.fnmatch(absolute, pattern)


def _glob_matches(pattern: list[str], parts: list[str]) -> bool:
    """glob.iglob(pattern, recursive=True) for one relative path, by segments:
    `**` spans segments, and a wildcard never matches a name starting with `.`."""
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return _glob_matches(rest, parts) or (
            bool(parts)
            and not parts[0].startswith(".")
            and _glob_matches(pattern, parts[1:])
        )
    return (
        bool(parts)
        and fnmatch.fnmatchcase(parts[0], head)
        and (head.startswith(".") or not parts[0].startswith("."))
        and _glob_matches(rest, parts[1:])
    )


def rules_of_tree(root: Path, revision: str | None) -> CollectionRules:
    """pytest's collection rules for REVISION's tree (None: the index)."""
    blobs = git.tracked_blobs(revision)
    wanted = {
        path: blob
        for path, blob in blobs.items()
        if path in CONFIG_FILES or posixpath.basename(path) == CONFTEST
    }
    contents = git.read_blobs(wanted.values())
    settings = read_settings(
        {path: contents[blob] for path, blob in wanted.items() if path in CONFIG_FILES}
    )
    ignore_lists = [
        listed
        for path, blob in wanted.items()
        if posixpath.basename(path) == CONFTEST
        for listed in read_ignore_lists(path, contents[blob])
    ]
    return CollectionRules(root, blobs, settings, ignore_lists)


class CollectedFiles:
    """What the hooks count as test files: pytest's collection rules, or the
    `test-files` globs of [tool.testwarden] when they are set."""

    def __init__(self, rules: CollectionRules, config: Config) -> None:
        self.rules = rules
        self.globs = config if config.test_files_set else None

    def collects(self, path: str) -> bool:
        """A test module a run of the whole suite collects."""
        return self.why_not_collected(path) is None

    def is_test_file(self, path: str) -> bool:
        """A collected test module, or a conftest.py pytest loads for them."""
        if self.globs is not None:
            return self.globs.is_test_file(path)
        return self.rules.is_test_file(path)

    def why_not_collected(self, path: str) -> NotCollected | None:
        if self.globs is None:
            return self.rules.why_not_collected(path)
        if not self.globs.is_test_file(path):
            return NotCollected(
                f"{path} is not matched by test-files in [tool.testwarden]",
                "add a pattern for it to test-files in [tool.testwarden]",
            )
        if not path.endswith(".py") or not self.rules.matches_python_files(path):
            python_files = self.rules.settings.python_files
            return NotCollected(
                f"{path} does not match {python_files.describe()}",
                "name it to match python_files",
            )
        return None


def collected_files_of(
    config: Config, root: Path, revision: str | None
) -> CollectedFiles:
    """The test files of REVISION's tree (None: the index)."""
    return CollectedFiles(rules_of_tree(root, revision), config)
