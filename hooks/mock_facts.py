"""The walk over a test file that collects forbid-mock-data's line facts.

Where the file imports, requests or uses a mock-object, fake-data or
service-faking library, where it patches with one, where it monkeypatches
code to a stub, and which of its functions are pytest fixtures. Names count
for what they refer to (hooks.python_source), never for their spelling.
Verdicts on fixtures are drawn from these facts in hooks.mock_fixtures.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace

from hooks.mock_doubles import REAL_CLOCK, always_raises, canned_class, worth_judging
from hooks.mock_rules import (
    DOUBLES_MODULE,
    HAND_WRITTEN_DOUBLE,
    MOCK_OBJECT,
    MODULE_SCOPE,
    MONKEYPATCH_STUB,
    PLUGIN_FIXTURES,
    REAL_OBJECT,
    USE,
    Finding,
    Library,
    describe_import,
    doubles_module,
    is_project,
    library_of,
)
from hooks.mock_stand_ins import (
    assigned_from_mock_methods,
    module_level_instances,
    patched_in_definition,
)
from hooks.mock_values import (
    FUNCTIONS,
    Function,
    ModuleValues,
    constant_string,
    resolve,
    shorten,
)
from hooks.python_source import Names, imported_names, own_nodes

FIXTURE_DECORATORS = frozenset(
    {"pytest.fixture", "pytest.yield_fixture", "pytest_asyncio.fixture"}
)
_PATCH_FUNCTIONS = ("patch", "patch.object", "patch.dict", "patch.multiple")
_IMPORTERS = frozenset({"importlib.import_module", "__import__", "pytest.importorskip"})


@dataclass(frozen=True)
class _Scope:
    """Where the walk is: the enclosing function and the names in force there."""

    qualname: str
    function: Function | None
    names: Names
    monkeypatches: frozenset[str]


class LineFacts:
    """What one parsed test file holds, line by line; see the module docstring."""

    def __init__(
        self,
        module: ast.Module,
        source: bytes,
        path: str,
        values: ModuleValues,
        *,
        test_code: bool = False,
    ) -> None:
        self.path = path
        self.values = values
        self.test_code = test_code
        self.lines = source.splitlines()
        self.monkeypatching = b"onkey" in source
        self.project_modules = values.project_modules
        # Only a local name that hides an imported library changes a verdict.
        self.library_aliases = frozenset(
            name
            for name, dotted in values.names.bindings.items()
            if dotted and self._library(dotted)
        )
        self.fixtures: list[tuple[str, Function]] = []
        self.fixture_names = {
            node.name
            for node in _defined_functions(module.body)
            if self._is_fixture(node)
        }
        # Text a function must hold for anything in it to be a finding.
        self.tokens = (
            *(name.encode() for name in self.library_aliases),
            *(name.encode() for name in PLUGIN_FIXTURES),
            b"onkey",
            b"import",
            b"fixture",
        )
        self._findings: dict[tuple[int, str], Finding] = {}
        self._patch_targets: list[str | None] = []
        # Definitions of what is patched in: a class's own verdict wins over them.
        self._stand_ins: list[Finding] = []
        root = _Scope(MODULE_SCOPE, None, values.names, frozenset({"monkeypatch"}))
        for statement in module.body:
            self._visit(statement, root)
        if test_code:
            injections = (
                module_injections(module, path, values)
                if b"sys.modules" in source
                else []
            )
            for double in [
                *hand_patches(
                    module, path, values, self.fixture_names, self._stand_ins
                ),
                *injections,
                *(
                    transport_handlers(module, path, values)
                    if b"MockTransport" in source
                    else []
                ),
                *hand_written_doubles(module, path, values),
                *self._stand_ins,
                *assigned_from_mock_methods(module, path, self._mock_functions()),
            ]:
                self._findings.setdefault((double.line, double.rule), double)

    def findings(self) -> list[Finding]:
        return list(self._findings.values())

    def _mock_functions(self) -> frozenset[str]:
        """The functions holding a use of a mock object (not an import)."""
        return frozenset(
            finding.function
            for finding in self._findings.values()
            if finding.rule == MOCK_OBJECT and not finding.enabler
        )

    def _library(self, dotted: str) -> tuple[str, Library] | None:
        """The library DOTTED names, unless the project has a module of that
        name; in test code, also the project's own module of doubles."""
        if is_project(dotted, self.project_modules):
            module = self.test_code and doubles_module(dotted, self.project_modules)
            return (module, DOUBLES_MODULE) if module else None
        return library_of(dotted)

    def _is_fixture(self, function: Function) -> bool:
        return any(
            self.values.resolve(
                decorator.func if isinstance(decorator, ast.Call) else decorator
            )
            in FIXTURE_DECORATORS
            for decorator in function.decorator_list
        )

    # The walk

    def _add(self, node: ast.AST, rule: str, what: str, instead: str, **extra) -> None:
        line = node.lineno
        key = (line, rule)
        if key not in self._findings:
            self._findings[key] = Finding(
                self.path,
                line,
                rule,
                extra.pop("function"),
                what,
                instead,
                end_line=node.end_lineno or line,
                patch_targets=(
                    (self._patch_targets[-1],) if self._patch_targets else ()
                ),
                **extra,
            )

    def _visit(self, node: ast.AST, scope: _Scope) -> None:
        if isinstance(node, FUNCTIONS):
            self._visit_function(node, scope)
        elif isinstance(node, ast.ClassDef):
            inner = replace(scope, qualname=_qualify(scope, node.name))
            for child in ast.iter_child_nodes(node):
                self._visit(child, inner)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            self._visit_import(node, scope)
        elif isinstance(node, ast.Call):
            self._visit_call(node, scope)
        elif isinstance(node, (ast.Name, ast.Attribute)):
            self._visit_reference(node, scope)
        else:
            for child in ast.iter_child_nodes(node):
                self._visit(child, scope)

    def _visit_function(self, function: Function, scope: _Scope) -> None:
        qualname = _qualify(scope, function.name)
        if self._is_fixture(function):
            self.fixtures.append((qualname, function))
        arguments = [
            *function.args.posonlyargs,
            *function.args.args,
            *function.args.kwonlyargs,
        ]
        plugin_fixtures = {}
        for argument in arguments:
            dotted = PLUGIN_FIXTURES.get(argument.arg)
            found = self._library(dotted) if dotted else None
            if found is None or argument.arg in self.fixture_names:
                continue
            plugin_fixtures[argument.arg] = dotted
            library_name, library = found
            self._add(
                argument,
                library.rule,
                f"requests the `{argument.arg}` fixture ({library_name})",
                library.instead,
                function=qualname,
                enabler=True,
            )
        first_line = min(
            [function.lineno, *(node.lineno for node in function.decorator_list)]
        )
        text = b"\n".join(self.lines[first_line - 1 : function.end_lineno])
        if not any(token in text for token in self.tokens):
            return  # nothing in it can name a library, a fixture or monkeypatch
        inner = _Scope(
            qualname,
            function,
            scope.names.inner(function).bind(plugin_fixtures),
            scope.monkeypatches | self._monkeypatches(function),
        )
        for child in ast.iter_child_nodes(function):
            self._visit(child, inner)

    def _monkeypatches(self, function: Function) -> frozenset[str]:
        """The names FUNCTION binds to a MonkeyPatch it makes itself."""
        monkeypatches: set[str] = set()
        if not self.monkeypatching:
            return frozenset()
        for node in own_nodes(function.body):
            if (
                isinstance(node, ast.withitem)
                and isinstance(node.optional_vars, ast.Name)
                and _makes_monkeypatch(node.context_expr)
            ):
                monkeypatches.add(node.optional_vars.id)
            elif isinstance(node, ast.Assign) and _makes_monkeypatch(node.value):
                monkeypatches.update(
                    target.id for target in node.targets if isinstance(target, ast.Name)
                )
        return frozenset(monkeypatches)

    def _visit_import(self, node: ast.Import | ast.ImportFrom, scope: _Scope) -> None:
        for dotted in imported_names(node):
            found = self._library(dotted)
            if found:
                library_name, library = found
                self._add(
                    node,
                    library.rule,
                    f"imports {describe_import(dotted, library_name, library)}",
                    library.instead,
                    function=scope.qualname,
                    enabler=True,
                )

    def _visit_reference(self, node: ast.Name | ast.Attribute, scope: _Scope) -> None:
        dotted = resolve(scope.names, node)
        found = self._library(dotted) if dotted else None
        if found:
            library_name, library = found
            self._add(
                node,
                library.rule,
                f"`{ast.unparse(node)}` ({library_name}) {USE[library.rule]}",
                library.instead,
                function=scope.qualname,
            )
        elif dotted is None:
            for child in ast.iter_child_nodes(node):
                self._visit(child, scope)

    def _visit_call(self, call: ast.Call, scope: _Scope) -> None:
        callee = resolve(scope.names, call.func)
        imported = constant_string(call.args[0]) if call.args else None
        if callee in _IMPORTERS and imported and self._library(imported):
            library_name, library = self._library(imported)
            self._add(
                call,
                library.rule,
                f"imports {describe_import(imported, library_name, library, ' dynamically')}",
                library.instead,
                function=scope.qualname,
                enabler=True,
            )
        patching = callee and self._library(callee) and _is_patch(callee)
        if patching:
            target = self._patch_target(call, callee, scope)
            shown = target or "an attribute"
            self._patch_targets.append(target)
            self._add(
                call,
                MOCK_OBJECT,
                f"`{ast.unparse(call.func)}(...)` replaces {self._describe(shown)} with a mock",
                REAL_OBJECT,
                function=scope.qualname,
                sets_data=callee.endswith(".patch.dict"),
            )
            if self.test_code:
                self._handed_to_a_patch(call, callee, shown, scope)
        elif (
            isinstance(call.func, ast.Attribute)
            and call.func.attr in ("setattr", "setitem")
            and _is_monkeypatch(call.func.value, scope)
        ):
            self._visit_monkeypatch(call, scope)
        for child in ast.iter_child_nodes(call):
            self._visit(child, scope)
        if patching:
            self._patch_targets.pop()

    def _handed_to_a_patch(
        self, call: ast.Call, callee: str, shown: str, scope: _Scope
    ) -> None:
        """A class or outer function of the file a mock's patch hands out in
        place of the real one (`new=`, the value after the target) or of what
        it returns (`return_value=`, `side_effect=`) is a stand-in where it is
        defined."""
        positional = 2 if callee.endswith(".patch.object") else 1
        handed = [
            (value, shown) for value in call.args[positional : positional + 1]
        ] + [
            (keyword.value, shown if keyword.arg == "new" else f"{shown}()")
            for keyword in call.keywords
            if keyword.arg in ("new", "return_value", "side_effect")
        ]
        for value, patched in handed:
            definition = patched_in_definition(
                value,
                scope.function,
                scope.qualname,
                self.values,
                self.path,
                patched,
                call.lineno,
            )
            if definition:
                self._stand_ins.append(definition)

    def _patch_target(self, call: ast.Call, callee: str, scope: _Scope) -> str | None:
        arguments = [
            *call.args,
            *(keyword.value for keyword in call.keywords if keyword.arg == "target"),
        ]
        if not arguments:
            return None
        first = constant_string(arguments[0]) or resolve(scope.names, arguments[0])
        if callee.endswith(".patch.object"):
            attribute = constant_string(arguments[1]) if len(arguments) > 1 else None
            return f"{first}.{attribute}" if first and attribute else None
        return first

    def _describe(self, target: str) -> str:
        if is_project(target, self.project_modules):
            return f"the project's own `{target}`"
        return f"`{target}`" if target != "an attribute" else target

    def _visit_monkeypatch(self, call: ast.Call, scope: _Scope) -> None:
        arguments = call.args
        if call.func.attr == "setitem":
            if len(arguments) == 3:
                self._patched_in_mock(call, arguments[2], scope)
            return
        if len(arguments) in (2, 3):
            self._patched_in_mock(call, arguments[-1], scope)
        if len(arguments) == 2 and constant_string(arguments[0]):
            target: str | None = constant_string(arguments[0])
            shown = target
            value = arguments[1]
        elif len(arguments) >= 3 and constant_string(arguments[1]):
            attribute = constant_string(arguments[1])
            base = resolve(scope.names, arguments[0])
            target = f"{base}.{attribute}" if base else None
            shown = target or f"{ast.unparse(arguments[0])}.{attribute}"
            value = arguments[2]
        else:
            return
        attribute = (target or shown or "").rpartition(".")[2] or None
        stub = self.values.stub(value, scope.function, attribute)
        if stub is None:
            return
        definition = self.test_code and patched_in_definition(
            value,
            scope.function,
            scope.qualname,
            self.values,
            self.path,
            shown or "",
            call.lineno,
        )
        if definition:
            self._stand_ins.append(definition)
        self._patch_targets.append(target)
        self._add(
            call,
            MONKEYPATCH_STUB,
            f"`monkeypatch.setattr` replaces {self._describe(shown)} with {stub}",
            (
                REAL_CLOCK
                if "by hand before the real" in stub
                else "let the real code run on real inputs (files in tmp_path, a "
                "real database, a real subprocess); to change configuration, set "
                "it (monkeypatch.setenv, a config file in tmp_path)"
            ),
            function=scope.qualname,
        )
        self._patch_targets.pop()

    def _patched_in_mock(self, call: ast.Call, value: ast.expr, scope: _Scope) -> None:
        """A mock-object finding on CALL when the VALUE it patches in is made
        with a mock library's object: directly, or through the names its
        function binds (a parameter's default, an assignment)."""
        if scope.function is None:
            return
        is_mock = self._mock_reference(scope)
        made_with = _mock_made_names(scope.function, is_mock)
        mock = next(
            (
                node
                for node in ast.walk(value)
                if is_mock(node)
                or (isinstance(node, ast.Name) and node.id in made_with)
            ),
            None,
        )
        if mock is None:
            return
        origin = made_with.get(mock.id, mock) if isinstance(mock, ast.Name) else mock
        self._add(
            call,
            MOCK_OBJECT,
            f"`{ast.unparse(call.func)}` patches in `{shorten(ast.unparse(value))}`, "
            f"made with `{ast.unparse(origin)}` (line {origin.lineno})",
            REAL_OBJECT,
            function=scope.qualname,
        )

    def _mock_reference(self, scope: _Scope) -> Callable[[ast.AST], bool]:
        def is_mock(node: ast.AST) -> bool:
            if not isinstance(node, (ast.Name, ast.Attribute)):
                return False
            dotted = resolve(scope.names, node)
            found = self._library(dotted) if dotted else None
            return found is not None and found[1].rule == MOCK_OBJECT

        return is_mock


