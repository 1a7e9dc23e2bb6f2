"""What a Python test file holds, read statically from its AST.

pytest's default collection rules, as far as a parse can tell them: module
functions named `test*`, their namesakes in classes named `Test*` (without an
`__init__`) or derived from a `*TestCase`, including methods inherited from
classes of the same module, and nested test classes. A test collects one case
per combination of its `pytest.mark.parametrize` tables when those are
literal lists or tuples (or names bound to them at module level); otherwise
its case count is unknown.

Beside the tests: the skip markers that switch each one off, definitions
that look like tests but are not collected, commented-out definitions,
conftest collection filters and `# testwarden: allow-skip` comments.
read_changed_test_files applies all this to both sides of a ChangeSet and
pair_tests matches the tests of one side with the other.
"""

from __future__ import annotations

import ast
import os
import re
import tokenize
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from io import BytesIO
from math import prod

from hooks.allow_comments import allow_comments
from hooks.config import Exemption
from hooks.findings import HookReport
from hooks.git import ChangeSet, FileChange
from hooks.pytest_collection import NotCollected

SKIP_MARKERS = frozenset(
    {
        "pytest.mark.skip",
        "pytest.mark.skipif",
        "pytest.mark.xfail",
        "unittest.skip",
        "unittest.skipIf",
        "unittest.skipUnless",
        "unittest.expectedFailure",
    }
)
SKIP_CALLS = frozenset({"pytest.skip", "pytest.xfail", "pytest.importorskip"})
SKIP_EXCEPTIONS = frozenset({"unittest.SkipTest", "pytest.skip.Exception"})
PARAMETRIZE = "pytest.mark.parametrize"
# Setup functions that skip switch off every test of their module or class.
SETUP_NAMES = frozenset(
    {
        "setUp",
        "setUpClass",
        "setUpModule",
        "setup_class",
        "setup_function",
        "setup_method",
        "setup_module",
    }
)
COLLECTION_FILTER_FILE = "conftest.py"
IGNORE_LISTS = ("collect_ignore", "collect_ignore_glob")
MODIFY_ITEMS_HOOK = "pytest_collection_modifyitems"

_COMMENTED_DEFINITION = re.compile(
    r"^\s*#+\s*(?:async\s+def|def|class)\s+(?P<name>[A-Za-z_]\w*)"
)
_REGULAR_FILE_MODES = ("100644", "100755")
_BLOCK_STATEMENTS = (
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    ast.TryStar,
    ast.Match,
)

Scope = tuple[ast.stmt, ...]


class Unparsable(Exception):
    def __init__(self, line: int | None, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class SkipMarker:
    """One thing that switches a test off, where it is written."""

    kind: str
    line: int
    end_line: int
    source: str
    # Cases it switches off: None for the whole test, 1 for one pytest.param.
    cases: int | None = None

    def describe(self) -> str:
        return f"@{self.source}" if self.kind.startswith("@") else self.source


@dataclass(frozen=True)
class Parametrization:
    """One parametrize table: its argument names and case sources, None if not literal."""

    argnames: str
    cases: tuple[str, ...] | None


@dataclass(frozen=True)
class TestDefinition:
    qualname: str
    line: int
    parametrizations: tuple[Parametrization, ...]
    skips: tuple[SkipMarker, ...]
    # The definition without its name: equal for a test renamed or copied as is.
    fingerprint: str

    @property
    def name(self) -> str:
        return self.qualname.rpartition("::")[2]

    @property
    def case_count(self) -> int | None:
        """Collected cases, or None when a parametrize table is not literal."""
        counts = [
            len(table.cases)
            for table in self.parametrizations
            if table.cases is not None
        ]
        if len(counts) < len(self.parametrizations):
            return None
        return prod(counts)


@dataclass(frozen=True)
class CollectionFilter:
    """A conftest setting that keeps pytest from collecting or running tests."""

    kind: str
    detail: str
    line: int
    end_line: int


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
    """The inventory of one test file; Unparsable when Python cannot parse it."""
    try:
        module = ast.parse(source, filename=path)
    except SyntaxError as error:
        raise Unparsable(error.lineno, error.msg) from None
    except (ValueError, RecursionError, MemoryError):
        # Null bytes on older Pythons, or nesting deeper than the parser's stack.
        raise Unparsable(None, "not Python source this parser can read") from None
    text = _decode(source)
    reader = _ModuleReader(module)
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


def _flatten(statements: Iterable[ast.stmt]) -> Iterator[ast.stmt]:
    """Simple statements and definitions, looking through if/try/with/for/match blocks."""
    for statement in statements:
        if not isinstance(statement, _BLOCK_STATEMENTS):
            yield statement
            continue
        for block in ("body", "orelse", "finalbody"):
            yield from _flatten(getattr(statement, block, ()))
        for clause in (
            *getattr(statement, "handlers", ()),
            *getattr(statement, "cases", ()),
        ):
            yield from _flatten(clause.body)


def _dotted_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Call):
        node = node.func
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _is_function(node: ast.AST) -> bool:
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))


