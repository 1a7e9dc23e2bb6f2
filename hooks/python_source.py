"""Python source as our readers see it: one parse, one error, one rule for names.

Every hook that reads Python source (forbid-mock-data, forbid-skipped-tests,
forbid-test-deletion, and the readers to come) builds on this module:

    parse(path, source) -> ast.Module
        The module, or NotPython when it is not Python this interpreter can
        read: a syntax error, an undecodable file, null bytes, nesting too
        deep for the parser.

    NotPython(path, line, reason)
        The one "not Python" error. `line` is None when no line is to blame;
        `location()` is `path:line` (or `path`); str() of the error is
        `path:line: cannot analyse: reason`, for callers that print it as is.

    module_names(module, package=None) -> Names
        What each name of the module's own scope refers to.

    Names.resolve(node) -> str | None
        The dotted name an expression (`mock.patch`, `m.MagicMock`, a call's
        callee) refers to, or None when its first name is not bound by an
        import (a local variable, a parameter, an undefined name). Builtins
        that nothing hides resolve to their own name (`dict`).

    Names.resolve_or_written(node) -> str | None
        The same, except that a name nothing in the file binds (a module
        global, a name from a star import) counts as written. For readers
        that look for a spelling (`TestCase` bases, skip markers reached
        through a star import); resolve() is for those that must not.

    Names.inner(function) -> Names
        The names in force inside a function or lambda: its own imports,
        and every other name it binds (parameters, assignments, nested
        definitions), which hides an outer import of the same name.

    Names.bind(bindings) -> Names
        The same scope with more names bound to dotted names (a reader's own
        knowledge, e.g. a pytest plugin fixture a function requests).

    walk(node, names) -> Iterator[tuple[ast.AST, Names]]
        Every node under NODE in ast.walk order, with the Names in force there.

    own_nodes(body) -> Iterator[ast.AST]
        The nodes of a body in source order, not looking inside nested
        functions, lambdas or classes.

    imported_names(node, package=None) -> list[str]
    bound_names(node, package=None) -> dict[str, str]
        For one import statement: the dotted names it imports, and the local
        name -> dotted name of each name it binds.

The rule for names is what Python binds, as far as one file can tell:

- `import a.b` binds `a` to `a`; `import a.b as c` binds `c` to `a.b`;
  `from a import b as c` binds `c` to `a.b`; `from a import *` binds nothing
  we can name.
- `from .x import y` is resolved against PACKAGE, the dotted package of the
  importing module (`from .x import y` in package `tests.unit` is
  `tests.unit.x.y`). Without a package the name keeps its leading dots
  (`.x.y`): it is the project's own, whatever the package turns out to be.
- Module-level imports count wherever they are in the module's own code
  (inside `if`, `try`, `with`), not inside functions or classes.
- An import inside a function binds only in that function and the
  functions nested in it.
- Order is not followed: a name bound anywhere in a scope is bound for all
  of it.
"""

from __future__ import annotations

import ast
import builtins
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

__all__ = [
    "NotPython",
    "Names",
    "bound_names",
    "imported_names",
    "module_names",
    "own_nodes",
    "parse",
    "walk",
]

_BUILTIN_NAMES = frozenset(dir(builtins))
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_NESTED_SCOPES = (*_FUNCTIONS, ast.ClassDef, ast.Lambda)