def _mock_made_names(
    function: Function, is_mock: Callable[[ast.AST], bool]
) -> dict[str, ast.AST]:
    """The names FUNCTION binds to a value made with a mock: a parameter
    whose default is one, a name assigned from an expression using one or
    another such name; each -> the mock reference it comes from."""
    made: dict[str, ast.AST] = {}

    def origin(expression: ast.AST) -> ast.AST | None:
        for node in ast.walk(expression):
            if is_mock(node):
                return node
            if isinstance(node, ast.Name) and node.id in made:
                return made[node.id]
        return None

    positional = [*function.args.posonlyargs, *function.args.args]
    defaults = list(
        zip(
            positional[len(positional) - len(function.args.defaults) :],
            function.args.defaults,
        )
    )
    defaults += [
        (argument, default)
        for argument, default in zip(
            function.args.kwonlyargs, function.args.kw_defaults
        )
        if default is not None
    ]
    for argument, default in defaults:
        found = origin(default)
        if found is not None:
            made[argument.arg] = found
    for node in own_nodes(function.body):
        if isinstance(node, ast.Assign):
            found = origin(node.value)
            if found is not None:
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        made[target.id] = found
    return made


def _is_monkeypatch(node: ast.expr, scope: _Scope) -> bool:
    """A MonkeyPatch: a name the scope binds to one, or an attribute named
    `monkeypatch` (one a helper class keeps: `self.monkeypatch`)."""
    if isinstance(node, ast.Name):
        return node.id in scope.monkeypatches
    return isinstance(node, ast.Attribute) and node.attr == "monkeypatch"


