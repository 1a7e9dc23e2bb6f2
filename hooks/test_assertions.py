"""What a test asserts, read statically from its syntax tree: the facts only.

For one test function: every check it makes (`assert`, pytest.raises /
warns / deprecated_call, unittest's self.assert* and self.fail, pytest.fail,
calls to assert_* functions, and the checks of helpers the test calls in the
project's own test code), each with how many cases it stands for (a loop over
a literal table repeats it) and, when it checks nothing, why: a constant or a
tautology, an enclosing handler that swallows AssertionError, or an earlier
`return`. Beside them: the exceptions each raises-check expects, the
tolerances of approximate comparisons, and the expressions the test only
computes or prints (an assertion turned into one is found there).

hooks/forbid_weakened_tests.py compares these facts before and after a change.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from hooks.python_source import module_names

Function = ast.FunctionDef | ast.AsyncFunctionDef
Resolve = Callable[[ast.expr], "str | None"]

RAISES_CHECKS = frozenset({"pytest.raises", "pytest.warns", "pytest.deprecated_call"})
UNITTEST_RAISES_CHECKS = frozenset(
    {
        "assertRaises",
        "assertRaisesRegex",
        "assertRaisesRegexp",
        "assertWarns",
        "assertWarnsRegex",
    }
)
# unittest methods whose pattern argument plays the part of match=.
UNITTEST_PATTERN_CHECKS = frozenset(
    {"assertRaisesRegex", "assertRaisesRegexp", "assertWarnsRegex"}
)
FAIL_CALLS = frozenset({"pytest.fail"})
SWALLOWED_EXCEPTIONS = frozenset(
    {
        "AssertionError",
        "Exception",
        "BaseException",
        "builtins.AssertionError",
        "builtins.Exception",
        "builtins.BaseException",
    }
)
SUPPRESS = frozenset({"contextlib.suppress"})
LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}
)
# unittest checks of two values that hold whenever both are the same expression.
SAME_VALUE_CHECKS = frozenset(
    {
        "assertEqual",
        "assertEquals",
        "assertIs",
        "assertListEqual",
        "assertTupleEqual",
        "assertDictEqual",
        "assertSetEqual",
        "assertSequenceEqual",
        "assertMultiLineEqual",
        "assertCountEqual",
        "assertAlmostEqual",
        "assertGreaterEqual",
        "assertLessEqual",
        "assertIn",
    }
)
# Approximate comparisons and the keywords that set how close is close enough:
# keyword -> (default, whether a larger value is looser).
TOLERANCES: dict[str, dict[str, tuple[object, bool]]] = {
    "pytest.approx": {"rel": (1e-6, True), "abs": (1e-12, True)},
    "math.isclose": {"rel_tol": (1e-9, True), "abs_tol": (0.0, True)},
    "numpy.isclose": {"rtol": (1e-5, True), "atol": (1e-8, True)},
    "numpy.allclose": {"rtol": (1e-5, True), "atol": (1e-8, True)},
    "numpy.testing.assert_allclose": {"rtol": (1e-7, True), "atol": (0.0, True)},
    "numpy.testing.assert_almost_equal": {"decimal": (7, False)},
    "numpy.testing.assert_array_almost_equal": {"decimal": (6, False)},
    "assertAlmostEqual": {"places": (7, False), "delta": (0.0, True)},
    "assertAlmostEquals": {"places": (7, False), "delta": (0.0, True)},
}
# The tolerance keywords that may also be given by position: index -> keyword.
POSITIONAL_TOLERANCES: dict[str, dict[int, str]] = {
    "pytest.approx": {1: "rel", 2: "abs"},
    "numpy.isclose": {2: "rtol", 3: "atol"},
    "numpy.allclose": {2: "rtol", 3: "atol"},
    "numpy.testing.assert_allclose": {2: "rtol", 3: "atol"},
    "numpy.testing.assert_almost_equal": {2: "decimal"},
    "numpy.testing.assert_array_almost_equal": {2: "decimal"},
    "assertAlmostEqual": {2: "places"},
    "assertAlmostEquals": {2: "places"},
}
# pandas.testing's assert_*_equal: rtol/atol, and check_* flags that are on by default.
PANDAS_TOLERANCES = {"rtol": (1e-5, True), "atol": (1e-8, True)}
PANDAS_MODULES = ("pandas.testing.", "pandas._testing.", "pandas.util.testing.")
HELPER_DEPTH = 3

VACUOUS = "vacuous-assertion"
SWALLOWED = "swallowed-assertion"
EARLY_RETURN = "early-return"


@dataclass(frozen=True)
class Check:
    """One assertion, where it is written, and why it checks nothing if it doesn't."""

    kind: str
    line: int
    source: str
    # Cases it stands for: a loop over a literal table runs it once per row.
    weight: int = 1
    # The rule it falls under when it checks nothing (VACUOUS, SWALLOWED,
    # EARLY_RETURN), and why; None when it checks.
    weakness: str | None = None
    why: str = ""
    # What an `assert` tests, to recognise it turned into an expression or a print.
    tested: str | None = None
    # Its syntax with every literal blanked: equal for an edited expected value.
    shape: str = ""
    # Inside a loop over a literal table: the assertion as written for each
    # row (`assert v is not x` over (None, True) is `assert v is not None`,
    # `assert v is not True`), so a removed copy of one row is recognised.
    instances: frozenset[str] = frozenset()

    @property
    def effective(self) -> bool:
        return self.weakness is None


