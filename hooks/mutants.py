"""Which mutants a changed file gets: facts about its lines, then the choice.

A line can be mutated when it is executable (coverage.py's parser says which
lines are statements, and which the consumer's `exclude_lines` exclude, e.g.
`pragma: no cover`) and not arid. Arid code is code no test is expected to
check: logging, `print` and `warnings` calls, docstrings, annotations,
`__repr__`, `if TYPE_CHECKING:` blocks, `raise NotImplementedError`,
`__all__` and `__version__`. Of the mutations a line allows
(hooks/inenv/testwarden_mutation_ast.py), it gets the best ranked, the
leftmost first: the same change always gets the same mutants.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from coverage.parser import PythonParser

from hooks.allow_comments import allow_comments
from hooks.inenv.testwarden_mutation_ast import (
    OPERATOR_RANK,
    Site,
    describe,
    operators_for,
)
from hooks.python_source import Names, module_names

LOGGING_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}
)
LOGGER_NAMES = frozenset(
    {"log", "logger", "logging", "_log", "_logger", "LOG", "LOGGER"}
)
ARID_ASSIGNMENTS = frozenset({"__all__", "__version__"})
ALLOW_KIND = "survivor"


@dataclass(frozen=True)
class Mutant:
    path: str
    site: Site
    operator: str
    original: str  # the node's source text
    mutated: str  # what the mutant makes of it
    trace_line: int  # the first line of the statement the node is in
    allowed: str | None = None  # the allow-survivor reason, when given

    @property
    def line(self) -> int:
        return self.site.line

    @property
    def key(self) -> str:
        """Stable across runs and shards: where and what."""
        return f"{self.path}:{self.site.line}:{self.site.column}:{self.operator}"

    def in_shard(self, shard: int, shards: int) -> bool:
        digest = hashlib.sha256(self.key.encode()).digest()
        return int.from_bytes(digest[:8], "big") % shards == shard - 1

    def describe(self) -> str:
        return f"`{self.original}` -> `{self.mutated}`"


def _is_arid_call(call: ast.Call, names: Names) -> bool:
    name = names.resolve_or_written(call.func)
    if name is None:
        return False
    parts = name.split(".")
    if name == "print" or parts[0] in ("warnings", "logging"):
        return True
    return (
        len(parts) >= 2 and parts[-1] in LOGGING_METHODS and parts[-2] in LOGGER_NAMES
    )


def _is_type_checking(test: ast.expr, names: Names) -> bool:
    return names.resolve_or_written(test) in (
        "TYPE_CHECKING",
        "typing.TYPE_CHECKING",
    )


def _raises_not_implemented(node: ast.Raise, names: Names) -> bool:
    return node.exc is not None and names.resolve_or_written(node.exc) in (
        "NotImplementedError",
        "builtins.NotImplementedError",
    )


def _lines_of(node: ast.AST) -> range:
    return range(node.lineno, (node.end_lineno or node.lineno) + 1)


def arid_lines(tree: ast.Module) -> set[int]:
    """Lines that get no mutant: arid statements and blocks."""
    names = module_names(tree)
    arid: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and (
            isinstance(node.value, ast.Constant)
            or (isinstance(node.value, ast.Call) and _is_arid_call(node.value, names))
        ):
            arid.update(_lines_of(node))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
            node.name == "__repr__"
        ):
            arid.update(_lines_of(node))
        elif isinstance(node, ast.If) and _is_type_checking(node.test, names):
            arid.update(_lines_of(node))
        elif isinstance(node, ast.Raise) and _raises_not_implemented(node, names):
            arid.update(_lines_of(node))
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(
                isinstance(target, ast.Name) and target.id in ARID_ASSIGNMENTS
                for target in targets
            ):
                arid.update(_lines_of(node))
    return arid


def _excluded_subtrees(tree: ast.Module) -> set[int]:
    """ids of nodes that must stay as they are: annotations, the parts of
    f-strings and match patterns (where only literals are legal)."""
    excluded: set[int] = set()

    def exclude(node: ast.AST | None) -> None:
        if node is not None:
            excluded.update(id(inner) for inner in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            exclude(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            exclude(node.returns)
        elif isinstance(node, ast.AnnAssign):
            exclude(node.annotation)
        elif isinstance(node, ast.JoinedStr):
            excluded.update(id(value) for value in node.values)
            for value in node.values:
                if isinstance(value, ast.FormattedValue):
                    exclude(value.format_spec)
        elif isinstance(node, ast.match_case):
            exclude(node.pattern)
    return excluded


def _conditions(tree: ast.Module) -> set[int]:
    return {
        id(node.test)
        for node in ast.walk(tree)
        if isinstance(node, (ast.If, ast.While, ast.IfExp))
    }


@dataclass(frozen=True)
class FileFacts:
    """What coverage.py's parser says about a file's lines."""

    statements: frozenset[int]
    excluded: frozenset[int]
    first_line: dict[int, int]  # any line of a statement -> its first line


def file_facts(source: str, exclude_patterns: Collection[str]) -> FileFacts:
    parser = PythonParser(
        text=source, exclude="|".join(f"(?:{p})" for p in exclude_patterns) or None
    )
    parser.parse_source()
    line_count = len(source.splitlines())
    return FileFacts(
        frozenset(parser.statements),
        frozenset(parser.excluded),
        {line: parser.first_line(line) for line in range(1, line_count + 1)},
    )


def _nodes_by_line(tree: ast.Module) -> dict[int, list[ast.AST]]:
    by_line: dict[int, list[ast.AST]] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.expr, ast.stmt)):
            by_line.setdefault(node.lineno, []).append(node)
    return by_line


def mutants_of_file(
    path: str,
    source: str,
    lines: Collection[int] | None,
    exclude_patterns: Collection[str],
    per_line: int = 1,
) -> Iterator[Mutant]:
    """The mutants of LINES (None: every line) of PATH, at most PER_LINE each."""
    tree = ast.parse(source, path)
    if not tree.body:
        return
    facts = file_facts(source, exclude_patterns)
    arid = arid_lines(tree) | facts.excluded
    excluded = _excluded_subtrees(tree)
    conditions = _conditions(tree)
    allowed = allow_comments(source, ALLOW_KIND)
    by_line = _nodes_by_line(tree)
    for line in sorted(by_line if lines is None else set(lines) & set(by_line)):
        trace_line = facts.first_line.get(line, line)
        if line in arid or trace_line not in facts.statements:
            continue
        candidates = []
        for node in by_line[line]:
            if id(node) in excluded:
                continue
            for operator in operators_for(node, id(node) in conditions):
                candidates.append((operator, node))
        candidates.sort(key=lambda pair: _order(*pair))
        for operator, node in candidates[:per_line]:
            original, mutated = describe(node, operator, source)
            yield Mutant(
                path,
                Site.of(node),
                operator,
                original,
                mutated,
                trace_line,
                allowed.get(line),
            )


def _order(operator: str, node: ast.AST) -> tuple[int, int, int, int]:
    # Best rank, then leftmost, then the outermost node at that column.
    return (
        OPERATOR_RANK.index(operator),
        node.col_offset,
        -(node.end_lineno or 0),
        -(node.end_col_offset or 0),
    )