def _is_test_name(name: str) -> bool:
    return name.startswith("test")


class _ModuleReader:
    """Answers questions about one parsed module, resolving its imports."""

    def __init__(self, module: ast.Module) -> None:
        self.statements = tuple(_flatten(module.body))
        self.aliases = _import_aliases(module)
        self.classes = {
            statement.name: statement
            for statement in self.statements
            if isinstance(statement, ast.ClassDef)
        }
        self.literal_lists = {
            target.id: statement.value
            for statement in self.statements
            if isinstance(statement, ast.Assign)
            and isinstance(statement.value, (ast.List, ast.Tuple))
            for target in statement.targets
            if isinstance(target, ast.Name)
        }
        self.marker_aliases: dict[str, str] = {}
        for statement in self.statements:
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                target = statement.targets[0]
                kind = self._marker_kind(statement.value)
                if isinstance(target, ast.Name) and kind:
                    self.marker_aliases[target.id] = kind
        self.module_skips = self._scope_skips(self.statements, (), module_level=True)

    def canonical(self, node: ast.expr) -> str | None:
        name = _dotted_name(node)
        if name is None:
            return None
        first, _, rest = name.partition(".")
        resolved = self.aliases.get(first, first)
        return f"{resolved}.{rest}" if rest else resolved

    def _marker_kind(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Name) and node.id in self.marker_aliases:
            return self.marker_aliases[node.id]
        name = self.canonical(node)
        return f"@{name}" if name in SKIP_MARKERS else None

    def _markers(
        self, expressions: Iterable[ast.expr], cases: int | None = None
    ) -> list[SkipMarker]:
        markers = []
        for expression in expressions:
            kind = self._marker_kind(expression)
            if kind:
                markers.append(_marker(kind, expression, cases))
        return markers

    def _body_skips(self, function: ast.AST) -> list[SkipMarker]:
        markers = []
        for node in ast.walk(function):
            if isinstance(node, ast.Call):
                name = self.canonical(node)
                if name in SKIP_CALLS:
                    markers.append(_marker(f"{name}()", node))
                elif (
                    isinstance(node.func, ast.Attribute)
                    and node.func.attr == "skipTest"
                ):
                    markers.append(_marker("skipTest()", node))
            elif isinstance(node, ast.Raise) and node.exc is not None:
                name = self.canonical(node.exc)
                if name in SKIP_EXCEPTIONS:
                    markers.append(_marker(f"raise {name}", node))
        return markers

    def _scope_skips(
        self,
        statements: Scope,
        decorators: Iterable[ast.expr],
        *,
        module_level: bool = False,
    ) -> tuple[SkipMarker, ...]:
        """Skips that apply to a whole module or class body."""
        markers = self._markers(decorators)
        for statement in statements:
            if _is_function(statement):
                if statement.name in SETUP_NAMES:
                    markers.extend(self._body_skips(statement))
            elif _assigns_name(statement, "pytestmark"):
                value = statement.value
                elements = (
                    value.elts if isinstance(value, (ast.List, ast.Tuple)) else [value]
                )
                markers.extend(self._markers(elements))
            elif module_level and not isinstance(statement, ast.ClassDef):
                # Module code runs at import: a skip there skips the whole module.
                markers.extend(self._body_skips(statement))
        return tuple(markers)

    def _parametrize_arguments(
        self, decorator: ast.expr
    ) -> tuple[str, ast.expr | None] | None:
        """argnames source and argvalues node of a parametrize decorator (names resolved)."""
        if (
            not isinstance(decorator, ast.Call)
            or self.canonical(decorator) != PARAMETRIZE
        ):
            return None
        arguments = dict(zip(("argnames", "argvalues"), decorator.args))
        arguments.update(
            {
                keyword.arg: keyword.value
                for keyword in decorator.keywords
                if keyword.arg
            }
        )
        argnames = ast.unparse(arguments["argnames"]) if "argnames" in arguments else ""
        values = arguments.get("argvalues")
        if isinstance(values, ast.Name):
            values = self.literal_lists.get(values.id)
        return argnames, values

    def _parametrization(self, decorator: ast.expr) -> Parametrization | None:
        arguments = self._parametrize_arguments(decorator)
        if arguments is None:
            return None
        argnames, values = arguments
        if not isinstance(values, (ast.List, ast.Tuple)) or any(
            isinstance(element, ast.Starred) for element in values.elts
        ):
            return Parametrization(argnames, None)
        return Parametrization(
            argnames, tuple(ast.unparse(element) for element in values.elts)
        )

    def _case_skips(self, decorator: ast.expr) -> list[SkipMarker]:
        """Skip markers on single cases: pytest.param(..., marks=...)."""
        arguments = self._parametrize_arguments(decorator)
        if arguments is None or arguments[1] is None:
            return []
        markers = []
        for node in ast.walk(arguments[1]):
            if isinstance(node, ast.Call) and self.canonical(node) == "pytest.param":
                for keyword in node.keywords:
                    if keyword.arg == "marks":
                        value = keyword.value
                        elements = (
                            value.elts
                            if isinstance(value, (ast.List, ast.Tuple))
                            else [value]
                        )
                        markers.extend(self._markers(elements, cases=1))
        return markers

    def _definition(
        self,
        function: ast.FunctionDef | ast.AsyncFunctionDef,
        qualname: str,
        enclosing: tuple[ast.ClassDef, ...],
        scope_skips: tuple[SkipMarker, ...],
    ) -> TestDefinition:
        decorators = [*function.decorator_list]
        for cls in enclosing:
            decorators.extend(cls.decorator_list)
        parametrizations = tuple(
            table
            for table in map(self._parametrization, decorators)
            if table is not None
        )
        skips = [
            *scope_skips,
            *self._markers(function.decorator_list),
            *self._body_skips(function),
        ]
        for decorator in decorators:
            skips.extend(self._case_skips(decorator))
        fingerprint = ast.dump(
            ast.Module(
                body=[*function.decorator_list, function.args, *function.body],
                type_ignores=[],
            )
        )
        return TestDefinition(
            qualname, function.lineno, parametrizations, tuple(skips), fingerprint
        )

    def _is_test_class(self, cls: ast.ClassDef) -> bool:
        base_names = [self.canonical(base) or "" for base in cls.bases]
        if any(name.endswith("TestCase") for name in base_names):
            return True
        return cls.name.startswith("Test") and "__init__" not in self._methods(cls)

    def _methods(
        self, cls: ast.ClassDef, seen: frozenset[str] = frozenset()
    ) -> dict[str, tuple[ast.AST, ast.ClassDef]]:
        """Functions and classes of CLS's body and its same-module bases, with their owner."""
        members: dict[str, tuple[ast.AST, ast.ClassDef]] = {}
        for statement in _flatten(cls.body):
            if _is_function(statement) or isinstance(statement, ast.ClassDef):
                members.setdefault(statement.name, (statement, cls))
        for base in cls.bases:
            base_class = (
                self.classes.get(base.id) if isinstance(base, ast.Name) else None
            )
            if base_class is not None and base.id not in seen and base_class is not cls:
                for name, member in self._methods(
                    base_class, seen | {cls.name}
                ).items():
                    members.setdefault(name, member)
        return members

    def _class_tests(
        self,
        cls: ast.ClassDef,
        prefix: str,
        enclosing: tuple[ast.ClassDef, ...],
        outer_skips: tuple[SkipMarker, ...],
        tests: dict[str, TestDefinition],
    ) -> None:
        enclosing = (*enclosing, cls)
        methods = self._methods(cls)
        skips = outer_skips
        for owner in {owner.name: owner for _, owner in methods.values()}.values():
            skips = (
                *skips,
                *self._scope_skips(tuple(_flatten(owner.body)), owner.decorator_list),
            )
        for name, (member, _) in methods.items():
            qualname = f"{prefix}{cls.name}::{name}"
            if isinstance(member, ast.ClassDef):
                if self._is_test_class(member):
                    self._class_tests(
                        member, f"{prefix}{cls.name}::", enclosing, skips, tests
                    )
            elif _is_test_name(name):
                tests[qualname] = self._definition(member, qualname, enclosing, skips)

    def tests(self) -> dict[str, TestDefinition]:
        tests: dict[str, TestDefinition] = {}
        for statement in self.statements:
            if _is_function(statement) and _is_test_name(statement.name):
                tests[statement.name] = self._definition(
                    statement, statement.name, (), self.module_skips
                )
            elif isinstance(statement, ast.ClassDef) and self._is_test_class(statement):
                self._class_tests(statement, "", (), self.module_skips, tests)
        return tests

    def uncollected(self, collected: dict[str, TestDefinition]) -> dict[str, int]:
        definitions: dict[str, int] = {}
        self._definitions(self.statements, "", definitions)
        return {
            name: line for name, line in definitions.items() if name not in collected
        }

    def _definitions(
        self, statements: Iterable[ast.stmt], prefix: str, found: dict[str, int]
    ) -> None:
        for statement in statements:
            if _is_function(statement):
                found.setdefault(f"{prefix}{statement.name}", statement.lineno)
            elif isinstance(statement, ast.ClassDef):
                self._definitions(
                    _flatten(statement.body), f"{prefix}{statement.name}::", found
                )

    def collection_filters(self) -> tuple[CollectionFilter, ...]:
        filters = []
        for statement in self.statements:
            if not _is_function(statement):
                for node in ast.walk(statement):
                    filters.extend(_ignore_list_entries(node))
            elif statement.name == MODIFY_ITEMS_HOOK:
                filters.extend(self._deselections(statement))
        return tuple(filters)

    def _deselections(
        self, hook: ast.FunctionDef | ast.AsyncFunctionDef
    ) -> Iterator[CollectionFilter]:
        for node in ast.walk(hook):
            if _deselects(node) or (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add_marker"
                and any(self._marker_kind(argument) for argument in node.args)
            ):
                yield _filter(MODIFY_ITEMS_HOOK, ast.unparse(node), node)