@dataclass(frozen=True)
class ExpectedRaise:
    """A pytest.raises / assertRaises check: the exceptions it expects, its pattern."""

    callee: str
    line: int
    # Dotted names of the expected exceptions; None when they are not names.
    exceptions: frozenset[str] | None
    # The match= pattern (or assertRaisesRegex's) as written, None without one.
    match: str | None


@dataclass(frozen=True)
class Tolerance:
    """An approximate comparison and the literal tolerance keywords it is given."""

    callee: str
    line: int
    source: str
    settings: tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class TestFacts:
    checks: tuple[Check, ...]
    raises: tuple[ExpectedRaise, ...]
    tolerances: tuple[Tolerance, ...]
    # (line, source) of expressions computed and dropped, or printed or logged.
    expressions: tuple[tuple[int, str], ...]
    # Nothing but pass, ... or a docstring.
    empty_body: bool

    @property
    def strength(self) -> int:
        """Cases checked: the weights of the assertions that check something."""
        return sum(check.weight for check in self.checks if check.effective)

    def weak_checks(self) -> list[Check]:
        return [check for check in self.checks if not check.effective]


@dataclass(frozen=True)
class _Context:
    weight: int = 1
    weakness: str | None = None
    why: str = ""
    # The loop variable and the rows of the literal table it runs over.
    rows: tuple[str, tuple[ast.expr, ...]] | None = None

    def repeated(self, times: int) -> _Context:
        return dataclasses.replace(self, weight=self.weight * times)

    def weakened(self, weakness: str, why: str) -> _Context:
        if self.weakness is not None:
            return self  # the outer reason already keeps it from checking
        return dataclasses.replace(self, weakness=weakness, why=why)

    def over_rows(self, name: str, rows: tuple[ast.expr, ...]) -> _Context:
        return dataclasses.replace(self, rows=(name, rows))


