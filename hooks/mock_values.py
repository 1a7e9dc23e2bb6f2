"""What a value in a test file is: a literal, a fixed value, literal records,
a stand-in object or a stub. The module-level facts these judgements need
(its functions, classes and constants) are read once, in ModuleValues.
"""

from __future__ import annotations

import ast
import builtins

from hooks.mock_doubles import always_raises, canned_class
from hooks.python_source import Names, module_names, own_nodes

Function = ast.FunctionDef | ast.AsyncFunctionDef
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)

# The builtins whose calls the detector reads; other builtins stay unresolved.
_BUILTINS = frozenset({"__import__", "dict", "list", "tuple"})
_UNREAD_BUILTINS = frozenset(dir(builtins)) - _BUILTINS
_DICT_TYPES = frozenset({"dict", "collections.OrderedDict"})
_STAND_IN_TYPES = frozenset({"types.SimpleNamespace", "argparse.Namespace"})
# Value types whose instances built from literals are literals themselves.
_VALUE_MODULES = frozenset({"datetime", "decimal", "uuid", "fractions"})


def resolve(names: Names, node: ast.AST) -> str | None:
    """The dotted name NODE refers to (see hooks.python_source), leaving out
    the builtins the detector does not read."""
    dotted = names.resolve(node)
    head = node
    while isinstance(head, ast.Attribute):
        head = head.value
    if (
        isinstance(head, ast.Name)
        and head.id in _UNREAD_BUILTINS
        and names.lookup(head.id) == head.id
    ):
        return None
    return dotted


