"""Verdicts on a test file's pytest fixtures: which ones fabricate their value.

A fixture is fabricated when it (or a helper or class in the same file that
it calls) uses a mock-object, fake-data or service-faking library or a stub (the line
facts of hooks.mock_facts), or returns literal records or a stand-in object
built from literals (hooks.mock_values). Data loaded from a file, built in
tmp_path, a real connection or process, the project's own code: all pass.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from hooks.mock_facts import LineFacts
from hooks.mock_rules import FIXTURE_EVIDENCE, MOCK_OBJECT, FixtureVerdict
from hooks.mock_values import FUNCTIONS, Function, ModuleValues, constant_string
from hooks.python_source import own_nodes

# Calls that return a copy of their one argument: the data is the argument's.
_COPIES = frozenset({"dict", "list", "tuple", "copy.copy", "copy.deepcopy"})
_HELPER_DEPTH = 3
_REAL_RECORDS = (
    "objects the project's own code builds, or records loaded from a committed "
    "data file (tests/data/...)"
)
# unittest's and pytest's per-class set-up methods.
_SET_UPS = frozenset(
    {"setUp", "setUpClass", "asyncSetUp", "setup_method", "setup_class", "setup"}
)


def fixture_verdicts(values: ModuleValues, facts: LineFacts) -> list[FixtureVerdict]:
    """Why each fabricated fixture of the file is, in the order they are defined."""
    return _Fixtures(values, facts).verdicts()


class _Fixtures:
    def __init__(self, values: ModuleValues, facts: LineFacts) -> None:
        self.values = values
        self.fixtures = facts.fixtures
        self.fixture_names = facts.fixture_names
        self.test_code = facts.test_code
        self.findings = facts.findings()
        self.functions = values.functions
        self.constants = values.constants
        self._literal_fixture_names: frozenset[str] | None = None

    def verdicts(self) -> list[FixtureVerdict]:
        found: dict[str, FixtureVerdict] = {}
        for qualname, function in self.fixtures:
            verdict = self._verdict(qualname, function)
            if verdict:
                found[qualname] = verdict
        self._through_mock_fixtures(found)
        verdicts = [
            found[qualname] for qualname, _ in self.fixtures if qualname in found
        ]
        if self.test_code:
            verdicts += self._set_up_verdicts()
            verdicts += self._record_helper_verdicts()
        return verdicts

    def _record_helper_verdicts(self) -> list[FixtureVerdict]:
        """Helpers of the file that hand tests literal records of a record
        type (`User = namedtuple(...)`, then `[User("john", True), ...]` or
        `map(User, ["foo", "bar"])`), as a fixture returning them would:
        the helper is given to a call (a decorator feeding a test, a render
        call) by name or by its result. One only defined is not judged."""
        verdicts = []
        handed: frozenset[str] | None = None
        # Not self.functions: a file may define a helper twice, each used.
        for function in self.values.module.body:
            if not isinstance(function, FUNCTIONS) or (
                function.name in self.fixture_names
            ):
                continue
            name = function.name
            found = literal_records_of_a_record_type(function, self.values)
            if found and handed is None:
                handed = _handed_names(self.values.module)
            if found and name in handed:
                what, line = found
                verdicts.append(
                    FixtureVerdict(
                        name,
                        name,
                        function.lineno,
                        function.lineno,
                        f"{what} (line {line}) to the tests it is given to",
                        line,
                        instead=_REAL_RECORDS,
                        kind="helper",
                    )
                )
        return verdicts

    def _set_up_verdicts(self) -> list[FixtureVerdict]:
        """unittest's fixtures: a setUp (setup_method, ...) of a class of the
        file that sets literal records on the instance and hands them to the
        code under test (an argument of a call in the class), as a fixture
        returning them would. Records only compared with are expected values."""
        verdicts = []
        for cls in self.values.classes.values():
            set_ups = [
                method
                for method in cls.body
                if isinstance(method, FUNCTIONS) and method.name in _SET_UPS
            ]
            handed = _instance_arguments(cls) if set_ups else frozenset()
            for method in set_ups:
                for node in own_nodes(method.body):
                    targets = (
                        [
                            target
                            for target in node.targets
                            if _on_instance(target) and target.attr in handed
                        ]
                        if isinstance(node, ast.Assign)
                        else []
                    )
                    records = targets and self.values.records(node.value)
                    if records:
                        what = records.removeprefix("returns ")
                        verdicts.append(
                            FixtureVerdict(
                                method.name,
                                f"{cls.name}.{method.name}",
                                method.lineno,
                                method.lineno,
                                f"sets `{ast.unparse(targets[0])}` to {what} "
                                f"(line {node.lineno})",
                                node.lineno,
                            )
                        )
                        break
        return verdicts

    def _through_mock_fixtures(self, found: dict[str, FixtureVerdict]) -> None:
        """Add the fixtures whose value holds another fixture's mock object: one
        that requests a mock-made fixture of the file and uses it (stores it,
        hands it back from a lambda, passes it on), to any depth."""
        mock_made = FIXTURE_EVIDENCE[MOCK_OBJECT]
        grown = True
        while grown:
            grown = False
            made = {
                verdict.name: verdict
                for verdict in found.values()
                if verdict.what.startswith(mock_made)
            }
            for qualname, function in self.fixtures:
                if qualname in found:
                    continue
                requested = {argument.arg for argument in function.args.args} & set(
                    made
                )
                used = next(
                    (
                        node
                        for node in ast.walk(function)
                        if isinstance(node, ast.Name)
                        and isinstance(node.ctx, ast.Load)
                        and node.id in requested
                    ),
                    None,
                )
                if used is None:
                    continue
                first_line = min(
                    [
                        function.lineno,
                        *(node.lineno for node in function.decorator_list),
                    ]
                )
                source = made[used.id]
                found[qualname] = FixtureVerdict(
                    _fixture_name(function),
                    qualname,
                    first_line,
                    function.lineno,
                    f"{mock_made} through fixture `{used.id}` (line {used.lineno})",
                    used.lineno,
                    source.instead,
                    source.patch_targets,
                )
                grown = True

    def _verdict(self, qualname: str, function: Function) -> FixtureVerdict | None:
        first_line = min(
            [function.lineno, *(node.lineno for node in function.decorator_list)]
        )

        def verdict(
            what: str,
            line: int,
            instead: str | None = None,
            targets: tuple[str | None, ...] = (),
        ) -> FixtureVerdict:
            return FixtureVerdict(
                _fixture_name(function),
                qualname,
                first_line,
                function.lineno,
                f"{what} (line {line})",
                line,
                instead,
                targets,
            )

        spans = [(first_line, function.end_lineno or function.lineno)]
        spans += [
            (helper.lineno, helper.end_lineno or helper.lineno)
            for helper in self._helpers(function)
        ]
        inside = [
            finding
            for finding in self.findings
            if any(start <= finding.line <= end for start, end in spans)
            and not finding.sets_data
        ]
        evidence = [finding for finding in inside if not finding.enabler] or inside
        if evidence:
            first = min(evidence, key=lambda finding: finding.line)
            targets = tuple(
                target
                for finding in evidence
                for target in (finding.patch_targets or (None,))
            )
            return verdict(
                FIXTURE_EVIDENCE[first.rule], first.line, first.instead, targets
            )
        literal_parameters = frozenset(
            argument.arg
            for argument in function.args.args
            if argument.arg in self._literal_fixtures()
        )
        for value in self._values(function, _HELPER_DEPTH):
            records = self.values.records(value, literal_parameters)
            if records:
                return verdict(records, value.lineno)
            stand_in = self.values.stand_in(value, function)
            if stand_in:
                return verdict(f"returns {stand_in}", value.lineno)
        injected = self._injected_records(function)
        if injected is not None:
            return verdict(
                "injects literal placeholder records with monkeypatch", injected
            )
        return None

    def _literal_fixtures(self) -> frozenset[str]:
        """Fixtures of this file whose every value is a literal (scalars included)."""
        if self._literal_fixture_names is None:
            names = set()
            for _, function in self.fixtures:
                values = list(self._values(function, _HELPER_DEPTH))
                if values and all(self.values.is_literal(value) for value in values):
                    names.add(_fixture_name(function))
            self._literal_fixture_names = frozenset(names)
        return self._literal_fixture_names

    def _injected_records(self, function: Function) -> int | None:
        """The line of literal records FUNCTION hands to monkeypatch, if it does."""
        nodes = list(own_nodes(function.body))
        patches = any(
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("setattr", "setitem")
            and ast.unparse(node.func.value).lower().endswith("monkeypatch")
            for node in nodes
        )
        records = [
            node.lineno
            for node in nodes
            if isinstance(node, (ast.List, ast.Tuple, ast.Set))
            and self.values.records(node)
        ]
        return records[0] if patches and records else None

    def _helpers(self, function: Function) -> list[Function | ast.ClassDef]:
        """Module-level functions and classes FUNCTION calls, and the ones
        they call, a few deep: what a class it instantiates does is part of
        the value it returns."""
        callables = {**self.values.classes, **self.functions}
        found: dict[str, Function | ast.ClassDef] = {}
        frontier: list[Function | ast.ClassDef] = [function]
        for _ in range(_HELPER_DEPTH):
            called = {
                node.func.id
                for caller in frontier
                for node in ast.walk(caller)
                if isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in callables
                and node.func.id not in found
                and node.func.id not in self.fixture_names
            }
            frontier = [callables[name] for name in called]
            found.update(zip(called, frontier))
        return list(found.values())

    def _values(self, function: Function, depth: int) -> Iterator[ast.expr]:
        """The expressions FUNCTION returns or yields, followed through names and helpers."""
        for node in own_nodes(function.body):
            if isinstance(node, (ast.Return, ast.Yield)) and node.value is not None:
                yield from self._origins(node.value, function, depth)

    def _origins(
        self, value: ast.expr, function: Function, depth: int
    ) -> Iterator[ast.expr]:
        if isinstance(value, ast.Await):
            value = value.value
        callee = (
            self.values.resolve(value.func)
            if isinstance(value, ast.Call) and len(value.args) == 1
            else None
        )
        helper = (
            self.functions.get(value.func.id)
            if isinstance(value, ast.Call)
            and isinstance(value.func, ast.Name)
            and value.func.id not in self.fixture_names
            and depth > 0
            else None
        )
        if isinstance(value, ast.Name):
            assigned = _assignments(function, value.id)
            if not assigned and value.id in self.constants:
                assigned = [self.constants[value.id]]
            for origin in assigned:
                if not (isinstance(origin, ast.Name) and origin.id == value.id):
                    yield from self._origins(origin, function, depth)
        elif callee in _COPIES:
            yield from self._origins(value.args[0], function, depth)
        elif helper is not None:
            yield from self._values(helper, depth - 1)
        else:
            yield value


def _assignments(function: Function, name: str) -> list[ast.expr]:
    """Every value FUNCTION binds to NAME, by assignment or `with ... as NAME`."""
    values = []
    for node in own_nodes(function.body):
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name
            for target in node.targets
        ):
            values.append(node.value)
        elif (
            isinstance(node, (ast.AnnAssign, ast.NamedExpr))
            and isinstance(node.target, ast.Name)
            and node.target.id == name
            and node.value is not None
        ):
            values.append(node.value)
        elif (
            isinstance(node, ast.withitem)
            and isinstance(node.optional_vars, ast.Name)
            and node.optional_vars.id == name
        ):
            values.append(node.context_expr)
    return values


def _instance_arguments(cls: ast.ClassDef) -> frozenset[str]:
    """The attributes X of which the methods of CLS pass `self.X` to a call."""
    arguments = (
        argument
        for node in ast.walk(cls)
        if isinstance(node, ast.Call)
        for argument in [*node.args, *(keyword.value for keyword in node.keywords)]
    )
    return frozenset(argument.attr for argument in arguments if _on_instance(argument))


def _on_instance(target: ast.expr) -> bool:
    """`self.x` or `cls.x`."""
    return (
        isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id in ("self", "cls")
    )


def _fixture_name(function: Function) -> str:
    """The name tests request the fixture by: `name=` in the decorator, else its own."""
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Call):
            for keyword in decorator.keywords:
                name = constant_string(keyword.value) if keyword.arg == "name" else None
                if name:
                    return name
    return function.name


_RECORD_TYPE_MAKERS = frozenset(
    {"collections.namedtuple", "typing.NamedTuple", "namedtuple"}
)


def literal_records_of_a_record_type(
    function: Function, values: ModuleValues
) -> tuple[str, int] | None:
    """(what, line) when FUNCTION returns literal records of a record type it
    defines: two or more calls of it with literal arguments (records nested
    in records count), or `map(RecordType, [literals])`."""
    record_types = {
        target.id
        for node in own_nodes(function.body)
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and values.names.resolve_or_written(node.value.func) in _RECORD_TYPE_MAKERS
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    if not record_types:
        return None

    def is_record(node: ast.expr) -> bool:
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in record_types
            and all(
                values.is_literal(argument) or is_record(argument)
                for argument in [*node.args, *(k.value for k in node.keywords)]
            )
        )

    for node in own_nodes(function.body):
        if not isinstance(node, ast.Return) or node.value is None:
            continue
        returned = node.value
        if isinstance(returned, (ast.List, ast.Tuple)) and len(returned.elts) >= 2:
            if all(is_record(element) for element in returned.elts):
                kind = type(returned).__name__.lower()
                return (
                    f"hands a literal {kind} of {len(returned.elts)} placeholder "
                    "records",
                    node.lineno,
                )
        if (
            isinstance(returned, ast.Call)
            and values.resolve(returned.func) is None
            and isinstance(returned.func, ast.Name)
            and returned.func.id == "map"
            and len(returned.args) == 2
            and isinstance(returned.args[0], ast.Name)
            and returned.args[0].id in record_types
            and values.is_literal(returned.args[1])
        ):
            return "hands placeholder records mapped from a literal list", node.lineno
    return None


def _handed_names(module: ast.Module) -> frozenset[str]:
    """Names given to a call as an argument, themselves or called:
    `mark_dualiter("users", make_users)`, `render(users=make_users())`."""
    handed = set()
    for node in ast.walk(module):
        if not isinstance(node, ast.Call):
            continue
        for argument in [*node.args, *(keyword.value for keyword in node.keywords)]:
            if isinstance(argument, ast.Call) and not argument.args:
                argument = argument.func
            if isinstance(argument, ast.Name):
                handed.add(argument.id)
    return frozenset(handed)