def hand_written_doubles(
    module: ast.Module, path: str, values: ModuleValues
) -> list[Finding]:
    """The classes of a test file that stand in for a real collaborator
    (hooks.mock_doubles); a finding spans its whole class. Needs no mock
    evidence in the file: a double is plain Python."""
    raisers = frozenset(
        name
        for name, function in values.functions.items()
        if always_raises(function.body)
    )
    found = []
    module_names = values.names
    decorated_by_hand = functools.cache(lambda: _decorated_by_hand(module))
    for qualname, cls, names, in_function in _classes(
        module.body, MODULE_SCOPE, lambda: module_names
    ):
        if not worth_judging(cls, collectable=not in_function):
            continue
        double = canned_class(
            cls, names(), values.is_literal, raisers, collectable=not in_function
        )
        if double is not None and cls.name not in decorated_by_hand():
            found.append(
                Finding(
                    path,
                    cls.lineno,
                    HAND_WRITTEN_DOUBLE,
                    qualname,
                    double.what,
                    double.instead,
                    end_line=cls.end_lineno or cls.lineno,
                )
            )
    return found + module_level_instances(module, path, found)


def _decorated_by_hand(module: ast.Module) -> frozenset[str]:
    """Names of classes MODULE hands to a decorator by hand,
    `attr.s(slots=True)(C)`: as decorated classes are, they are the subject
    of the test, not a stand-in for a collaborator."""
    return frozenset(
        node.args[0].id
        for node in ast.walk(module)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Call)
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Name)
    )


