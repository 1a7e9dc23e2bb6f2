"""The mutation operators: which mutations a node allows, and the module
compiled with all of its planned mutants behind one switch.

Standard library only: mutation-gate imports it as
`hooks.inenv.testwarden_mutation_ast`, and the plugin that runs inside the
consumer's tox environment imports it from this directory on PYTHONPATH.

A mutant is a node (its type and exact position) and an operator. In the
switched module, an expression mutant becomes `(MUTATED if SWITCH.active ==
ID else ORIGINAL)` and a statement mutant `if SWITCH.active == ID: MUTATED
else: ORIGINAL`, so one compiled module holds every mutant and the active
one is chosen at run time, without compiling or importing again.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass

SWITCH_NAME = "__testwarden_switch__"

# Ranked by how often a surviving mutant of the kind points at a weak test:
# the first operator a line allows is the one mutant it gets.
OPERATOR_RANK = (
    "comparison-boundary",
    "condition-true",
    "condition-false",
    "comparison-negated",
    "and-or",
    "not-dropped",
    "return-none",
    "call-removed",
    "arithmetic",
    "constant",
    "break-continue",
)
BOUNDARY = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt}
NEGATED = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
ARITHMETIC = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
}
CONDITION_OPERATORS = ("condition-true", "condition-false")


@dataclass(frozen=True)
class Site:
    """A node, by its type and exact position in the source."""

    node_type: str
    line: int
    column: int
    end_line: int
    end_column: int

    @classmethod
    def of(cls, node: ast.AST) -> Site:
        return cls(
            type(node).__name__,
            node.lineno,
            node.col_offset,
            node.end_lineno or node.lineno,
            node.end_col_offset or node.col_offset,
        )


def operators_for(node: ast.AST, is_condition: bool) -> list[str]:
    """The operators that apply to NODE (a condition of if/while/ternary when
    IS_CONDITION), in rank order."""
    operators = []
    if isinstance(node, ast.Compare):
        first = type(node.ops[0])
        if first in BOUNDARY:
            operators.append("comparison-boundary")
        if first in NEGATED:
            operators.append("comparison-negated")
    if is_condition and not isinstance(node, ast.Constant):
        operators += CONDITION_OPERATORS
    if isinstance(node, ast.BoolOp):
        operators.append("and-or")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        operators.append("not-dropped")
    if isinstance(node, ast.Return) and not (
        node.value is None
        or (isinstance(node.value, ast.Constant) and node.value.value is None)
    ):
        operators.append("return-none")
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        operators.append("call-removed")
    if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in ARITHMETIC:
        operators.append("arithmetic")
    if isinstance(node, ast.Constant) and _mutated_constant(node.value) is not None:
        operators.append("constant")
    if isinstance(node, (ast.Break, ast.Continue)):
        operators.append("break-continue")
    return sorted(operators, key=OPERATOR_RANK.index)


def _mutated_constant(value: object) -> object | None:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value + 1.0
    if isinstance(value, str):
        return "" if value else "testwarden"
    if isinstance(value, bytes):
        return b"" if value else b"testwarden"
    return None


def mutate(node: ast.AST, operator: str) -> ast.AST:
    """A mutated copy of NODE."""
    mutated = copy.deepcopy(node)
    if operator == "comparison-boundary":
        mutated.ops[0] = BOUNDARY[type(node.ops[0])]()
    elif operator == "comparison-negated":
        mutated.ops[0] = NEGATED[type(node.ops[0])]()
    elif operator in CONDITION_OPERATORS:
        mutated = ast.Constant(operator == "condition-true")
    elif operator == "and-or":
        mutated.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif operator == "not-dropped":
        mutated = mutated.operand
    elif operator == "return-none":
        mutated.value = ast.Constant(None)
    elif operator == "call-removed":
        mutated = ast.Pass()
    elif operator == "arithmetic":
        mutated.op = ARITHMETIC[type(node.op)]()
    elif operator == "constant":
        mutated = ast.Constant(_mutated_constant(node.value))
    elif operator == "break-continue":
        mutated = ast.Continue() if isinstance(node, ast.Break) else ast.Break()
    else:
        raise ValueError(f"unknown mutation operator {operator!r}")
    return ast.copy_location(mutated, node)


def describe(node: ast.AST, operator: str, source: str) -> tuple[str, str]:
    """The node's source text and its mutated text, for the report."""
    original = ast.get_source_segment(source, node) or ast.unparse(node)
    mutated = mutate(node, operator)
    if isinstance(mutated, ast.Pass):
        return _one_line(original), "(call removed)"
    return _one_line(original), _one_line(ast.unparse(mutated))


def _one_line(text: str) -> str:
    return " ".join(text.split())


class _Switcher(ast.NodeTransformer):
    def __init__(self, planned: dict[Site, list[tuple[int, str]]]) -> None:
        self.planned = planned
        self.applied: set[int] = set()

    def visit(self, node: ast.AST) -> ast.AST:
        node = self.generic_visit(node)
        if not hasattr(node, "lineno"):
            return node
        for mutant_id, operator in self.planned.get(Site.of(node), ()):
            node = self._switched(node, mutant_id, operator)
            self.applied.add(mutant_id)
        return node

    def _switched(self, node: ast.AST, mutant_id: int, operator: str) -> ast.AST:
        is_active = ast.Compare(
            ast.Attribute(ast.Name(SWITCH_NAME, ast.Load()), "active", ast.Load()),
            [ast.Eq()],
            [ast.Constant(mutant_id)],
        )
        mutated = mutate(node, operator)
        if isinstance(node, ast.stmt):
            switched: ast.AST = ast.If(is_active, [mutated], [node])
        else:
            switched = ast.IfExp(is_active, mutated, node)
        return ast.fix_missing_locations(ast.copy_location(switched, node))


def switched_module(
    source: str | bytes, filename: str, mutants: list[dict]
) -> tuple[ast.Module, set[int]]:
    """SOURCE parsed with MUTANTS (dicts: id, operator and the Site fields)
    behind the switch; and the ids of the mutants whose node was found."""
    tree = ast.parse(source, filename)
    planned: dict[Site, list[tuple[int, str]]] = {}
    for mutant in mutants:
        site = Site(
            mutant["node_type"],
            mutant["line"],
            mutant["column"],
            mutant["end_line"],
            mutant["end_column"],
        )
        planned.setdefault(site, []).append((mutant["id"], mutant["operator"]))
    switcher = _Switcher(planned)
    switched = switcher.visit(tree)
    return ast.fix_missing_locations(switched), switcher.applied