class NotPython(Exception):
    """PATH is not Python source this interpreter can read (LINE: where, if known)."""

    def __init__(self, path: str, line: int | None, reason: str) -> None:
        super().__init__(reason)
        self.path = path
        self.line = line
        self.reason = reason

    def location(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path

    def __str__(self) -> str:
        return f"{self.location()}: cannot analyse: {self.reason}"


def parse(path: str, source: bytes | str) -> ast.Module:
    """The module SOURCE holds, honouring its declared encoding; NotPython if none."""
    try:
        return ast.parse(source, filename=path)
    except SyntaxError as error:
        message = str(error.msg)
        if "unicode error" in message or "encoding" in message:
            raise NotPython(path, None, f"cannot decode: {message}") from None
        raise NotPython(path, error.lineno, f"does not parse: {message}") from None
    except (ValueError, RecursionError, MemoryError) as error:
        # Null bytes on older Pythons, or nesting deeper than the parser's stack.
        raise NotPython(path, None, f"does not parse: {error}") from None


@dataclass(frozen=True)
class Names:
    """What the names of one scope refer to, and the scopes around it.

    BINDINGS maps a name bound in this scope to the dotted name it refers
    to, or to None when it is bound to something else (a variable).
    """

    bindings: Mapping[str, str | None]
    outer: Names | None = None
    package: str | None = field(default=None, compare=False)

    def resolve(self, node: ast.AST) -> str | None:
        """The dotted name NODE (a name or an attribute chain) refers to, or None."""
        return _dotted(node, self.lookup)

    def resolve_or_written(self, node: ast.AST) -> str | None:
        """Like resolve(), but a name that no import and no local binding
        explains (a module global, a star import's, an undefined one) counts
        as written: `BaseTestCase.x` is `BaseTestCase.x`. Still None when a
        local binding hides the name, or NODE is not a dotted name."""
        return _dotted(
            node, lambda name: self.lookup(name) if self.binds(name) else name
        )

    def binds(self, name: str) -> bool:
        """Whether this scope or one around it binds NAME (builtins aside)."""
        scope: Names | None = self
        while scope is not None:
            if name in scope.bindings:
                return True
            scope = scope.outer
        return False

    def lookup(self, name: str) -> str | None:
        """The dotted name NAME refers to in this scope, or None."""
        scope: Names | None = self
        while scope is not None:
            if name in scope.bindings:
                return scope.bindings[name]
            scope = scope.outer
        return name if name in _BUILTIN_NAMES else None

    def inner(
        self, function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
    ) -> Names:
        """The names in force in FUNCTION's body."""
        bindings: dict[str, str | None] = dict.fromkeys(_parameters(function.args))
        body = [function.body] if isinstance(function, ast.Lambda) else function.body
        imports: dict[str, str] = {}
        for node in own_nodes(body):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                imports.update(bound_names(node, self.package))
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                bindings[node.id] = None
            elif isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
                bindings[node.name] = None
        bindings.update(imports)
        return Names(bindings, self, self.package)

    def bind(self, bindings: Mapping[str, str]) -> Names:
        """This scope with BINDINGS (name -> dotted name) added on top."""
        return Names(dict(bindings), self, self.package) if bindings else self


def module_names(module: ast.Module, package: str | None = None) -> Names:
    """The names MODULE's imports bind at module level (see the module docstring)."""
    bindings: dict[str, str | None] = {}
    for node in own_nodes(module.body):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bindings.update(bound_names(node, package))
    return Names(bindings, None, package)


def bound_names(
    node: ast.Import | ast.ImportFrom, package: str | None = None
) -> dict[str, str]:
    """Local name -> the dotted name it refers to, for each name an import binds."""
    if isinstance(node, ast.Import):
        return {
            (alias.asname or alias.name.split(".")[0]): (
                alias.name if alias.asname else alias.name.split(".")[0]
            )
            for alias in node.names
        }
    return {
        alias.asname or alias.name: dotted
        for alias, dotted in zip(node.names, imported_names(node, package))
        if alias.name != "*"
    }


def imported_names(
    node: ast.Import | ast.ImportFrom, package: str | None = None
) -> list[str]:
    """The full dotted name of everything an import statement imports."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    module = _absolute_module(node.module, node.level, package)
    separator = "" if module.endswith(".") else "."
    return [f"{module}{separator}{alias.name}" for alias in node.names]


def _absolute_module(module: str | None, level: int, package: str | None) -> str:
    """`from MODULE import` at LEVEL dots, resolved against PACKAGE when known."""
    if not level:
        return module or ""
    if package is not None:
        base = package.split(".") if package else []
        # Past the top-level package Python fails; keep the dots then.
        if level - 1 < len(base):
            kept = base[: len(base) - (level - 1)]
            return ".".join([*kept, *([module] if module else [])])
    return "." * level + (module or "")


def walk(node: ast.AST, names: Names) -> Iterator[tuple[ast.AST, Names]]:
    """Every node under NODE (NODE first) in ast.walk order, with its Names."""
    pending = deque([(node, names)])
    while pending:
        current, scope = pending.popleft()
        yield current, scope
        if isinstance(current, (*_FUNCTIONS, ast.Lambda)):
            body = current.body if isinstance(current.body, list) else [current.body]
            inner = scope.inner(current)
            pending.extend(
                (child, inner if child in body else scope)
                for child in ast.iter_child_nodes(current)
            )
        else:
            pending.extend((child, scope) for child in ast.iter_child_nodes(current))


def own_nodes(body: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """The nodes of BODY in source order, not looking inside nested scopes."""
    pending = deque(body)
    while pending:
        node = pending.popleft()
        yield node
        if not isinstance(node, _NESTED_SCOPES):
            pending.extend(ast.iter_child_nodes(node))


def _dotted(node: ast.AST, lookup: Callable[[str], str | None]) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    head = lookup(node.id)
    if head is None:
        return None
    return ".".join([head, *reversed(parts)])


def _parameters(arguments: ast.arguments) -> Iterator[str]:
    for argument in (
        *arguments.posonlyargs,
        *arguments.args,
        *arguments.kwonlyargs,
        *filter(None, (arguments.vararg, arguments.kwarg)),
    ):
        yield argument.arg