_TRANSPORT_DOUBLE = (
    "a real local server the test starts (the app under test in a thread, or "
    "http.server) serving committed responses, reached through a real transport"
)


def transport_handlers(
    module: ast.Module, path: str, values: ModuleValues
) -> list[Finding]:
    """Functions and classes of a test file that answer requests in place of a
    server: handed to a `MockTransport` (httpx's, or one like it), or
    subclassing one. What they return is canned, whatever it is computed from."""
    handed: set[str] = set()
    subclasses = {
        node.name
        for node in ast.walk(module)
        if isinstance(node, ast.ClassDef)
        and any(_is_mock_transport(base, values) for base in node.bases)
    }
    scopes = [
        module,
        *(node for node in ast.walk(module) if isinstance(node, FUNCTIONS)),
    ]
    for scope in scopes:
        # `app = App()` then `MockTransport(app)`, within one function.
        made_by: dict[str, str] = {}
        calls = []
        for node in own_nodes(scope.body):
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name)
            ):
                made_by.update(
                    (target.id, node.value.func.id)
                    for target in node.targets
                    if isinstance(target, ast.Name)
                )
            elif isinstance(node, ast.Call) and _is_mock_transport(node.func, values):
                calls.append(node)
        for call in calls:
            for argument in [
                *call.args[:1],
                *(
                    keyword.value
                    for keyword in call.keywords
                    if keyword.arg == "handler"
                ),
            ]:
                if isinstance(argument, ast.Call):
                    argument = argument.func
                if isinstance(argument, ast.Name):
                    handed.add(made_by.get(argument.id, argument.id))
    found = []
    for qualname, definition in _definitions(module.body, MODULE_SCOPE):
        if definition.name in subclasses or definition.name in handed:
            kind = "class" if isinstance(definition, ast.ClassDef) else "function"
            found.append(
                Finding(
                    path,
                    definition.lineno,
                    HAND_WRITTEN_DOUBLE,
                    qualname,
                    f"{kind} `{definition.name}` answers requests with canned "
                    "responses in place of a server (a MockTransport handler)",
                    _TRANSPORT_DOUBLE,
                    end_line=definition.end_lineno or definition.lineno,
                )
            )
    return found


