"""Hand-written test doubles: classes of test code that only pretend to work.

A class is a double when every method but __init__ only returns canned values
(literals, attributes of self, classes built from literals and from its
arguments filled into literal text, the results of its own other methods),
records its calls (assigns or appends its arguments to self or to a list of
the test), hands literals to the callbacks it keeps, does nothing, or
raises; at least one of them returns, records, delivers or raises, and at
least one is an ordinary method, not only a dunder (a value object such as
`__str__` returning a literal is test input, not a collaborator; a context
manager's `__enter__`/`__exit__` count when the test patches the class in).
Any other call is real work: a subclass that calls super() to delegate and
observe is not a double. hooks.mock_method_shapes reads each method.

Also a double: an attribute bag of exactly a standard type's attributes
(`year`, `month`, `day`) with only value dunders, a stand-in for that type.

Never doubles: test classes (pytest could collect them: a class a function
defines is judged whatever its name), exceptions, Protocol/ABC/TypedDict/
NamedTuple/Enum classes, decorated classes or ones with a metaclass,
classes with only __init__ or only properties, classes whose body does more
than bind literals (or start an empty `set()`/`list()`/`dict()`) and define
methods, and a subclass whose methods only return canned values (it fills a
hook of its base) unless one returns a closure over the test's own variable.

Only the shape is judged here; hooks.mock_stand_ins finds the classes and
hooks.mock_detection lets a mock object in the class win over this verdict.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

from hooks.mock_method_shapes import (
    PROPERTY,
    Function,
    MethodShape,
    OwnMethods,
    does_nothing,
)
from hooks.python_source import Names

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
# Bases (by their last name) of classes that declare a type, not stand in for one.
_NOT_DOUBLE_BASES = frozenset(
    {
        "Protocol",
        "ABC",
        "TypedDict",
        "NamedTuple",
        "Enum",
        "IntEnum",
        "StrEnum",
        "Flag",
        "type",
        "Exception",
        "BaseException",
    }
)
_EXCEPTION_SUFFIXES = ("Error", "Exception", "Warning", "Exit", "Interrupt")
# Dunders that are behaviour a collaborator has, not a value's: a context
# manager that registers itself on entry stands in for a consumer.
_PROTOCOL_DUNDERS = frozenset({"__enter__", "__exit__", "__aenter__", "__aexit__"})

REAL_CLOCK = (
    "the real clock (time.monotonic) driven through the code's own injection "
    "point (a timeout or clock argument it takes)"
)
# Method names that tell what the double stands in for -> the real thing to use.
_ALTERNATIVES = (
    (
        frozenset({"communicate", "wait", "poll", "kill", "terminate", "returncode"}),
        "a real subprocess (sys.executable running a small script)",
    ),
    (
        frozenset(
            {"execute", "executemany", "cursor", "commit", "rollback", "fetchone"}
            | {"fetchall", "fetchmany"}
        ),
        "a real sqlite database in a tmp_path file",
    ),
    (
        frozenset({"time", "monotonic", "now", "utcnow", "sleep", "today"}),
        REAL_CLOCK,
    ),
    (
        frozenset({"get_source", "read_configuration", "list_templates"}),
        "the project's own loader over files the test writes in tmp_path",
    ),
    (
        frozenset({"drain_events", "consume", "publish", "basic_get", "basic_ack"}),
        "a real connection: a broker the test starts, or the messaging "
        "library's own in-memory transport",
    ),
    (
        frozenset(
            {"get", "post", "put", "delete", "request", "send", "json"}
            | {"raise_for_status", "urlopen", "handle_request", "recv", "connect"}
        ),
        "a real local server the test starts (http.server in a thread) "
        "serving committed responses",
    ),
)
_OBSERVE = (
    "a subclass of the real class that calls super() and observes, or the "
    "real object's own state after the call"
)
_PROJECT_OBJECT = "the project's own class configured over files in tmp_path"


@dataclass(frozen=True)
class Double:
    """Why a class is a double and what to use instead."""

    what: str
    instead: str


def canned_class(
    cls: ast.ClassDef,
    names: Names,
    is_literal: Callable[[ast.expr], bool],
    raisers: frozenset[str] = frozenset(),
    *,
    patched_in: bool = False,
    collectable: bool = True,
) -> Double | None:
    """The verdict on CLS, or None when it is not a hand-written double.

    NAMES resolves its bases; IS_LITERAL says whether a value is written out
    in the source; RAISERS are the module's functions that only raise.
    PATCHED_IN: the test puts CLS where the code takes a collaborator from;
    then a context manager's `__enter__`/`__exit__` are judged as ordinary
    methods (one handed to the code under test is the subject of its test).
    COLLECTABLE: pytest could collect CLS (a function does not define it), so
    a `Test*` name makes it a test class.
    """
    if _never_a_double(cls, names, collectable):
        return None
    body = _body(cls.body)
    methods = [statement for statement in body if isinstance(statement, _FUNCTIONS)]
    method_names = frozenset(method.name for method in methods)
    if not all(
        _is_class_data(statement, is_literal, method_names)
        for statement in body
        if not isinstance(statement, _FUNCTIONS)
    ):
        return None
    judged = [method for method in methods if method.name != "__init__"]
    if not judged or all(_is_property(method, names) for method in judged):
        return None
    protocol = _PROTOCOL_DUNDERS if patched_in else frozenset()
    if all(
        method.name.startswith("__") and method.name not in protocol
        for method in judged
    ):
        return _imitation(cls, methods)
    state = _declared_state(body, methods, is_literal)
    own = OwnMethods(cls.name, method_names)
    readers = [
        MethodShape(method, names, is_literal, raisers, state, own) for method in judged
    ]
    shapes = [reader.shape() for reader in readers]
    if None in shapes or set(shapes) == {"nothing"}:
        return None
    parts = sorted({shape for shape in shapes if shape != "nothing"})
    if (
        parts == ["returns"]
        and _subclasses(cls, names)
        and not any(reader.flags_set_by_hand for reader in readers)
    ):
        # Filling a hook of a base class (a custom type's `get_col_spec`) looks
        # the same as overriding real behaviour; only the base could tell. A
        # returned closure over the test's own variable (`lambda: not
        # changed`) is an answer the test flips by hand, whatever the base.
        return None
    flags = sorted(set().union(*(reader.flags_set_by_hand for reader in readers)))
    return _double(cls, judged, parts, flags)


def _double(
    cls: ast.ClassDef,
    judged: list[ast.FunctionDef | ast.AsyncFunctionDef],
    parts: list[str],
    flags: list[str],
) -> Double:
    """The verdict on CLS, a double whose JUDGED methods only do PARTS
    (through a closure over the test's FLAGS, when there are any)."""
    what = " and ".join(_SHAPE_TEXT[shape] for shape in parts)
    if flags:
        shown_flags = ", ".join(f"`{flag}`" for flag in flags)
        what += f" (through a closure over the test's {shown_flags}, set by hand)"
    shown = ", ".join(f"`{method.name}`" for method in judged[:3])
    more = ", ..." if len(judged) > 3 else ""
    return Double(
        f"class `{cls.name}` is a hand-written double: its methods ({shown}{more}) "
        f"only {what}",
        _alternative(cls, judged, "records" in parts),
    )


_SHAPE_TEXT = {
    "returns": "return canned values",
    "records": "record their calls",
    "raises": "raise",
    "delivers": "hand canned values to the callbacks they hold",
}


# The attributes code reads from a value of a standard type -> that type. A
# bag of exactly these stands in for one, whatever it is called.
_IMITATED_TYPES = (
    (frozenset({"year", "month", "day"}), "datetime.date"),
    (frozenset({"hour", "minute", "second"}), "datetime.time"),
)
_VALUE_DUNDERS = frozenset({"__str__", "__repr__", "__eq__", "__hash__", "__format__"})


def _imitation(cls: ast.ClassDef, methods: list[Function]) -> Double | None:
    """CLS as an attribute bag imitating a standard type: no base, an
    `__init__` that only stores values on self, only value dunders besides
    (`__str__`), and the attributes of that type (`year`, `month`, `day`).
    A value object of other attributes is test input (jinja2's `Magic`)."""
    if cls.bases or any(
        method.name != "__init__" and method.name not in _VALUE_DUNDERS
        for method in methods
    ):
        return None
    stored = _stored_attributes(methods)
    for fields, real_type in _IMITATED_TYPES:
        if fields <= stored:
            shown = ", ".join(f"`{name}`" for name in sorted(fields))
            return Double(
                f"class `{cls.name}` is a hand-written double: a bag of the "
                f"attributes of `{real_type}` ({shown}), a stand-in for one",
                f"a real `{real_type}`, or the input the code really gets "
                "(a string it parses, a value out of range built from a real one)",
            )
    return None


def _stored_attributes(methods: list[Function]) -> frozenset[str]:
    """What an `__init__` that only assigns stores on self; empty for any
    other `__init__`."""
    stored: set[str] = set()
    for method in methods:
        if method.name != "__init__" or not method.args.args:
            continue
        receiver = method.args.args[0].arg
        for statement in _body(method.body):
            if not isinstance(statement, ast.Assign):
                return frozenset()
            for target in statement.targets:
                elements = target.elts if isinstance(target, ast.Tuple) else [target]
                stored.update(
                    element.attr
                    for element in elements
                    if isinstance(element, ast.Attribute)
                    and isinstance(element.value, ast.Name)
                    and element.value.id == receiver
                )
    return frozenset(stored)


def worth_judging(cls: ast.ClassDef, *, collectable: bool = True) -> bool:
    """A cheap look before canned_class resolves any name: a name that is not
    a test class's (when pytest could collect CLS at all), and an ordinary
    method (or an `__init__` and a value dunder: an attribute bag)."""
    method_names = {node.name for node in cls.body if isinstance(node, _FUNCTIONS)}
    return not (collectable and cls.name.startswith("Test")) and (
        any(not name.startswith("__") for name in method_names)
        or ("__init__" in method_names and bool(method_names & _VALUE_DUNDERS))
    )


def always_raises(body: list[ast.stmt]) -> bool:
    """Whether BODY (a docstring aside) ends in a raise on every path: `raise
    X`, or a try whose body and handlers all do."""
    body = _body(body)
    if not body:
        return False
    last = body[-1]
    if isinstance(last, ast.Raise):
        return len(body) == 1
    return (
        len(body) == 1
        and isinstance(last, ast.Try)
        and always_raises(last.body)
        and all(always_raises(handler.body) for handler in last.handlers)
    )


def _alternative(cls: ast.ClassDef, methods: list[Function], records: bool) -> str:
    method_names = {method.name.lstrip("_") for method in methods}
    for known, instead in _ALTERNATIVES:
        if method_names & known:
            return instead
    if records or cls.bases:
        return _OBSERVE
    return _PROJECT_OBJECT


def _never_a_double(cls: ast.ClassDef, names: Names, collectable: bool) -> bool:
    if (
        (collectable and cls.name.startswith("Test"))
        or cls.name.endswith(("Test", "Tests"))
        or cls.decorator_list
        or cls.keywords
    ):
        return True
    if any(
        isinstance(node, _FUNCTIONS) and node.name.startswith("test")
        for node in cls.body
    ):
        return True
    for base in cls.bases:
        written = (names.resolve_or_written(base) or "").rsplit(".", 1)[-1]
        if written in _NOT_DOUBLE_BASES or written.endswith(_EXCEPTION_SUFFIXES):
            return True
    return False


def _subclasses(cls: ast.ClassDef, names: Names) -> bool:
    return any(names.resolve_or_written(base) != "object" for base in cls.bases)


def _body(body: list[ast.stmt]) -> list[ast.stmt]:
    """BODY without its docstring, `pass` and `...`."""
    return [statement for statement in body if not does_nothing(statement)]


def _is_class_data(
    statement: ast.stmt,
    is_literal: Callable[[ast.expr], bool],
    method_names: frozenset[str],
) -> bool:
    """A class attribute bound to a literal or to names (exception types), or a
    nested class."""
    if isinstance(statement, ast.ClassDef):
        return True
    if isinstance(statement, ast.AnnAssign):
        return statement.value is None or _is_data(
            statement.value, is_literal, method_names
        )
    if isinstance(statement, ast.Assign):
        return _is_data(statement.value, is_literal, method_names)
    return False


def _is_data(
    value: ast.expr,
    is_literal: Callable[[ast.expr], bool],
    method_names: frozenset[str],
) -> bool:
    if isinstance(value, (ast.Tuple, ast.List, ast.Set)):
        return all(
            _is_data(element, is_literal, method_names) for element in value.elts
        )
    if isinstance(value, ast.Attribute):
        return _is_data(value.value, is_literal, method_names)
    # A bare name is an exception type or a constant; a method alias
    # (`__iadd__ = fake_op`) makes the class more than data and methods.
    if isinstance(value, ast.Name):
        return value.id not in method_names
    return is_literal(value) or _empty_container(value)


def _empty_container(value: ast.expr) -> bool:
    """`set()`, `list()`, `dict()`: a record the class starts empty."""
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id in ("set", "list", "dict")
        and not value.args
        and not value.keywords
    )


def _declared_state(
    body: list[ast.stmt],
    methods: list[Function],
    is_literal: Callable[[ast.expr], bool],
) -> frozenset[str]:
    """The attributes a double keeps its record in: bound in the class body
    (`calls = []`, `was_acked = False`) or set to a literal in __init__. A
    method that fills any other attribute (a mapped class's `children`) is the
    class's own behaviour, not a record."""
    declared = {
        target.id
        for statement in body
        if isinstance(statement, (ast.Assign, ast.AnnAssign))
        for target in (
            statement.targets
            if isinstance(statement, ast.Assign)
            else [statement.target]
        )
        if isinstance(target, ast.Name)
    }
    for method in methods:
        if method.name != "__init__" or not method.args.args:
            continue
        receiver = method.args.args[0].arg
        for node in ast.walk(method):
            if isinstance(node, ast.Assign) and is_literal(node.value):
                declared.update(
                    target.attr
                    for target in node.targets
                    if isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == receiver
                )
    return frozenset(declared)


def _is_property(method: Function, names: Names) -> bool:
    return any(
        (names.resolve_or_written(decorator) or "") in PROPERTY
        or (isinstance(decorator, ast.Attribute) and decorator.attr == "setter")
        for decorator in method.decorator_list
    )