class ModuleValues:
    """One module's functions, classes and constants, and what its values are."""

    def __init__(self, module: ast.Module, project_modules: frozenset[str]) -> None:
        self.module = module
        self.names = module_names(module)
        self.project_modules = project_modules
        self.functions = {
            node.name: node for node in module.body if isinstance(node, FUNCTIONS)
        }
        self.classes = {
            node.name: node for node in module.body if isinstance(node, ast.ClassDef)
        }
        self.constants = {
            target.id: node.value
            for node in module.body
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        self.literal_constants: frozenset[str] = frozenset()
        self.literal_constants = frozenset(
            name for name, value in self.constants.items() if self.is_literal(value)
        )

    def resolve(self, node: ast.AST) -> str | None:
        """The dotted name NODE refers to through the module's imports alone."""
        return resolve(self.names, node)

    def definition(
        self, name: str, function: Function | None
    ) -> Function | ast.ClassDef | None:
        if function is not None:
            for node in own_nodes(function.body):
                if isinstance(node, (*FUNCTIONS, ast.ClassDef)) and (node.name == name):
                    return node
        return self.functions.get(name) or self.classes.get(name)

    def stub(
        self, value: ast.expr, function: Function | None, attribute: str | None = None
    ) -> str | None:
        """What VALUE is when a test patches it in, in FUNCTION, for the
        attribute ATTRIBUTE (None when unknown), if it stands in for code: a
        lambda or a stub of fixed values, a stand-in class, or a function
        written in the test that replaces the real one: it calls nothing (it
        only sets or returns values), or it calls the real one but raises in
        its place on some calls (a failure injected by hand). What passes: a
        function doing work of its own (reading a real file, calling the
        project), a wrapper that observes and calls the real one, one that
        raises ImportError to hide a module (configuration of what is
        installed)."""
        if isinstance(value, ast.Lambda):
            # A lambda that calls nothing hands back what the test chose (a
            # literal, a variable of the test, a clock it advances by hand).
            if self.is_literal(value.body) or _does_no_work(value.body):
                return f"a lambda returning `{shorten(ast.unparse(value.body))}`"
            return None
        if isinstance(value, ast.Name):
            definition = self.definition(value.id, function)
            if isinstance(definition, ast.ClassDef) and (
                self._is_stub_class(definition) or self._is_double(definition)
            ):
                return f"the stand-in class `{value.id}`"
            if isinstance(definition, FUNCTIONS):
                if self._is_stub_function(definition):
                    return (
                        f"the stub `{value.id}`, which only returns fixed values or "
                        "raises"
                    )
                if attribute is None:
                    return None
                if self._calls_original(definition, function, attribute):
                    if _injects_failures(definition):
                        return (
                            f"`{value.id}`, which raises in place of the real "
                            f"`{attribute}` on some calls"
                        )
                    clock = _advanced_hand_clock(definition, function)
                    if clock:
                        return (
                            f"`{value.id}`, which advances `{clock}` by hand before "
                            f"the real `{attribute}` (a clock a lambda patched in "
                            "reads)"
                        )
                elif not _calls_anything(definition):
                    return (
                        f"`{value.id}`, which calls nothing: it does none of the "
                        f"real `{attribute}`'s work"
                    )
            return None
        if isinstance(value, ast.Attribute) and self._opened_by(value.value, function):
            return (
                f"`{ast.unparse(value)}`, a method of a file the test opened: the "
                "file's content in place of the real code's work"
            )
        return self.stand_in(value, function)

    def _opened_by(self, node: ast.expr, function: Function | None) -> bool:
        """NODE is a name FUNCTION binds to `open(...)` (the builtin)."""
        if function is None or not isinstance(node, ast.Name):
            return False
        if self.names.lookup("open") != "open":
            return False
        return any(
            isinstance(statement, ast.Assign)
            and isinstance(statement.value, ast.Call)
            and isinstance(statement.value.func, ast.Name)
            and statement.value.func.id == "open"
            and any(
                isinstance(target, ast.Name) and target.id == node.id
                for target in statement.targets
            )
            for statement in own_nodes(function.body)
        )

    def _calls_original(
        self, replacement: Function, function: Function | None, attribute: str
    ) -> bool:
        """REPLACEMENT calls the real ATTRIBUTE: through a name FUNCTION (or
        the module) bound to it before patching (`real_open = builtins.open`),
        or as an attribute of that name (`os.fdopen(...)`)."""
        bound = self.constants.copy()
        if function is not None:
            for node in own_nodes(function.body):
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            bound[target.id] = node.value
        originals = {
            name
            for name, value in bound.items()
            if isinstance(value, ast.Attribute) and value.attr == attribute
        }
        for node in ast.walk(replacement):
            if not isinstance(node, ast.Call):
                continue
            called = node.func
            if isinstance(called, ast.Name) and called.id in originals:
                return True
            if isinstance(called, ast.Attribute) and called.attr == attribute:
                return True
        return False

    def stand_in(self, value: ast.expr, function: Function | None) -> str | None:
        """An object that only stands in for a real one: built from literals."""
        if not isinstance(value, ast.Call):
            return None
        callee = self.resolve(value.func)
        arguments = [*value.args, *(keyword.value for keyword in value.keywords)]
        if callee in _STAND_IN_TYPES and arguments:
            if all(self.is_literal(argument) for argument in arguments):
                return f"a `{ast.unparse(value.func)}` of literals"
            return None
        if isinstance(value.func, ast.Name):
            definition = self.definition(value.func.id, function)
            if (
                isinstance(definition, ast.ClassDef)
                and self._is_stub_class(definition)
                and (
                    _has_methods(definition)
                    or self.literal_arguments(value, frozenset())
                )
            ):
                return f"an instance of the stand-in class `{value.func.id}`"
        return None

    def is_idle(self, definition: Function | ast.ClassDef) -> bool:
        """A function that only returns fixed values or raises; a class that
        is a stub or a double, or has no method but `__init__` (an exception
        or marker type standing in for another)."""
        if isinstance(definition, ast.ClassDef):
            return (
                not _has_methods(definition)
                or self._is_stub_class(definition)
                or self._is_double(definition)
            )
        return self._is_stub_function(definition)

    def _is_stub_function(self, function: Function) -> bool:
        body = _without_docstring(function.body)
        return bool(body) and all(self._is_stub_statement(node) for node in body)

    def _is_stub_statement(self, node: ast.stmt) -> bool:
        if isinstance(node, (ast.Pass, ast.Raise)):
            return True
        if isinstance(node, ast.Expr):
            return isinstance(node.value, ast.Constant)
        if isinstance(node, ast.Return):
            return (
                node.value is None
                or self.is_fixed_value(node.value)
                or self._makes_double(node.value)
            )
        return False

    def _makes_double(self, value: ast.expr) -> bool:
        """An instance of a hand-written double the module defines."""
        if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)):
            return False
        cls = self.classes.get(value.func.id)
        return cls is not None and self._is_double(cls)

    def _is_double(self, cls: ast.ClassDef) -> bool:
        raisers = frozenset(
            name
            for name, function in self.functions.items()
            if always_raises(function.body)
        )
        return (
            canned_class(cls, self.names, self.is_literal, raisers, patched_in=True)
            is not None
        )

    def _is_stub_class(self, cls: ast.ClassDef) -> bool:
        members = [
            node
            for node in _without_docstring(cls.body)
            if not isinstance(node, ast.Pass)
        ]
        return bool(members) and all(self._is_stub_member(node) for node in members)

    def _is_stub_member(self, node: ast.stmt) -> bool:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            return node.value is not None and self.is_literal(node.value)
        if isinstance(node, FUNCTIONS):
            if node.name == "__init__":
                return all(
                    isinstance(statement, (ast.Assign, ast.AnnAssign, ast.Pass))
                    for statement in _without_docstring(node.body)
                )
            return self._is_stub_function(node)
        return False

    def is_literal(self, node: ast.expr, names: frozenset[str] = frozenset()) -> bool:
        """A value written out in the source: constants and displays of them.

        NAMES (and the module's literal constants) count as literals too.
        """
        if isinstance(node, ast.Constant):
            return True
        if isinstance(node, ast.Name):
            return node.id in names or node.id in self.literal_constants
        if isinstance(node, ast.UnaryOp):
            return self.is_literal(node.operand, names)
        if isinstance(node, ast.BinOp):
            return self.is_literal(node.left, names) and self.is_literal(
                node.right, names
            )
        if isinstance(node, ast.JoinedStr):
            return all(isinstance(part, ast.Constant) for part in node.values)
        if isinstance(node, ast.Dict):
            return all(
                key is not None and self.is_literal(key, names) for key in node.keys
            ) and all(self.is_literal(value, names) for value in node.values)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return all(self.is_literal(element, names) for element in node.elts)
        if isinstance(node, ast.Call):
            callee = self.resolve(node.func)
            value_type = callee is not None and (
                callee.split(".")[0] in _VALUE_MODULES or callee in _DICT_TYPES
            )
            return value_type and self.literal_arguments(node, names)
        return False

    def literal_arguments(self, call: ast.Call, names: frozenset[str]) -> bool:
        return all(self.is_literal(argument, names) for argument in call.args) and all(
            keyword.arg is not None and self.is_literal(keyword.value, names)
            for keyword in call.keywords
        )

    def is_fixed_value(self, node: ast.expr) -> bool:
        """A literal, or a library's value built from literals (`os.terminal_size((80, 24))`)."""
        if self.is_literal(node):
            return True
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and self.is_literal(node.func.value)
            and self.literal_arguments(node, frozenset())
        ):
            return True  # a literal's own method: `"...".encode()`, `"a,b".split(",")`
        if not isinstance(node, ast.Call) or not (node.args or node.keywords):
            return False
        callee = self.resolve(node.func)
        return (
            callee is not None
            and not callee.startswith(".")
            and callee.split(".")[0] not in self.project_modules
            and self.literal_arguments(node, frozenset())
        )

    def records(
        self, node: ast.expr, names: frozenset[str] = frozenset()
    ) -> str | None:
        """What literal records NODE is, or None when it is not literal records."""
        if isinstance(node, ast.Call) and self.is_json_text(node):
            return "returns placeholder records parsed from a JSON string literal"
        if isinstance(node, ast.Dict) and self._literal_but_one_offset(node, names):
            return "returns a literal dict of placeholder values"
        if not self.is_literal(node, names):
            return None
        if isinstance(node, ast.Dict) and node.keys:
            return "returns a literal dict of placeholder values"
        if isinstance(node, ast.Call) and (node.args or node.keywords):
            if self.resolve(node.func) in _DICT_TYPES:
                return "returns a literal dict of placeholder values"
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            rows = [
                element
                for element in node.elts
                if isinstance(element, (ast.Dict, ast.List, ast.Tuple))
            ]
            if any(isinstance(row, ast.Dict) for row in rows) or len(rows) >= 2:
                kind = type(node).__name__.lower()
                records = "record" if len(node.elts) == 1 else "records"
                return f"returns a literal {kind} of {len(node.elts)} placeholder {records}"
        return None

    def _literal_but_one_offset(self, node: ast.Dict, names: frozenset[str]) -> bool:
        """A dict of literals but for one value offset from a name by a number
        (`"expires_at": fake_time + 3600`, a token's expiry): the record is
        still written out by hand. Three literal values at least, so that a
        pair of settings around a computed one stays configuration."""
        if not all(
            key is not None and self.is_literal(key, names) for key in node.keys
        ):
            return False
        computed = [value for value in node.values if not self.is_literal(value, names)]
        return (
            len(computed) == 1
            and len(node.values) - 1 >= 3
            and _offset_from_a_name(computed[0])
        )

    def is_json_text(self, call: ast.Call) -> bool:
        callee = self.resolve(call.func)
        text = constant_string(call.args[0]) if call.args else None
        return callee == "json.loads" and text is not None and text.strip()[:1] in "{["