_MODULE_INJECTION = (
    "the real module installed in the test environment (a test dependency), or "
    "pytest.importorskip when it is optional"
)


def module_injections(
    module: ast.Module, path: str, values: ModuleValues
) -> list[Finding]:
    """Stand-in modules a test file puts into `sys.modules` (an assignment or
    `monkeypatch.setitem(sys.modules, ...)`): any import of that name then gets
    the stand-in instead of the real module."""
    found = []
    scopes: list[tuple[str, list[ast.stmt]]] = [(MODULE_SCOPE, module.body)]
    scopes += [
        (qualname, definition.body)
        for qualname, definition in _definitions(module.body, MODULE_SCOPE)
        if isinstance(definition, FUNCTIONS)
    ]
    for qualname, body in scopes:
        for node in own_nodes(body):
            injected = _injected_module(node, values)
            if injected is not None:
                found.append(
                    Finding(
                        path,
                        node.lineno,
                        HAND_WRITTEN_DOUBLE,
                        qualname,
                        f"puts a stand-in for {injected} into `sys.modules`",
                        _MODULE_INJECTION,
                        end_line=node.end_lineno or node.lineno,
                    )
                )
    return found


def hand_patches(
    module: ast.Module,
    path: str,
    values: ModuleValues,
    fixture_names: Iterable[str] = (),
    stand_ins: list[Finding] | None = None,
) -> list[Finding]:
    """Code patched by plain assignment in a test function (`module.sleep =
    noop`, `client.get = lambda url: response`): the same stub as through
    monkeypatch.setattr, and nothing undoes it. A lambda handing back another
    fixture of the file is judged by that fixture (it may be a mock object).
    The definitions of what is patched in go to STAND_INS."""
    found = []
    for qualname, function in _definitions(module.body, MODULE_SCOPE):
        if not isinstance(function, FUNCTIONS):
            continue
        assignments = [
            node for node in _statements(function.body) if isinstance(node, ast.Assign)
        ]
        candidates = [
            (node, target, value)
            for node in assignments
            for target, value in _assigned_pairs(node)
            if _patched_attribute(target, {"self", "cls"})
            and (
                isinstance(value, (ast.Lambda, ast.Name))
                or _makes_local_class(value, values, function)
            )
        ]
        if not candidates:
            continue
        # Patching a mock's attribute is part of the mock, not code patched.
        mocks = _mock_variables(assignments, values)
        other_fixtures = {
            argument.arg
            for argument in function.args.args
            if argument.arg in fixture_names
        }
        for node, target, value in candidates:
            if (
                isinstance(value, ast.Lambda)
                and isinstance(value.body, ast.Name)
                and value.body.id in other_fixtures
            ):
                continue  # judged by that fixture
            attribute = target.attr if isinstance(target, ast.Attribute) else None
            stub = _patched_attribute(target, mocks) and values.stub(
                value, function, attribute
            )
            if stub:
                definition = patched_in_definition(
                    value,
                    function,
                    qualname,
                    values,
                    path,
                    ast.unparse(target),
                    node.lineno,
                )
                if definition and stand_ins is not None:
                    stand_ins.append(definition)
                found.append(
                    Finding(
                        path,
                        node.lineno,
                        MONKEYPATCH_STUB,
                        qualname,
                        f"`{ast.unparse(target)} = ...` replaces code with {stub}",
                        "let the real code run on real inputs; to change "
                        "configuration, set it (monkeypatch.setenv, a config "
                        "file in tmp_path)",
                        end_line=node.end_lineno or node.lineno,
                    )
                )
    return found


