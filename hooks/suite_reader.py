"""What a Python test file holds, read statically from its AST: the facts.

pytest's default collection rules, as far as a parse can tell them: module
functions named `test*`, their namesakes in classes named `Test*` (without an
`__init__`) or derived from a `*TestCase`, including methods inherited from
classes of the same module, and nested test classes. A test collects one case
per combination of its `pytest.mark.parametrize` tables when those are
literal lists or tuples (or names bound to them at module level); otherwise
its case count is unknown. Beside the tests: the skip markers that switch
each one off, definitions that look like tests but are not collected, and
conftest collection filters.

Names count for what the file's imports make them (hooks.python_source); a
name nothing in the file binds counts as written. hooks.suite_inventory
turns these facts into an Inventory; the hooks draw verdicts from it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from math import prod

from hooks.python_source import Names, module_names, walk

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
    # Its syntax tree, for hooks that read what the test does.
    function: ast.FunctionDef | ast.AsyncFunctionDef | None = field(
        default=None, compare=False, repr=False
    )

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


def _is_function(node: ast.AST) -> bool:
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))


def _is_test_name(name: str) -> bool:
    return name.startswith("test")


class TestFileReader:
    """Answers questions about one parsed test file, resolving its names."""

    def __init__(self, module: ast.Module) -> None:
        self.statements = tuple(_flatten(module.body))
        self.names = module_names(module)
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

    def canonical(self, node: ast.expr, names: Names | None = None) -> str | None:
        """The dotted name NODE (or the callee, for a call) refers to in NAMES,
        the module's own names by default; a name nothing binds, as written."""
        if isinstance(node, ast.Call):
            node = node.func
        return (names or self.names).resolve_or_written(node)

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
        for node, names in walk(function, self.names):
            if isinstance(node, ast.Call):
                name = self.canonical(node, names)
                if name in SKIP_CALLS:
                    markers.append(_marker(f"{name}()", node))
                elif (
                    isinstance(node.func, ast.Attribute)
                    and node.func.attr == "skipTest"
                ):
                    markers.append(_marker("skipTest()", node))
            elif isinstance(node, ast.Raise) and node.exc is not None:
                name = self.canonical(node.exc, names)
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
            qualname,
            function.lineno,
            parametrizations,
            tuple(skips),
            fingerprint,
            function,
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