def constant_string(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _offset_from_a_name(node: ast.expr) -> bool:
    """`name + 3600`, `3600 + name`, `name - 60`."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub))):
        return False
    sides = (node.left, node.right)
    return any(isinstance(side, ast.Name) for side in sides) and any(
        isinstance(side, ast.Constant)
        and isinstance(side.value, (int, float))
        and not isinstance(side.value, bool)
        for side in sides
    )


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    if body and isinstance(body[0], ast.Expr) and constant_string(body[0].value):
        return body[1:]
    return body


# Exceptions a replacement raises to hide a module: configuration, not a fake.
_HIDES_A_MODULE = frozenset({"ImportError", "ModuleNotFoundError"})


def _injects_failures(function: Function) -> bool:
    """FUNCTION raises an exception of its own (not a re-raise, not one that
    hides a module)."""
    for node in own_nodes(function.body):
        if not isinstance(node, ast.Raise) or node.exc is None:
            continue
        raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        if not (isinstance(raised, ast.Name) and raised.id in _HIDES_A_MODULE):
            return True
    return False


def _advanced_hand_clock(
    replacement: Function, function: Function | None
) -> str | None:
    """The name REPLACEMENT writes (`clock[0] += 2`) that a lambda FUNCTION
    patches in reads (`monkeypatch.setattr(..., "time", lambda: clock[0])`):
    time made by hand, the real call only wrapped around it."""
    if function is None:
        return None
    read_by_patched_lambdas = {
        node.id
        for call in own_nodes(function.body)
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "setattr"
        and call.args
        and isinstance(call.args[-1], ast.Lambda)
        and _does_no_work(call.args[-1].body)
        for node in ast.walk(call.args[-1].body)
        if isinstance(node, ast.Name)
    }
    for node in own_nodes(replacement.body):
        targets = (
            [node.target]
            if isinstance(node, ast.AugAssign)
            else node.targets if isinstance(node, ast.Assign) else []
        )
        for target in targets:
            root = target
            while isinstance(root, (ast.Subscript, ast.Attribute)):
                root = root.value
            if (
                root is not target
                and isinstance(root, ast.Name)
                and root.id in read_by_patched_lambdas
            ):
                return root.id
    return None


def _calls_anything(function: Function) -> bool:
    """A call in FUNCTION other than making the exception it raises."""
    raised = {
        id(node.exc)
        for node in own_nodes(function.body)
        if isinstance(node, ast.Raise) and node.exc is not None
    }
    return any(
        isinstance(node, ast.Call) and id(node) not in raised
        for node in own_nodes(function.body)
    )


def _has_methods(cls: ast.ClassDef) -> bool:
    """More than an __init__: a class of only __init__ is a bag of the values
    it is given, a stand-in only when they are literals."""
    return any(
        isinstance(node, FUNCTIONS) and node.name != "__init__" for node in cls.body
    )


def _does_no_work(node: ast.expr) -> bool:
    return not any(
        isinstance(child, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom, ast.Lambda))
        for child in ast.walk(node)
    )


def shorten(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."