def _makes_local_class(
    value: ast.expr, values: ModuleValues, function: Function
) -> bool:
    """An instance of a class the file defines, built from literal data
    (`State({1: 1})`): assigned onto an object, it stands in for what the code
    would have put there. An empty instance (`ns.foo = Marker()`) is a value
    the test stores, not canned data."""
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and bool(value.args or value.keywords)
        and values.literal_arguments(value, frozenset())
        and isinstance(values.definition(value.func.id, function), ast.ClassDef)
    )


def _mock_variables(assignments: list[ast.Assign], values: ModuleValues) -> set[str]:
    """Names ASSIGNMENTS bind to an object a mock-object library makes."""
    made = set()
    for node in assignments:
        if isinstance(node.value, ast.Call):
            callee = values.resolve(node.value.func)
            found = library_of(callee) if callee else None
            if found and found[1].rule == MOCK_OBJECT:
                made.update(
                    target.id for target in node.targets if isinstance(target, ast.Name)
                )
    return made


def _assigned_pairs(node: ast.Assign) -> Iterator[tuple[ast.expr, ast.expr]]:
    """(target, value) for each name an assignment binds, `a, b = x, y` paired up."""
    for target in node.targets:
        if (
            isinstance(target, ast.Tuple)
            and isinstance(node.value, ast.Tuple)
            and len(target.elts) == len(node.value.elts)
        ):
            yield from zip(target.elts, node.value.elts)
        else:
            yield target, node.value


def _patched_attribute(target: ast.expr, receivers: set[str]) -> bool:
    """An attribute of something other than the test's own object."""
    if not isinstance(target, ast.Attribute):
        return False
    root = target.value
    while isinstance(root, ast.Attribute):
        root = root.value
    return isinstance(root, ast.Name) and root.id not in receivers