@dataclass
class ParsedModule:
    """One parsed module as the assertion reader needs it."""

    module: ast.Module
    resolve: Resolve = field(init=False)
    functions: dict[str, Function] = field(init=False)
    methods: dict[str, Function] = field(init=False)

    def __post_init__(self) -> None:
        self.resolve = resolver(self.module)
        self.functions = {
            node.name: node
            for node in self.module.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        self.methods = {}
        for node in ast.walk(self.module):
            if isinstance(node, ast.ClassDef):
                for member in node.body:
                    if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        self.methods.setdefault(member.name, member)


# Finds a helper by the dotted name a call resolves to, in the project's own
# code: the function and the module it is defined in, or None.
FindHelper = Callable[[str], "tuple[Function, ParsedModule] | None"]


def resolver(module: ast.Module) -> Resolve:
    """The one place this hook asks which dotted name an expression (or the
    callee of a call) refers to: `pt.raises` is pytest.raises after
    `import pytest as pt`; a name no import binds counts as written."""
    names = module_names(module)

    def resolve(node: ast.expr) -> str | None:
        return names.resolve_or_written(
            node.func if isinstance(node, ast.Call) else node
        )

    return resolve


def no_helpers(dotted: str) -> None:
    return None


def read_test(
    function: Function, module: ParsedModule, find_helper: FindHelper = no_helpers
) -> TestFacts:
    reader = _TestReader(module, find_helper, depth=0, seen=frozenset())
    reader.statements(function.body, _Context())
    return TestFacts(
        tuple(reader.checks),
        tuple(reader.raises),
        tuple(reader.tolerances),
        tuple(reader.expressions),
        _is_empty_body(function.body),
    )


def _is_empty_body(body: list[ast.stmt]) -> bool:
    return all(
        isinstance(statement, ast.Pass)
        or (
            isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.Constant)
            and (
                statement.value.value is Ellipsis
                or isinstance(statement.value.value, str)
            )
        )
        for statement in body
    )


def _ends_flow(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.Return):
        return True
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        return any(_ends_flow(inner) for inner in statement.body)
    return False


def _literal_rows(
    node: ast.expr, tables: dict[str, tuple[ast.expr, ...]]
) -> tuple[ast.expr, ...] | None:
    """The rows of a literal table, written in place or bound to a name."""
    if isinstance(node, ast.Name):
        return tables.get(node.id)
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)) and not any(
        isinstance(element, ast.Starred) for element in node.elts
    ):
        return tuple(node.elts)
    return None


class _RowSubstitution(ast.NodeTransformer):
    def __init__(self, name: str, row: ast.expr) -> None:
        self.name, self.row = name, row

    def visit_Name(self, node: ast.Name) -> ast.expr:
        return copy.deepcopy(self.row) if node.id == self.name else node


def _instances(
    node: ast.AST, rows: tuple[str, tuple[ast.expr, ...]] | None
) -> frozenset[str]:
    if rows is None:
        return frozenset()
    name, table = rows
    return frozenset(
        _shorten(ast.unparse(_RowSubstitution(name, row).visit(copy.deepcopy(node))))
        for row in table
    )


def always_true(node: ast.expr) -> str | None:
    """Why an assertion of NODE can never fail, or None."""
    if isinstance(node, ast.Constant):
        return "a constant" if node.value else None
    if isinstance(node, (ast.Tuple, ast.List, ast.Set, ast.Dict, ast.JoinedStr)):
        filled = (
            node.keys if isinstance(node, ast.Dict) else getattr(node, "elts", None)
        )
        if filled is None:
            filled = node.values  # an f-string's parts
        return "a non-empty literal, always true" if filled else None
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        same = ast.dump(node.left) == ast.dump(node.comparators[0])
        if same and isinstance(node.ops[0], (ast.Eq, ast.Is, ast.LtE, ast.GtE)):
            return "a tautology: both sides are the same expression"
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
        if any(always_true(value) for value in node.values):
            return "always true: one side of `or` is"
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        if isinstance(node.operand, ast.Constant) and not node.operand.value:
            return "a constant"
    return None


def _unittest_always_true(method: str, arguments: list[ast.expr]) -> str | None:
    if method in ("assertTrue", "assert_") and arguments:
        return always_true(arguments[0])
    if method == "assertFalse" and arguments:
        first = arguments[0]
        if isinstance(first, ast.Constant) and not first.value:
            return "a constant"
    if method == "assertIsNone" and arguments:
        first = arguments[0]
        if isinstance(first, ast.Constant) and first.value is None:
            return "a constant"
    if method == "assertIsNotNone" and arguments:
        first = arguments[0]
        if isinstance(first, ast.Constant) and first.value is not None:
            return "a constant"
    if method in SAME_VALUE_CHECKS and len(arguments) >= 2:
        if ast.dump(arguments[0]) == ast.dump(arguments[1]):
            return "a tautology: both sides are the same expression"
    return None


