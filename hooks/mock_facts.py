"""The walk over a test file that collects forbid-mock-data's line facts.

Where the file imports, requests or uses a mock-object, fake-data or
service-faking library, where it patches with one, where it monkeypatches
code to a stub, and which of its functions are pytest fixtures. Names count
for what they refer to (hooks.python_source), never for their spelling.
Verdicts on fixtures are drawn from these facts in hooks.mock_fixtures. In
test code, the stand-ins the file writes itself (hooks.mock_stand_ins: its
doubles, what it patches in by hand) join these findings.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from hooks.mock_doubles import REAL_CLOCK
from hooks.mock_rules import (
    DOUBLES_MODULE,
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
    hand_patches,
    hand_written_doubles,
    module_injections,
    patched_in_definition,
    transport_handlers,
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
            for double in self._stand_ins_written_in_the_test(module, source):
                self._findings.setdefault((double.line, double.rule), double)

    def _stand_ins_written_in_the_test(
        self, module: ast.Module, source: bytes
    ) -> list[Finding]:
        """What test code writes by hand to stand in for real code: code
        patched by assignment, sys.modules entries, transport handlers,
        doubles, the definitions of what is patched in."""
        path, values = self.path, self.values
        return [
            *hand_patches(module, path, values, self.fixture_names, self._stand_ins),
            *(
                module_injections(module, path, values)
                if b"sys.modules" in source
                else []
            ),
            *(
                transport_handlers(module, path, values)
                if b"MockTransport" in source
                else []
            ),
            *hand_written_doubles(module, path, values),
            *self._stand_ins,
            *assigned_from_mock_methods(module, path, self._mock_functions()),
        ]

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
                only_if_idle=True,
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