def _injected_module(node: ast.AST, values: ModuleValues) -> str | None:
    """What module NODE replaces in sys.modules, shown for the message."""
    if isinstance(node, ast.Assign):
        for target in node.targets:
            if (
                isinstance(target, ast.Subscript)
                and values.resolve(target.value) == "sys.modules"
            ):
                name = constant_string(target.slice)
                return f"`{name}`" if name else f"`{ast.unparse(target.slice)}`"
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "setitem"
        and len(node.args) == 3
        and values.resolve(node.args[0]) == "sys.modules"
    ):
        name = constant_string(node.args[1])
        return f"`{name}`" if name else f"`{ast.unparse(node.args[1])}`"
    return None


def _is_mock_transport(node: ast.expr, values: ModuleValues) -> bool:
    written = values.names.resolve_or_written(node) or ""
    return written.rsplit(".", 1)[-1] == "MockTransport"


def _definitions(
    body: list[ast.stmt], qualname: str
) -> Iterator[tuple[str, Function | ast.ClassDef]]:
    """Every function and class BODY defines, at any depth, with its qualified name."""
    for node in body:
        if isinstance(node, (ast.ClassDef, *FUNCTIONS)):
            inner = node.name if qualname == MODULE_SCOPE else f"{qualname}.{node.name}"
            yield inner, node
            yield from _definitions(node.body, inner)
        else:
            for block in _blocks(node):
                yield from _definitions(block, qualname)


def _classes(
    body: list[ast.stmt],
    qualname: str,
    names: Callable[[], Names],
    in_function: bool = False,
) -> Iterator[tuple[str, ast.ClassDef, Callable[[], Names], bool]]:
    """Every class BODY defines, at any depth, with its qualified name, the
    names in force where it is defined (worked out only when asked for: most
    functions define no class) and whether a function defines it (pytest
    never collects such a class, whatever its name). Statements only: no
    class hides in an expression."""
    for node in body:
        if isinstance(node, (ast.ClassDef, *FUNCTIONS)):
            inner = node.name if qualname == MODULE_SCOPE else f"{qualname}.{node.name}"
        if isinstance(node, ast.ClassDef):
            yield inner, node, names, in_function
            yield from _classes(node.body, inner, names, in_function)
        elif isinstance(node, FUNCTIONS):
            yield from _classes(node.body, inner, _inner_names(names, node), True)
        else:
            for block in _blocks(node):
                yield from _classes(block, qualname, names, in_function)


def _inner_names(outer: Callable[[], Names], function: Function) -> Callable[[], Names]:
    return functools.cache(lambda: outer().inner(function))


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements of BODY and of the blocks nested in them, not looking
    inside nested functions or classes: an assignment is never an expression."""
    for statement in body:
        yield statement
        if not isinstance(statement, (ast.ClassDef, *FUNCTIONS)):
            for block in _blocks(statement):
                yield from _statements(block)


def _blocks(statement: ast.stmt) -> Iterator[list[ast.stmt]]:
    """The statement lists nested in a compound statement (if, for, with, try, match)."""
    for field in ("body", "orelse", "finalbody"):
        block = getattr(statement, field, None)
        if isinstance(block, list):
            yield block
    for inner in (
        *getattr(statement, "handlers", ()),
        *getattr(statement, "cases", ()),
    ):
        yield inner.body


def _qualify(scope: _Scope, name: str) -> str:
    return name if scope.qualname == MODULE_SCOPE else f"{scope.qualname}.{name}"


def _is_patch(callee: str) -> bool:
    found = library_of(callee)
    return (
        found is not None
        and found[1].rule == MOCK_OBJECT
        and any(callee.endswith(f".{name}") for name in _PATCH_FUNCTIONS)
    )


def _defined_functions(body: list[ast.stmt]) -> Iterator[Function]:
    """Functions defined in BODY and in the classes it defines, at any depth."""
    for node in body:
        if isinstance(node, FUNCTIONS):
            yield node
        elif isinstance(node, ast.ClassDef):
            yield from _defined_functions(node.body)


def _makes_monkeypatch(node: ast.expr) -> bool:
    if not isinstance(node, ast.Call):
        return False
    text = ast.unparse(node.func)
    return text.endswith("MonkeyPatch") or (
        text.endswith(".context") and "monkeypatch" in text.lower()
    )
