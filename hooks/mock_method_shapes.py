"""One method of a class that may be a hand-written double, read statement
by statement (hooks.mock_doubles judges the class from its methods' shapes).

A method's shape is "returns" (canned values: literals, attributes of self,
a class built from literals and its arguments filled into literal text),
"records" (its arguments set or appended to state the class declares, or to
a list of the test), "delivers" (literals handed to the callbacks it keeps),
"raises", or "nothing"; None when it does real work (any other call).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

from hooks.python_source import Names

Function = ast.FunctionDef | ast.AsyncFunctionDef
RECORDERS = frozenset(
    {"append", "add", "extend", "update", "appendleft", "insert", "setdefault"}
    | {"discard", "remove"}
)
METHOD_DECORATORS = frozenset({"staticmethod", "classmethod"})
PROPERTY = frozenset({"property", "functools.cached_property"})


def does_nothing(statement: ast.stmt) -> bool:
    """`pass`, `...` or a docstring."""
    return isinstance(statement, ast.Pass) or (
        isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
    )


@dataclass(frozen=True)
class OwnMethods:
    """The class being judged: a call of one of its own methods stays inside
    the double (`MockKeyring.get_credential(...)` from `get_password`)."""

    class_name: str
    method_names: frozenset[str]


class MethodShape:
    """One method's body, read statement by statement."""

    def __init__(
        self,
        method: Function,
        names: Names,
        is_literal: Callable[[ast.expr], bool],
        raisers: frozenset[str],
        state: frozenset[str],
        own: OwnMethods,
    ) -> None:
        self.method = method
        self.own = own
        self.state = state
        self.names = names
        self.is_literal = is_literal
        self.raisers = raisers
        arguments = [
            *method.args.posonlyargs,
            *method.args.args,
            *method.args.kwonlyargs,
        ]
        self.receiver = arguments[0].arg if arguments else None
        if method.args.vararg:
            arguments.append(method.args.vararg)
        if method.args.kwarg:
            arguments.append(method.args.kwarg)
        self.arguments = frozenset(argument.arg for argument in arguments)
        self.canned_locals: set[str] = set()
        self.loop_names: set[str] = set()
        self.flags_set_by_hand: set[str] = set()
        self.outer_names: set[str] = set()
        self.found: set[str] = set()

    def shape(self) -> str | None:
        """ "returns", "records", "delivers", "raises" or "nothing"; None for
        real work."""
        if not self._decorators_allowed():
            return None
        if not all(self._statement(statement) for statement in self.method.body):
            return None
        for shape in ("returns", "records", "delivers", "raises"):
            if shape in self.found:
                return shape
        return "nothing"

    def _decorators_allowed(self) -> bool:
        for decorator in self.method.decorator_list:
            dotted = self.names.resolve_or_written(decorator) or ""
            if dotted in METHOD_DECORATORS:
                if dotted == "staticmethod":
                    self.receiver = None
            elif not (dotted in PROPERTY or getattr(decorator, "attr", "") == "setter"):
                return False
        return True

    def _statement(self, statement: ast.stmt) -> bool:
        if does_nothing(statement):
            return True
        if isinstance(statement, ast.Raise):
            self.found.add("raises")
            return True
        if isinstance(statement, (ast.Nonlocal, ast.Global)):
            self.outer_names.update(statement.names)
            return True
        if isinstance(statement, ast.Return):
            if statement.value is None or self._canned(statement.value):
                self.found.add("returns")
                return True
            return False
        if isinstance(statement, ast.If):
            return self._from_arguments(statement.test) and all(
                self._statement(inner) for inner in statement.body + statement.orelse
            )
        if (
            isinstance(statement, ast.For)
            and isinstance(statement.target, ast.Name)
            and not statement.orelse
            and self._from_arguments(statement.iter)
        ):
            # Over what the class (or another of the file) keeps: its callbacks.
            self.loop_names.add(statement.target.id)
            return all(self._statement(inner) for inner in statement.body)
        if isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            return self._assignment(statement)
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            return self._call(statement.value)
        return False

    def _assignment(
        self, statement: ast.Assign | ast.AugAssign | ast.AnnAssign
    ) -> bool:
        targets = (
            statement.targets
            if isinstance(statement, ast.Assign)
            else [statement.target]
        )
        value = statement.value
        if value is None:
            return True
        for target in targets:
            if isinstance(target, ast.Name) and target.id not in self.outer_names:
                if isinstance(statement, ast.AugAssign) or not (
                    self._canned(value) or self._own_call(value)
                ):
                    return False
                self.canned_locals.add(target.id)
            elif self._is_record_target(target) and self._from_arguments(value):
                self.found.add("records")
            else:
                return False
        return True

    def _is_record_target(self, target: ast.expr) -> bool:
        """An attribute of self, or a name of the test's scope."""
        if isinstance(target, (ast.Tuple, ast.List)):
            return all(self._is_record_target(element) for element in target.elts)
        if isinstance(target, ast.Name):
            return target.id in self.outer_names
        if isinstance(target, ast.Subscript):
            return self._in_state(target.value)
        return self._in_state(target)

    def _call(self, call: ast.Call) -> bool:
        if isinstance(call.func, ast.Name) and call.func.id in self.raisers:
            self.found.add("raises")
            return True
        if (
            isinstance(call.func, ast.Name)
            and call.func.id in self.loop_names
            and all(self.is_literal(argument) for argument in call.args)
            and all(self.is_literal(keyword.value) for keyword in call.keywords)
        ):
            self.found.add("delivers")
            return True
        if not (
            isinstance(call.func, ast.Attribute)
            and call.func.attr in RECORDERS
            and self._records_into(call.func.value)
        ):
            return False
        if all(self._from_arguments(argument) for argument in call.args) and all(
            self._from_arguments(keyword.value) for keyword in call.keywords
        ):
            self.found.add("records")
            return True
        return False

    def _records_into(self, receiver: ast.expr) -> bool:
        """Self's state, or a list or set of the enclosing test (not an argument)."""
        if self._in_state(receiver):
            return True
        return (
            isinstance(receiver, ast.Name)
            and receiver.id not in self.arguments
            and receiver.id not in self.canned_locals
            and self.names.resolve(receiver) is None
        )

    def _in_state(self, node: ast.expr) -> bool:
        """`self.X` (or `self.X[...]`, `self.X.Y`) for a declared attribute X."""
        while isinstance(node, (ast.Attribute, ast.Subscript)):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == self.receiver
            ):
                return node.attr in self.state
            node = node.value
        return False

    def _on_receiver(self, node: ast.expr) -> bool:
        while isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        return (
            isinstance(node, ast.Name)
            and self.receiver is not None
            and node.id == self.receiver
        )

    def _canned(self, node: ast.expr) -> bool:
        """A value fixed in the test: not computed from the arguments."""
        if self.is_literal(node):
            return True
        if isinstance(node, ast.Name):
            return node.id in self.canned_locals or node.id == self.receiver
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            if isinstance(node, ast.Subscript) and not self._canned(node.slice):
                return False
            return (
                self._on_receiver(node) or self._on_canned_local(node)
            ) and self._canned_path(node)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return all(self._canned(element) for element in node.elts)
        if isinstance(node, ast.Dict):
            return all(
                key is not None and self._canned(key) for key in node.keys
            ) and all(self._canned(value) for value in node.values)
        if isinstance(node, ast.Compare):
            return all(self._canned(part) for part in (node.left, *node.comparators))
        if isinstance(node, ast.BoolOp):
            return all(self._canned(value) for value in node.values)
        if isinstance(node, ast.UnaryOp):
            return self._canned(node.operand)
        if isinstance(node, ast.Lambda):
            return self._reads_a_flag_of_the_test(node)
        if isinstance(node, ast.Call):
            # A class built from literals: `Response(200)`, `Credential("u", "p")`.
            callee = (
                node.func.attr
                if isinstance(node.func, ast.Attribute)
                else (node.func.id if isinstance(node.func, ast.Name) else "")
            )
            return (
                callee[:1].isupper()
                and bool(node.args or node.keywords)
                and all(self._literal_or_template(argument) for argument in node.args)
                and all(
                    self._literal_or_template(keyword.value)
                    for keyword in node.keywords
                )
            )
        return False

    def _reads_a_flag_of_the_test(self, node: ast.Lambda) -> bool:
        """A lambda that calls nothing and reads a variable of the enclosing
        test (not an argument, not an import): the test sets the answer."""
        if any(
            isinstance(child, (ast.Call, ast.Await, ast.Lambda))
            for child in ast.walk(node.body)
        ):
            return False
        own = {argument.arg for argument in node.args.args} | self.arguments
        read = {
            child.id
            for child in ast.walk(node.body)
            if isinstance(child, ast.Name)
            and child.id not in own
            and child.id != self.receiver
            and self.names.resolve(child) is None
        }
        self.flags_set_by_hand |= read
        return bool(read)

    def _literal_or_template(self, node: ast.expr) -> bool:
        """A literal, or an f-string filling a literal text with the arguments
        (`f"{user}@{system} pa55word"`): canned text whatever it is asked."""
        if self.is_literal(node):
            return True
        return isinstance(node, ast.JoinedStr) and all(
            isinstance(part, ast.Constant)
            or (
                isinstance(part, ast.FormattedValue)
                and isinstance(part.value, ast.Name)
                and part.value.id in self.arguments
            )
            for part in node.values
        )

    def _own_call(self, node: ast.expr) -> bool:
        """A call of another method of the same class (through self or the
        class's name) with values of the arguments: its result is as canned
        as that method, which is judged with the others."""
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in (self.receiver, self.own.class_name)
            and node.func.attr in self.own.method_names
        ):
            return False
        return all(self._from_arguments(argument) for argument in node.args) and all(
            self._from_arguments(keyword.value) for keyword in node.keywords
        )

    def _on_canned_local(self, node: ast.expr) -> bool:
        while isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        return isinstance(node, ast.Name) and node.id in self.canned_locals

    def _canned_path(self, node: ast.expr) -> bool:
        while isinstance(node, (ast.Attribute, ast.Subscript)):
            if isinstance(node, ast.Subscript) and not self._canned(node.slice):
                return False
            node = node.value
        return True

    def _from_arguments(self, node: ast.expr) -> bool:
        """A value made of the arguments, literals and self, with no call."""
        return not any(
            isinstance(
                child,
                (
                    ast.Call,
                    ast.Lambda,
                    ast.Await,
                    ast.Yield,
                    ast.YieldFrom,
                    ast.NamedExpr,
                    ast.ListComp,
                    ast.SetComp,
                    ast.DictComp,
                    ast.GeneratorExp,
                ),
            )
            for child in ast.walk(node)
        )
