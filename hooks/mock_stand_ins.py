"""Where a test file defines what it patches in: the stand-in itself.

A patch site says that code was replaced; the definition of the function or
class it patches in is the hand-written double, wherever the file defines it
(`def noop(*args, **kwargs): pass` at module level, patched in for
`module.sleep` by a fixture; `class State(dict): restored = False`, an
instance of which is assigned onto the object under test). hooks.mock_facts
finds the patch sites and asks here for the definition's finding.
"""

from __future__ import annotations

import ast

from hooks.mock_rules import (
    HAND_WRITTEN_DOUBLE,
    MOCK_OBJECT,
    MODULE_SCOPE,
    REAL_OBJECT,
    Finding,
)
from hooks.mock_values import FUNCTIONS, Function, ModuleValues
from hooks.python_source import own_nodes


def patched_in_definition(
    value: ast.expr,
    function: Function | None,
    qualname: str,
    values: ModuleValues,
    path: str,
    patched: str,
    line: int,
) -> Finding | None:
    """The finding on the definition of what VALUE patches in for PATCHED at
    LINE, in FUNCTION (named QUALNAME): a class the file defines (or an
    instance of one), or a function it defines outside FUNCTION. None for
    anything else: a lambda, or a function FUNCTION defines, is part of the
    patch site and its finding."""
    name = value.func if isinstance(value, ast.Call) else value
    if not isinstance(name, ast.Name):
        return None
    local = _local_definition(name.id, function)
    definition = local or values.functions.get(name.id) or values.classes.get(name.id)
    if definition is None or (local is not None and isinstance(local, FUNCTIONS)):
        # A function the patching function defines is part of the patch site.
        return None
    kind = "class" if isinstance(definition, ast.ClassDef) else "function"
    owner = qualname if local is not None and qualname != MODULE_SCOPE else None
    first = min(
        [definition.lineno, *(node.lineno for node in definition.decorator_list)]
    )
    attribute = patched.rpartition(".")[2]
    return Finding(
        path,
        first,
        HAND_WRITTEN_DOUBLE,
        f"{owner}.{definition.name}" if owner else definition.name,
        f"{kind} `{definition.name}` stands in for `{patched}`: the test patches "
        f"it in at line {line}",
        f"the real `{attribute}`: install what it needs as a test dependency, or "
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
            for node in own_nodes(method.body):
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