def _shape(node: ast.AST) -> str:
    """NODE with its literals blanked, but not keyword arguments (a tolerance's
    rel=, a pattern's match=): those say how strict it is, not what is expected."""
    blanked = copy.deepcopy(node)
    settings = {
        id(inner.value) for inner in ast.walk(blanked) if isinstance(inner, ast.keyword)
    }
    for inner in ast.walk(blanked):
        if isinstance(inner, ast.Constant) and id(inner) not in settings:
            inner.value = None
    return ast.dump(blanked)


def _literal(node: ast.expr) -> object:
    """A literal's value; None when it is computed and its strength cannot be read."""
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _shorten(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _TestReader:
    def __init__(
        self,
        module: ParsedModule,
        find_helper: FindHelper,
        depth: int,
        seen: frozenset[str],
    ) -> None:
        self.module = module
        self.find_helper = find_helper
        self.depth = depth
        self.seen = seen
        self.checks: list[Check] = []
        self.raises: list[ExpectedRaise] = []
        self.tolerances: list[Tolerance] = []
        self.expressions: list[tuple[int, str]] = []
        # Names the test binds to a literal table: `values = (None, True)`.
        self.tables: dict[str, tuple[ast.expr, ...]] = {}

    def resolve(self, node: ast.expr) -> str | None:
        return self.module.resolve(node)

    def statements(self, body: Iterable[ast.stmt], context: _Context) -> None:
        returned_at: int | None = None
        for statement in body:
            inner = (
                context
                if returned_at is None
                else context.weakened(
                    EARLY_RETURN, f"after the return on line {returned_at}"
                )
            )
            self.statement(statement, inner)
            if returned_at is None and _ends_flow(statement):
                returned_at = statement.lineno

    def statement(self, statement: ast.stmt, context: _Context) -> None:
        if isinstance(statement, ast.Assert):
            self.expressions_in(statement.test, context)
            why = always_true(statement.test)
            check_context = context.weakened(VACUOUS, why) if why else context
            self.add_check(
                "assert", statement, check_context, ast.unparse(statement.test)
            )
        elif isinstance(statement, (ast.Try, ast.TryStar)):
            swallowing = next(
                (handler for handler in statement.handlers if self.swallows(handler)),
                None,
            )
            body_context = context
            if swallowing is not None:
                caught = (
                    ast.unparse(swallowing.type) if swallowing.type else "everything"
                )
                body_context = context.weakened(
                    SWALLOWED,
                    f"inside a try whose `except {caught}` on line "
                    f"{swallowing.lineno} swallows the failure",
                )
            self.statements(statement.body, body_context)
            for handler in statement.handlers:
                self.statements(handler.body, context)
            self.statements(statement.orelse, body_context)
            self.statements(statement.finalbody, context)
        elif isinstance(statement, (ast.With, ast.AsyncWith)):
            body_context = context
            for item in statement.items:
                self.expressions_in(item.context_expr, context)
                expression = item.context_expr
                if (
                    isinstance(expression, ast.Call)
                    and self.resolve(expression) in SUPPRESS
                    and any(
                        self.resolve(argument) in SWALLOWED_EXCEPTIONS
                        for argument in expression.args
                    )
                ):
                    body_context = body_context.weakened(
                        SWALLOWED,
                        f"inside `{_shorten(ast.unparse(expression))}` on line "
                        f"{expression.lineno}, which swallows the failure",
                    )
            self.statements(statement.body, body_context)
        elif isinstance(statement, (ast.For, ast.AsyncFor)):
            self.expressions_in(statement.iter, context)
            # A table written in place weighs its rows; one bound to a name
            # only lends its rows to recognise a copied assertion.
            in_place = _literal_rows(statement.iter, {})
            body_context = context.repeated(len(in_place) if in_place else 1)
            table = _literal_rows(statement.iter, self.tables)
            if isinstance(statement.target, ast.Name) and table is not None:
                body_context = body_context.over_rows(statement.target.id, table)
            self.statements(statement.body, body_context)
            self.statements(statement.orelse, context)
        elif isinstance(statement, (ast.If, ast.While)):
            self.expressions_in(statement.test, context)
            self.statements(statement.body, context)
            self.statements(statement.orelse, context)
        elif isinstance(statement, ast.Match):
            self.expressions_in(statement.subject, context)
            for case in statement.cases:
                self.statements(case.body, context)
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            # A function defined in the test is the test's own code (a callback).
            self.statements(statement.body, context)
        elif isinstance(statement, ast.ClassDef):
            return
        elif isinstance(statement, ast.Expr):
            self.expression_statement(statement, context)
        else:
            if (
                isinstance(statement, ast.Assign)
                and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)
            ):
                table = _literal_rows(statement.value, {})
                if table is not None:
                    self.tables[statement.targets[0].id] = table
            for child in ast.iter_child_nodes(statement):
                if isinstance(child, ast.expr):
                    self.expressions_in(child, context)

    def expression_statement(self, statement: ast.Expr, context: _Context) -> None:
        value = statement.value
        before = len(self.checks)
        self.expressions_in(value, context)
        if len(self.checks) > before:
            return
        if isinstance(value, ast.Call) and self.is_print_or_log(value):
            self.expressions.extend(
                (statement.lineno, ast.unparse(argument)) for argument in value.args
            )
        elif not isinstance(
            value, (ast.Call, ast.Constant, ast.Await, ast.Yield, ast.YieldFrom)
        ):
            self.expressions.append((statement.lineno, ast.unparse(value)))

    def is_print_or_log(self, call: ast.Call) -> bool:
        name = self.resolve(call) or ""
        if name == "print" or name.startswith("logging."):
            return True
        return (
            isinstance(call.func, ast.Attribute)
            and call.func.attr in LOG_METHODS
            and "log" in ast.unparse(call.func.value).lower()
        )

    def swallows(self, handler: ast.ExceptHandler) -> bool:
        if handler.type is None:
            caught = True
        else:
            names = (
                handler.type.elts
                if isinstance(handler.type, ast.Tuple)
                else [handler.type]
            )
            caught = any(self.resolve(name) in SWALLOWED_EXCEPTIONS for name in names)
        if not caught:
            return False
        for node in ast.walk(ast.Module(body=handler.body, type_ignores=[])):
            if isinstance(node, (ast.Raise, ast.Assert)):
                return False
            if isinstance(node, ast.Call) and self.call_kind(node) is not None:
                return False
        return True

    def add_check(
        self,
        kind: str,
        node: ast.AST,
        context: _Context,
        tested: str | None = None,
        weight: int = 1,
    ) -> None:
        self.checks.append(
            Check(
                kind,
                node.lineno,
                _shorten(ast.unparse(node)),
                context.weight * weight,
                context.weakness,
                context.why,
                tested,
                _shape(node),
                _instances(node, context.rows),
            )
        )

    def call_kind(self, call: ast.Call) -> str | None:
        """What kind of check a call is, or None when it is not one."""
        name = self.resolve(call) or ""
        method = call.func.attr if isinstance(call.func, ast.Attribute) else None
        if name in RAISES_CHECKS:
            return "raises"
        if name in FAIL_CALLS:
            return "fail"
        if method is not None and name.split(".")[0] in ("self", "cls"):
            if method in UNITTEST_RAISES_CHECKS:
                return "raises"
            if method.startswith("assert") or method == "fail":
                return "unittest"
        if name.rpartition(".")[2].startswith("assert"):
            return "call"
        return None

    def expressions_in(self, node: ast.expr, context: _Context) -> None:
        """Record the checks and tolerances of the calls inside NODE."""
        for inner in ast.walk(node):
            if isinstance(inner, ast.Call):
                self.call(inner, context)

    def call(self, call: ast.Call, context: _Context) -> None:
        self.tolerance(call)
        kind = self.call_kind(call)
        name = self.resolve(call) or ""
        method = call.func.attr if isinstance(call.func, ast.Attribute) else ""
        helper_checks = (
            self.helper_strength(call, name)
            if kind in (None, "unittest", "call")
            else 0
        )
        if helper_checks:
            self.add_check("helper", call, context, weight=helper_checks)
        elif kind == "raises":
            self.expected_raise(call, name, method)
            self.add_check(kind, call, context)
        elif kind == "unittest":
            why = _unittest_always_true(method, call.args)
            self.add_check(
                kind, call, context.weakened(VACUOUS, why) if why else context
            )
        elif kind is not None:
            self.add_check(kind, call, context)

    def helper_strength(self, call: ast.Call, name: str) -> int:
        """Cases checked by the project helper CALL calls, 0 when it is none."""
        if self.depth >= HELPER_DEPTH or not name or name in self.seen:
            return 0
        found = self.helper(name)
        if found is None:
            return 0
        function, module = found
        reader = _TestReader(
            module, self.find_helper, self.depth + 1, self.seen | {name}
        )
        reader.statements(function.body, _Context())
        return sum(check.weight for check in reader.checks if check.effective)

    def helper(self, name: str) -> tuple[Function, ParsedModule] | None:
        first, _, rest = name.partition(".")
        if not rest and first in self.module.functions:
            return self.module.functions[first], self.module
        if first in ("self", "cls") and rest in self.module.methods:
            return self.module.methods[rest], self.module
        if rest:
            return self.find_helper(name)
        return None

    def expected_raise(self, call: ast.Call, name: str, method: str) -> None:
        expected = call.args[0] if call.args else None
        for keyword in call.keywords:
            if keyword.arg in ("expected_exception", "expected_warning"):
                expected = keyword.value
        exceptions: frozenset[str] | None = None
        if expected is not None:
            elements = expected.elts if isinstance(expected, ast.Tuple) else [expected]
            names = [self.resolve(element) for element in elements]
            if all(names):
                exceptions = frozenset(name for name in names if name)
        match = next(
            (
                ast.unparse(keyword.value)
                for keyword in call.keywords
                if keyword.arg in ("match", "expected_regex")
            ),
            None,
        )
        if match is None and method in UNITTEST_PATTERN_CHECKS and len(call.args) >= 2:
            match = ast.unparse(call.args[1])
        self.raises.append(
            ExpectedRaise(
                name if name in RAISES_CHECKS else method,
                call.lineno,
                exceptions,
                match,
            )
        )

    def tolerance(self, call: ast.Call) -> None:
        name = self.resolve(call) or ""
        method = call.func.attr if isinstance(call.func, ast.Attribute) else ""
        callee = (
            name if name in TOLERANCES else method if method in TOLERANCES else None
        )
        keywords = TOLERANCES.get(callee or "", {})
        if callee is None and name.startswith(PANDAS_MODULES):
            callee = name
            keywords = PANDAS_TOLERANCES
        if callee is None:
            return
        given = [
            (POSITIONAL_TOLERANCES.get(callee, {}).get(index), argument)
            for index, argument in enumerate(call.args)
        ]
        given.extend((keyword.arg, keyword.value) for keyword in call.keywords)
        settings = []
        for keyword, node in given:
            if keyword is None:
                continue
            if keyword in keywords or (
                callee.startswith(PANDAS_MODULES) and keyword.startswith("check_")
            ):
                settings.append((keyword, _literal(node)))
        self.tolerances.append(
            Tolerance(callee, call.lineno, _shorten(ast.unparse(call)), tuple(settings))
        )


def tolerance_defaults(callee: str) -> dict[str, tuple[object, bool]]:
    """keyword -> (default, larger is looser) for an approximate comparison."""
    if callee.startswith(PANDAS_MODULES):
        return PANDAS_TOLERANCES
    return TOLERANCES.get(callee, {})
