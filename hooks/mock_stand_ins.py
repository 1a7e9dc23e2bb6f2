"""Where a test file hands the code a stand-in it wrote: its hand-written
doubles (hooks.mock_doubles judges their shape), the handlers it gives a
`MockTransport`, the modules it puts into `sys.modules`, the code it patches
by plain assignment, and the definitions of what it patches in.

A patch site says that code was replaced; the definition of the function or
class it patches in is the hand-written double, wherever the file defines it
(`def noop(*args, **kwargs): pass` at module level, patched in for
`module.sleep` by a fixture; `class State(dict): restored = False`, an
instance of which is assigned onto the object under test). hooks.mock_facts
walks the file for library uses and monkeypatch calls and puts these
findings beside its own.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Iterable, Iterator

from hooks.mock_doubles import always_raises, canned_class, worth_judging
from hooks.mock_rules import (
    HAND_WRITTEN_DOUBLE,
    MOCK_OBJECT,
    MODULE_SCOPE,
    MONKEYPATCH_STUB,
    REAL_OBJECT,
    Finding,
    library_of,
)
from hooks.mock_values import FUNCTIONS, Function, ModuleValues, constant_string
from hooks.python_source import Names, own_nodes


def patched_in_definition(
    value: ast.expr,
    function: Function | None,
    qualname: str,
    values: ModuleValues,
    path: str,
    patched: str,
    line: int,
    *,
    only_if_idle: bool = False,
) -> Finding | None:
    """The finding on the definition of what VALUE patches in for PATCHED at
    LINE, in FUNCTION (named QUALNAME): a class the file defines (or an
    instance of one), or a function it defines outside FUNCTION. None for
    anything else: a lambda, or a function FUNCTION defines, is part of the
    patch site and its finding. ONLY_IF_IDLE: the patch does not tell that
    the value is a stub (a mock's patch takes anything), so the definition
    must do no work itself."""
    name = value.func if isinstance(value, ast.Call) else value
    if not isinstance(name, ast.Name):
        return None
    local = _local_definition(name.id, function)
    definition = local or values.functions.get(name.id) or values.classes.get(name.id)
    if definition is None or (local is not None and isinstance(local, FUNCTIONS)):
        # A function the patching function defines is part of the patch site.
        return None
    if isinstance(definition, ast.ClassDef) and definition.decorator_list:
        # Built by a decorator (attrs, dataclasses): the subject of the test,
        # a new version of a class, not a stand-in for a collaborator.
        return None
    if only_if_idle and not values.is_idle(definition):
        # A mock's patch handing out a class that works (an execution
        # context subclass overriding a hook) is judged at the patch.
        return None
    kind = "class" if isinstance(definition, ast.ClassDef) else "function"
    owner = qualname if local is not None and qualname != MODULE_SCOPE else None
    first = min(
        [definition.lineno, *(node.lineno for node in definition.decorator_list)]
    )
    attribute = patched.rpartition(".")[2]
    named = patched != "an attribute"
    shown = f"`{patched}`" if named else "what is patched"
    real = f"the real `{attribute}`" if named else "the real one"
    return Finding(
        path,
        first,
        HAND_WRITTEN_DOUBLE,
        f"{owner}.{definition.name}" if owner else definition.name,
        f"{kind} `{definition.name}` stands in for {shown}: the test patches "
        f"it in at line {line}",
        f"{real}: install what it needs as a test dependency, or "
        "configure the code through its own settings (a shorter interval, a file "
        "in tmp_path, a real local server)",
        end_line=definition.end_lineno or first,
    )


def _local_definition(
    name: str, function: Function | None
) -> Function | ast.ClassDef | None:
    if function is None:
        return None
    for node in own_nodes(function.body):
        if isinstance(node, (*FUNCTIONS, ast.ClassDef)) and node.name == name:
            return node
    return None


def module_level_instances(
    module: ast.Module, path: str, doubles: list[Finding]
) -> list[Finding]:
    """Module-level names bound to an instance of a hand-written double of
    the module (`VALUE_ERROR_TEST = FakeDate(290149024, 2, 2)`): every test
    that takes one is handed the stand-in."""
    classes = {
        finding.function: finding for finding in doubles if "." not in finding.function
    }
    found = []
    for node in module.body:
        if not (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id in classes
        ):
            continue
        double = classes[node.value.func.id]
        names = ", ".join(f"`{ast.unparse(target)}`" for target in node.targets)
        found.append(
            Finding(
                path,
                node.lineno,
                HAND_WRITTEN_DOUBLE,
                MODULE_SCOPE,
                f"{names} is an instance of the hand-written double "
                f"`{double.function}` (line {double.line})",
                double.instead,
                end_line=node.end_lineno or node.lineno,
            )
        )
    return found


def assigned_from_mock_methods(
    module: ast.Module, path: str, mock_methods: frozenset[str]
) -> list[Finding]:
    """Code patched by assignment, in a method of a module-level class, with
    what another method of the class makes with a mock (`auth.send =
    self.fake_body("oauth_token=foo")`, where `fake_body` returns a function
    handing out MagicMock responses): a mock object reached through a
    helper. MOCK_METHODS are the qualified names holding a mock object (a
    method's own functions count for it)."""
    found = []
    for cls in module.body:
        if not isinstance(cls, ast.ClassDef):
            continue
        makers = {
            node.name
            for node in cls.body
            if isinstance(node, FUNCTIONS)
            and any(
                function == f"{cls.name}.{node.name}"
                or function.startswith(f"{cls.name}.{node.name}.")
                for function in mock_methods
            )
        }
        if not makers:
            continue
        for method in cls.body:
            if not isinstance(method, FUNCTIONS):
                continue
            # Statements only: an assignment is never inside an expression.
            for node in _statements(method.body):
                maker = _mock_maker_called(node, makers)
                if maker is None:
                    continue
                target = ast.unparse(node.targets[0])
                found.append(
                    Finding(
                        path,
                        node.lineno,
                        MOCK_OBJECT,
                        f"{cls.name}.{method.name}",
                        f"`{target} = ...` patches in what `self.{maker}` makes "
                        "with a mock",
                        REAL_OBJECT,
                        end_line=node.end_lineno or node.lineno,
                    )
                )
    return found


def _mock_maker_called(node: ast.AST, makers: set[str]) -> str | None:
    """The maker NODE assigns the result of onto another object's attribute."""
    if not (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Attribute)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Attribute)
        and isinstance(node.value.func.value, ast.Name)
        and node.value.func.value.id == "self"
        and node.value.func.attr in makers
    ):
        return None
    root = node.targets[0].value
    while isinstance(root, ast.Attribute):
        root = root.value
    if isinstance(root, ast.Name) and root.id in ("self", "cls"):
        return None
    return node.value.func.attr


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
        if isinstance(function, FUNCTIONS):
            found += _hand_patches_in(
                function, qualname, path, values, set(fixture_names), stand_ins
            )
    return found


