"""Lines of a Python file that only another interpreter or platform runs.

A `# pragma: no cover` there hides nothing the test run could execute: the
other branch of `if sys.version_info ...`, `if sys.platform ...`, `os.name`,
`platform.system()`, `if TYPE_CHECKING:`, and the fallback of `try: import X
except ImportError:`. These facts come from the AST: the statement (or
clause) a line belongs to decides, not the text on the line.
"""

from __future__ import annotations

import ast

# Expressions whose value is fixed by the interpreter and platform.
_INTERPRETER_FACTS = frozenset(
    {
        "sys.version_info",
        "sys.platform",
        "sys.implementation",
        "os.name",
        "platform.system",
        "platform.python_implementation",
    }
)
_TYPE_CHECKING = frozenset({"TYPE_CHECKING", "typing.TYPE_CHECKING"})
_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError"})


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        owner = _dotted(node.value)
        return f"{owner}.{node.attr}" if owner else None
    return None


def _is_interpreter_fact(node: ast.expr) -> bool:
    """sys.version_info, sys.version_info[0], sys.version_info.major,
    platform.system(), sys.platform.startswith('win') and the like."""
    while isinstance(node, (ast.Subscript, ast.Call, ast.Attribute)):
        name = _dotted(node) if isinstance(node, ast.Attribute) else None
        if name in _INTERPRETER_FACTS:
            return True
        node = node.func if isinstance(node, ast.Call) else node.value
    return _dotted(node) in _INTERPRETER_FACTS


def interpreter_condition(
    test: ast.expr, flags: dict[str, str] | None = None
) -> str | None:
    """What TEST depends on, when it depends only on the interpreter and
    platform. FLAGS: module names bound to such a condition (`PY_3_14_PLUS =
    sys.version_info[:2] >= (3, 14)`) -> what they depend on."""
    flags = flags or {}
    if _dotted(test) in _TYPE_CHECKING:
        return "TYPE_CHECKING"
    if isinstance(test, ast.Name) and test.id in flags:
        return flags[test.id]
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return interpreter_condition(test.operand, flags)
    if isinstance(test, ast.BoolOp):
        conditions = [interpreter_condition(value, flags) for value in test.values]
        return conditions[0] if all(conditions) else None
    if isinstance(test, ast.Compare):
        sides = [test.left, *test.comparators]
        facts = [side for side in sides if _is_interpreter_fact(side)]
        constants = all(
            _is_interpreter_fact(side) or isinstance(side, (ast.Constant, ast.Tuple))
            for side in sides
        )
        return _fact_name(facts[0]) if facts and constants else None
    if isinstance(test, ast.Call) and _is_interpreter_fact(test):
        return _fact_name(test)
    return None


def _fact_name(node: ast.expr) -> str:
    while not (isinstance(node, ast.Attribute) and _dotted(node) in _INTERPRETER_FACTS):
        node = node.func if isinstance(node, ast.Call) else node.value
    return _dotted(node)


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    caught = handler.type
    names = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    return bool(names) and all(
        name is not None and _dotted(name) in _IMPORT_ERRORS for name in names
    )


def _interpreter_flags(tree: ast.Module) -> dict[str, str]:
    """Module-level names this file binds to an interpreter condition, in
    order, so a flag built from another flag counts too."""
    flags: dict[str, str] = {}
    for statement in tree.body:
        if (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
        ):
            condition = interpreter_condition(statement.value, flags)
            if condition:
                flags[statement.targets[0].id] = condition
    return flags


def _lines(node: ast.AST) -> range:
    return range(node.lineno, (node.end_lineno or node.lineno) + 1)


def interpreter_only_lines(source: bytes) -> dict[int, str]:
    """Line -> why only another interpreter or platform may run it; {} when
    SOURCE does not parse (nothing is known, so nothing is excused)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return {}
    reasons: dict[int, str] = {}
    flags = _interpreter_flags(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            condition = interpreter_condition(node.test, flags)
            if condition:
                for line in _lines(node):
                    reasons.setdefault(line, f"a branch on {condition}")
        elif isinstance(node, ast.Try):
            fallbacks = [
                handler for handler in node.handlers if _catches_import_error(handler)
            ]
            if not fallbacks:
                continue
            for handler in fallbacks:
                for line in _lines(handler):
                    reasons.setdefault(line, "an `except ImportError` fallback")
            for statement in node.body:
                if isinstance(statement, (ast.Import, ast.ImportFrom)):
                    for line in _lines(statement):
                        reasons.setdefault(
                            line, "an import guarded by `except ImportError`"
                        )
    return reasons