def _marker(kind: str, node: ast.AST, cases: int | None = None) -> SkipMarker:
    return SkipMarker(
        kind,
        node.lineno,
        node.end_lineno or node.lineno,
        ast.unparse(node),
        cases,
    )


def _filter(kind: str, detail: str, node: ast.AST) -> CollectionFilter:
    return CollectionFilter(kind, detail, node.lineno, node.end_lineno or node.lineno)


def _assigns_name(statement: ast.stmt, name: str) -> bool:
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif (
        isinstance(statement, (ast.AnnAssign, ast.AugAssign))
        and statement.value is not None
    ):
        targets = [statement.target]
    else:
        return False
    return any(isinstance(target, ast.Name) and target.id == name for target in targets)


def _ignore_list_entries(node: ast.AST) -> list[CollectionFilter]:
    """Entries a statement puts into collect_ignore or collect_ignore_glob."""
    for name in IGNORE_LISTS:
        if isinstance(node, ast.stmt) and _assigns_name(node, name):
            value = node.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == name
            and node.func.attr in ("append", "extend", "insert")
            and node.args
        ):
            value = node.args[-1]
        else:
            continue
        elements = (
            value.elts if isinstance(value, (ast.List, ast.Tuple, ast.Set)) else [value]
        )
        return [_filter(name, ast.unparse(element), element) for element in elements]
    return []


def _deselects(node: ast.AST) -> bool:
    """Whether a node in pytest_collection_modifyitems drops collected items."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "pytest_deselected":
            return True
        return (
            isinstance(node.func.value, ast.Name)
            and node.func.value.id == "items"
            and node.func.attr in ("remove", "pop", "clear")
        )
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.Delete):
        targets = node.targets
    return any(
        isinstance(target, ast.Subscript)
        and isinstance(target.value, ast.Name)
        and target.value.id == "items"
        for target in targets
    )


def _import_aliases(module: ast.Module) -> dict[str, str]:
    aliases = {}
    for node in ast.walk(module):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


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
        except Unparsable as error:
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