def _hand_patches_in(
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    qualname: str,
    path: str,
    values: ModuleValues,
    fixture_names: set[str],
    stand_ins: list[Finding] | None,
) -> list[Finding]:
    """hand_patches() of one function of test code."""
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
        return []
    # Patching a mock's attribute is part of the mock, not code patched.
    mocks = _mock_variables(assignments, values)
    other_fixtures = {
        argument.arg for argument in function.args.args if argument.arg in fixture_names
    }
    found = []
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
        if not stub:
            continue
        definition = patched_in_definition(
            value, function, qualname, values, path, ast.unparse(target), node.lineno
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
    """An instance, built from literal data, of a subclass the file defines
    that only adds literal class attributes to a real type (`State({1: 1})`,
    `class State(dict): restored = False`): assigned onto an object, it
    stands in for what the code would have put there. An empty instance
    (`ns.foo = Marker()`) is a value the test stores, and an instance of a
    class with methods of its own (a mapped `Child(foo="x")` set as a
    relationship) is data of the test's own model."""
    if not (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and bool(value.args or value.keywords)
        and values.literal_arguments(value, frozenset())
    ):
        return False
    cls = values.definition(value.func.id, function)
    return (
        isinstance(cls, ast.ClassDef)
        and bool(cls.bases)
        and not any(isinstance(node, FUNCTIONS) for node in cls.body)
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
