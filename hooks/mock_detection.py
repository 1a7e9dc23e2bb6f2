"""Where a Python file fabricates data instead of using real data.

Two layers. Line facts: imports and uses of mock-object, fake-data and
mocked-service libraries, and `monkeypatch.setattr` of code to a stub. Fixture
verdicts: where each pytest fixture's value comes from; it is fabricated when
the fixture (or a helper in the same file that it calls) uses one of those
libraries or stubs, or returns literal records or a stand-in object built
from literals. Everything else passes: data loaded from a file, built in
tmp_path, a real connection or process, the project's own code.

A name counts for what the file's imports make it, never for its spelling:
`MockConfigEntry` from a test library is not a mock, `fake_site_packages`
that builds a real directory is not fabricated.
"""

from __future__ import annotations

import ast
import re
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath

from hooks.allow_comments import allow_comments

MOCK_OBJECT = "mock-object"
FAKE_DATA_LIBRARY = "fake-data-library"
MOCKED_SERVICE = "mocked-service"
FABRICATED_FIXTURE = "fabricated-fixture"
MONKEYPATCH_STUB = "monkeypatch-stub"
MOCK_DATA_FILE = "mock-data-file"
MODULE_SCOPE = "<module>"

_REAL_OBJECT = (
    "the real object: run the project's code on real inputs (files in tmp_path, "
    "a real sqlite database, a real subprocess)"
)
_REAL_RECORDS = (
    "records built through the project's own code, or loaded from a committed "
    "data file (tests/data/...)"
)
_REAL_HTTP = (
    "a real HTTP server the test starts (http.server or the app itself in a "
    "thread or subprocess) serving committed response files"
)
_REAL_TIME = (
    "the real clock with a tolerance, or pass the time into the code under test "
    "as an argument"
)


@dataclass(frozen=True)
class Library:
    rule: str
    instead: str


# Top-level module (or dotted prefix) -> what it fakes and what to use instead.
LIBRARIES = {
    **dict.fromkeys(
        (
            "unittest.mock",
            "mock",
            "pytest_mock",
            "asynctest",
            "flexmock",
            "mockito",
            "pretend",
            "doublex",
        ),
        Library(MOCK_OBJECT, _REAL_OBJECT),
    ),
    **dict.fromkeys(
        (
            "faker",
            "factory",
            "model_bakery",
            "model_mommy",
            "mimesis",
            "polyfactory",
            "pydantic_factories",
            "autofixture",
            "fauxfactory",
            "mixer",
            "pytest_factoryboy",
            "elizabeth",
        ),
        Library(FAKE_DATA_LIBRARY, _REAL_RECORDS),
    ),
    **dict.fromkeys(
        (
            "responses",
            "requests_mock",
            "respx",
            "pytest_httpx",
            "httpretty",
            "aioresponses",
            "pook",
            "httmock",
        ),
        Library(MOCKED_SERVICE, _REAL_HTTP),
    ),
    **dict.fromkeys(
        ("freezegun", "time_machine", "pytest_freezer", "pytest_freezegun"),
        Library(MOCKED_SERVICE, _REAL_TIME),
    ),
    "moto": Library(
        MOCKED_SERVICE,
        "the real service in a test account or a local server of it "
        "(e.g. MinIO for S3), or declare the boundary in allow-patch with a reason",
    ),
    "fakeredis": Library(
        MOCKED_SERVICE, "a real Redis server the test starts (redis-server --port 0)"
    ),
    "mockredis": Library(
        MOCKED_SERVICE, "a real Redis server the test starts (redis-server --port 0)"
    ),
    "mongomock": Library(
        MOCKED_SERVICE, "a real MongoDB the test starts (mongod on a tmp_path dbpath)"
    ),
    "pyfakefs": Library(MOCKED_SERVICE, "real files and directories in tmp_path"),
}

# Fixtures that pytest plugins of those libraries provide -> what they are.
PLUGIN_FIXTURES = {
    **{
        name: "pytest_mock.mocker"
        for name in (
            "mocker",
            "class_mocker",
            "module_mocker",
            "package_mocker",
            "session_mocker",
        )
    },
    "httpx_mock": "pytest_httpx.httpx_mock",
    "requests_mock": "requests_mock.Mocker",
    "respx_mock": "respx.mock",
    "faker": "faker.Faker",
    "freezer": "freezegun.freeze_time",
    "time_machine": "time_machine.travel",
}

_FIXTURE_DECORATORS = frozenset(
    {"pytest.fixture", "pytest.yield_fixture", "pytest_asyncio.fixture"}
)
_PATCH_FUNCTIONS = ("patch", "patch.object", "patch.dict", "patch.multiple")
_IMPORTERS = frozenset({"importlib.import_module", "__import__", "pytest.importorskip"})
# Calls that return a copy of their one argument: the data is the argument's.
_COPIES = frozenset({"dict", "list", "tuple", "copy.copy", "copy.deepcopy"})
_BUILTINS = frozenset({"__import__", "dict", "list", "tuple"})
_DICT_TYPES = frozenset({"dict", "collections.OrderedDict"})
_STAND_IN_TYPES = frozenset({"types.SimpleNamespace", "argparse.Namespace"})
# Value types whose instances built from literals are literals themselves.
_VALUE_MODULES = frozenset({"datetime", "decimal", "uuid", "fractions"})
_MOCK_DATA_DIRECTORIES = frozenset(
    {"mocks", "__mocks__", "fakes", "mock_data", "fake_data", "mocked_data"}
)
_MOCK_DATA_NAME = re.compile(r"(?:mock|mocked|fake|dummy)(?:[_\-.]|s[_\-.])", re.I)
_HELPER_DEPTH = 3

# A file can hold a finding only if one of these matches, so most files are
# skipped without parsing. Each pattern starts with a literal, which the regex
# engine finds fast; one alternation over everything scans ten times slower.
_LIBRARY_NAMES = "|".join(
    re.escape(name) for name in sorted({name.split(".")[0] for name in LIBRARIES})
)
_IMPORT_STATEMENT = re.compile(
    rf"import[ \t]+(?:[\w.]+(?:[ \t]+as[ \t]+\w+)?[ \t]*,[ \t]*)*(?:{_LIBRARY_NAMES})\b".encode()
)
_EVIDENCE = tuple(
    re.compile(pattern.encode())
    for pattern in (
        rf"from[ \t]+(?:{_LIBRARY_NAMES})\b",
        r"from[ \t]+unittest[ \t]+import",
        r"unittest\.mock",
        r"import_module\(",
        r"__import__\(",
        r"importorskip\(",
        r"mocker\b",
        r"_mock\b",
        r"faker\b",
        r"freezer\b",
        r"time_machine\b",
        r"pytest\.fixture\b",
        r"pytest\.yield_fixture\b",
        r"pytest_asyncio\.fixture\b",
        r"@[ \t]*fixture\b",
        r"import pytest as",
        r"onkey[Pp]atch",
        r"testwarden",
    )
)


@dataclass(frozen=True)
class Finding:
    """One piece of mock data: where, which rule, what it is and what to use instead."""

    path: str
    line: int
    rule: str
    function: str
    what: str
    instead: str
    end_line: int
    # For a fixture: the line that fabricates its value; a change adding it is new.
    evidence_line: int = 0
    # What the patches behind this finding replace (None: not a named target).
    patch_targets: tuple[str | None, ...] = ()
    # An import or plugin-fixture request: mock data only through its uses.
    enabler: bool = False
    # patch.dict: changes data in place, as monkeypatch.setenv does; no fixture
    # value is fabricated by it.
    sets_data: bool = False

    def key(self) -> tuple[str, str, str]:
        return (self.path, self.function, self.rule)

    def is_added(self, added_lines: set[int]) -> bool:
        return self.evidence_line in added_lines or any(
            line in added_lines for line in range(self.line, self.end_line + 1)
        )

    def format(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.what}; use instead: {self.instead}"


@dataclass(frozen=True)
class Exempt:
    finding: Finding
    reason: str


@dataclass
class FileReport:
    """What one file holds: findings that block, exempted ones, and bad allow comments."""

    findings: list[Finding] = field(default_factory=list)
    exempt: list[Exempt] = field(default_factory=list)
    reasonless_allow_lines: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class FixtureVerdict:
    """Why a fixture's value is fabricated, for the fixtures that are."""

    name: str
    qualname: str
    line: int
    end_line: int
    what: str
    evidence_line: int
    # What to use instead, when the evidence names it better than the fixture's name.
    instead: str | None = None
    patch_targets: tuple[str | None, ...] = ()


class CannotAnalyse(Exception):
    def __init__(self, line: int | None, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


def library_of(dotted: str) -> tuple[str, Library] | None:
    """The library a dotted name belongs to, longest prefix first."""
    parts = dotted.split(".")
    for length in range(len(parts), 0, -1):
        prefix = ".".join(parts[:length])
        if prefix in LIBRARIES:
            return prefix, LIBRARIES[prefix]
    return None


def may_contain_mock_data(source: bytes) -> bool:
    """False only for a file in which analyse() cannot find anything."""
    for match in _IMPORT_STATEMENT.finditer(source):
        before = source[source.rfind(b"\n", 0, match.start()) + 1 : match.start()]
        # `import mock` starts a statement; `from x import mock` does not.
        if not before.strip() or before.rstrip().endswith((b":", b";")):
            return True
    return any(pattern.search(source) for pattern in _EVIDENCE)


def mock_data_file(path: str) -> Finding | None:
    """A data file named or placed as mock data; Python files are judged by content."""
    posix = PurePosixPath(path)
    if posix.suffix in (".py", ".pyi"):
        return None
    directory = next(
        (part for part in posix.parts[:-1] if part.lower() in _MOCK_DATA_DIRECTORIES),
        None,
    )
    if directory is None and not _MOCK_DATA_NAME.match(posix.name):
        return None
    where = f"in a `{directory}/` directory" if directory else "named"
    return Finding(
        path,
        1,
        MOCK_DATA_FILE,
        "<file>",
        f"a new data file {where} as mock data",
        "data captured from the real system (a real export, a file the project's "
        "code writes), committed under tests/data with a name that says what it holds",
        end_line=1,
    )


def parse(source: bytes, path: str) -> ast.Module:
    try:
        return ast.parse(source, filename=path)
    except SyntaxError as error:
        if "unicode error" in str(error.msg) or "encoding" in str(error.msg):
            raise CannotAnalyse(None, f"cannot decode: {error.msg}") from None
        raise CannotAnalyse(error.lineno, f"does not parse: {error.msg}") from None
    except (ValueError, RecursionError, MemoryError) as error:
        raise CannotAnalyse(None, f"does not parse: {error}") from None


def analyse(
    source: bytes,
    path: str,
    *,
    project_modules: frozenset[str] = frozenset(),
    allowed_target: Callable[[str], str | None] = lambda target: None,
) -> FileReport:
    """Every finding in one Python file, with allow comments and allowed patches applied.

    ALLOWED_TARGET returns the configured reason when a patch target may be
    faked, else None; the project's own modules are never allowed.
    """
    if not may_contain_mock_data(source):
        return FileReport()
    module = parse(source, path)
    reader = _ModuleReader(module, source, path, project_modules)
    raw = reader.line_findings() + [
        _fixture_finding(path, verdict) for verdict in reader.fixture_verdicts()
    ]
    allow = allow_comments(source, "mock") if b"testwarden" in source else {}
    report = FileReport(
        reasonless_allow_lines=sorted(line for line, why in allow.items() if not why)
    )

    def target_reason(finding: Finding) -> str | None:
        return _allowed_reason(finding, project_modules, allowed_target)

    uses = [
        finding
        for finding in raw
        if not finding.enabler and finding.rule in (MOCK_OBJECT, MONKEYPATCH_STUB)
    ]
    only_allowed_uses = bool(uses) and all(target_reason(use) for use in uses)
    for finding in sorted(raw, key=lambda finding: (finding.line, finding.rule)):
        inline = next(
            (
                allow[line]
                for line in range(finding.line, finding.end_line + 1)
                if allow.get(line)
            ),
            None,
        )
        reason = target_reason(finding)
        if inline:
            report.exempt.append(Exempt(finding, f"{inline} (inline allow-mock)"))
        elif reason:
            report.exempt.append(Exempt(finding, f"{reason} (allow-patch)"))
        elif finding.enabler and finding.rule == MOCK_OBJECT and only_allowed_uses:
            report.exempt.append(
                Exempt(finding, "only used to patch allowed targets (allow-patch)")
            )
        else:
            report.findings.append(finding)
    return report


def _allowed_reason(
    finding: Finding,
    project_modules: frozenset[str],
    allowed_target: Callable[[str], str | None],
) -> str | None:
    targets = finding.patch_targets
    if not targets or any(
        target is None or _is_project(target, project_modules) for target in targets
    ):
        return None
    reasons = [allowed_target(target) for target in targets if target]
    return reasons[0] if all(reasons) else None


def _is_project(target: str, project_modules: frozenset[str]) -> bool:
    return target.startswith(".") or target.split(".")[0] in project_modules


def _fixture_finding(path: str, verdict: FixtureVerdict) -> Finding:
    noun = verdict.name.replace("_", " ")
    return Finding(
        path,
        verdict.line,
        FABRICATED_FIXTURE,
        verdict.qualname,
        f"fixture `{verdict.name}` {verdict.what}",
        verdict.instead
        or f"build the {noun} through the project's code against real resources "
        "(tmp_path, a real test database, a real server), or load it from a "
        "committed data file",
        end_line=verdict.end_line,
        evidence_line=verdict.evidence_line,
        patch_targets=verdict.patch_targets,
    )


@dataclass(frozen=True)
class _Scope:
    """Where the walk is: the enclosing function and the names it binds."""

    qualname: str
    function: ast.FunctionDef | ast.AsyncFunctionDef | None
    # Names the function binds to a dotted name: plugin fixtures it requests,
    # modules it imports itself.
    local_aliases: dict[str, str]
    monkeypatches: frozenset[str]
    # Names the function binds itself: they hide imports of the same name.
    local_names: frozenset[str] = frozenset()


# Resolves names through the file's imports alone.
_BARE = _Scope(MODULE_SCOPE, None, {}, frozenset())

_Function = ast.FunctionDef | ast.AsyncFunctionDef
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_NESTED_SCOPES = (*_FUNCTIONS, ast.ClassDef, ast.Lambda)


class _ModuleReader:
    def __init__(
        self,
        module: ast.Module,
        source: bytes,
        path: str,
        project_modules: frozenset[str],
    ) -> None:
        self.path = path
        self.lines = source.splitlines()
        self.monkeypatching = b"onkey" in source
        self.project_modules = project_modules
        self.aliases: dict[str, str] = {}
        for node in _own_nodes(module.body):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                self.aliases.update(_bound_names(node))
        # Only a local name that hides an imported library changes a verdict.
        self.library_aliases = frozenset(
            name for name, dotted in self.aliases.items() if self._library(dotted)
        )
        self.functions = {
            node.name: node for node in module.body if isinstance(node, _FUNCTIONS)
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
        self.fixtures: list[tuple[str, _Function]] = []
        self._literal_fixture_names: frozenset[str] | None = None
        self.fixture_names = {
            node.name
            for node in _defined_functions(module.body)
            if self._is_fixture(node)
        }
        # Text a function must hold for anything in it to be a finding.
        self.tokens = (
            *(name.encode() for name in self.library_aliases),
            *(name.encode() for name in PLUGIN_FIXTURES),
            b"onkey",
            b"import",
            b"fixture",
        )
        self._findings: dict[tuple[int, str], Finding] = {}
        self._patch_targets: list[str | None] = []
        root = _Scope(MODULE_SCOPE, None, {}, frozenset({"monkeypatch"}))
        for statement in module.body:
            self._visit(statement, root)

    def line_findings(self) -> list[Finding]:
        return list(self._findings.values())

    # Names

    def dotted(self, node: ast.AST, scope: _Scope) -> str | None:
        """The dotted name an expression refers to through this file's imports."""
        if isinstance(node, ast.Name):
            if node.id in scope.local_aliases:
                return scope.local_aliases[node.id]
            if node.id in self.aliases and node.id not in scope.local_names:
                return self.aliases[node.id]
            return node.id if node.id in _BUILTINS else None
        if isinstance(node, ast.Attribute):
            base = self.dotted(node.value, scope)
            return f"{base}.{node.attr}" if base else None
        return None

    def _library(self, dotted: str) -> tuple[str, Library] | None:
        """The library DOTTED names, unless the project has a module of that name."""
        if dotted.split(".")[0] in self.project_modules:
            return None
        return library_of(dotted)

    def _is_fixture(self, function: _Function) -> bool:
        return any(
            self.dotted(
                decorator.func if isinstance(decorator, ast.Call) else decorator, _BARE
            )
            in _FIXTURE_DECORATORS
            for decorator in function.decorator_list
        )

    # The walk

    def _add(self, node: ast.AST, rule: str, what: str, instead: str, **extra) -> None:
        line = node.lineno
        key = (line, rule)
        if key not in self._findings:
            self._findings[key] = Finding(
                self.path,
                line,
                rule,
                extra.pop("function"),
                what,
                instead,
                end_line=node.end_lineno or line,
                patch_targets=(
                    (self._patch_targets[-1],) if self._patch_targets else ()
                ),
                **extra,
            )

    def _visit(self, node: ast.AST, scope: _Scope) -> None:
        if isinstance(node, _FUNCTIONS):
            self._visit_function(node, scope)
        elif isinstance(node, ast.ClassDef):
            inner = replace(scope, qualname=_qualify(scope, node.name))
            for child in ast.iter_child_nodes(node):
                self._visit(child, inner)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            self._visit_import(node, scope)
        elif isinstance(node, ast.Call):
            self._visit_call(node, scope)
        elif isinstance(node, (ast.Name, ast.Attribute)):
            self._visit_reference(node, scope)
        else:
            for child in ast.iter_child_nodes(node):
                self._visit(child, scope)

    def _visit_function(self, function: _Function, scope: _Scope) -> None:
        qualname = _qualify(scope, function.name)
        if self._is_fixture(function):
            self.fixtures.append((qualname, function))
        arguments = [
            *function.args.posonlyargs,
            *function.args.args,
            *function.args.kwonlyargs,
        ]
        local_aliases = dict(scope.local_aliases)
        for argument in arguments:
            dotted = PLUGIN_FIXTURES.get(argument.arg)
            found = self._library(dotted) if dotted else None
            if found is None or argument.arg in self.fixture_names:
                continue
            local_aliases[argument.arg] = dotted
            library_name, library = found
            self._add(
                argument,
                library.rule,
                f"requests the `{argument.arg}` fixture ({library_name})",
                library.instead,
                function=qualname,
                enabler=True,
            )
        first_line = min(
            [function.lineno, *(node.lineno for node in function.decorator_list)]
        )
        text = b"\n".join(self.lines[first_line - 1 : function.end_lineno])
        if not any(token in text for token in self.tokens):
            return  # nothing in it can name a library, a fixture or monkeypatch
        local_names, monkeypatches, imports = self._bindings(function, arguments, text)
        local_aliases.update(imports)
        inner = _Scope(
            qualname,
            function,
            local_aliases,
            scope.monkeypatches | monkeypatches,
            scope.local_names | local_names,
        )
        for child in ast.iter_child_nodes(function):
            self._visit(child, inner)

    def _bindings(
        self, function: _Function, arguments: list[ast.arg], text: bytes
    ) -> tuple[frozenset[str], frozenset[str], dict[str, str]]:
        """What FUNCTION binds: names that hide a library, names bound to a
        MonkeyPatch, and the names its own imports bind."""
        hidden = {argument.arg for argument in arguments} & self.library_aliases
        monkeypatches: set[str] = set()
        imports: dict[str, str] = {}
        if not (self.library_aliases or self.monkeypatching or b"import" in text):
            return frozenset(hidden), frozenset(monkeypatches), imports
        for node in _own_nodes(function.body):
            if isinstance(node, ast.Name) and node.id in self.library_aliases:
                if isinstance(node.ctx, ast.Store):
                    hidden.add(node.id)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                imports.update(_bound_names(node))
            elif (
                isinstance(node, ast.withitem)
                and isinstance(node.optional_vars, ast.Name)
                and _makes_monkeypatch(node.context_expr)
            ):
                monkeypatches.add(node.optional_vars.id)
            elif isinstance(node, ast.Assign) and _makes_monkeypatch(node.value):
                monkeypatches.update(
                    target.id for target in node.targets if isinstance(target, ast.Name)
                )
        return frozenset(hidden), frozenset(monkeypatches), imports

    def _visit_import(self, node: ast.Import | ast.ImportFrom, scope: _Scope) -> None:
        for dotted in _imported_names(node):
            found = self._library(dotted)
            if found:
                library_name, library = found
                self._add(
                    node,
                    library.rule,
                    f"imports {_imported(dotted, library_name, library)}",
                    library.instead,
                    function=scope.qualname,
                    enabler=True,
                )

    def _visit_reference(self, node: ast.Name | ast.Attribute, scope: _Scope) -> None:
        dotted = self.dotted(node, scope)
        found = self._library(dotted) if dotted else None
        if found:
            library_name, library = found
            self._add(
                node,
                library.rule,
                f"`{ast.unparse(node)}` ({library_name}) {_USE[library.rule]}",
                library.instead,
                function=scope.qualname,
            )
        elif dotted is None:
            for child in ast.iter_child_nodes(node):
                self._visit(child, scope)

    def _visit_call(self, call: ast.Call, scope: _Scope) -> None:
        callee = self.dotted(call.func, scope)
        imported = _constant_string(call.args[0]) if call.args else None
        if callee in _IMPORTERS and imported and self._library(imported):
            library_name, library = self._library(imported)
            self._add(
                call,
                library.rule,
                f"imports {_imported(imported, library_name, library, ' dynamically')}",
                library.instead,
                function=scope.qualname,
                enabler=True,
            )
        patching = callee and self._library(callee) and _is_patch(callee)
        if patching:
            target = self._patch_target(call, callee, scope)
            shown = target or "an attribute"
            self._patch_targets.append(target)
            self._add(
                call,
                MOCK_OBJECT,
                f"`{ast.unparse(call.func)}(...)` replaces {self._describe(shown)} with a mock",
                _REAL_OBJECT,
                function=scope.qualname,
                sets_data=callee.endswith(".patch.dict"),
            )
        elif (
            isinstance(call.func, ast.Attribute)
            and call.func.attr == "setattr"
            and isinstance(call.func.value, ast.Name)
            and call.func.value.id in scope.monkeypatches
        ):
            self._visit_monkeypatch(call, scope)
        for child in ast.iter_child_nodes(call):
            self._visit(child, scope)
        if patching:
            self._patch_targets.pop()

    def _patch_target(self, call: ast.Call, callee: str, scope: _Scope) -> str | None:
        arguments = [
            *call.args,
            *(keyword.value for keyword in call.keywords if keyword.arg == "target"),
        ]
        if not arguments:
            return None
        first = _constant_string(arguments[0]) or self.dotted(arguments[0], scope)
        if callee.endswith(".patch.object"):
            attribute = _constant_string(arguments[1]) if len(arguments) > 1 else None
            return f"{first}.{attribute}" if first and attribute else None
        return first

    def _describe(self, target: str) -> str:
        if _is_project(target, self.project_modules):
            return f"the project's own `{target}`"
        return f"`{target}`" if target != "an attribute" else target

    def _visit_monkeypatch(self, call: ast.Call, scope: _Scope) -> None:
        arguments = call.args
        if len(arguments) == 2 and _constant_string(arguments[0]):
            target: str | None = _constant_string(arguments[0])
            shown = target
            value = arguments[1]
        elif len(arguments) >= 3 and _constant_string(arguments[1]):
            attribute = _constant_string(arguments[1])
            base = self.dotted(arguments[0], scope)
            target = f"{base}.{attribute}" if base else None
            shown = target or f"{ast.unparse(arguments[0])}.{attribute}"
            value = arguments[2]
        else:
            return
        stub = self._stub(value, scope.function)
        if stub is None:
            return
        self._patch_targets.append(target)
        self._add(
            call,
            MONKEYPATCH_STUB,
            f"`monkeypatch.setattr` replaces {self._describe(shown)} with {stub}",
            "let the real code run on real inputs (files in tmp_path, a real "
            "database, a real subprocess); to change configuration, set it "
            "(monkeypatch.setenv, a config file in tmp_path)",
            function=scope.qualname,
        )
        self._patch_targets.pop()

    # Stubs and literals

    def _definition(
        self, name: str, function: _Function | None
    ) -> _Function | ast.ClassDef | None:
        if function is not None:
            for node in _own_nodes(function.body):
                if isinstance(node, (*_FUNCTIONS, ast.ClassDef)) and (
                    node.name == name
                ):
                    return node
        return self.functions.get(name) or self.classes.get(name)

    def _stub(self, value: ast.expr, function: _Function | None) -> str | None:
        if isinstance(value, ast.Lambda):
            if self.is_literal(value.body):
                return f"a lambda returning `{_shorten(ast.unparse(value.body))}`"
            return None
        if isinstance(value, ast.Name):
            definition = self._definition(value.id, function)
            if isinstance(definition, ast.ClassDef) and self._is_stub_class(definition):
                return f"the stand-in class `{value.id}`"
            if isinstance(definition, _FUNCTIONS) and self._is_stub_function(
                definition
            ):
                return (
                    f"the stub `{value.id}`, which only returns fixed values or raises"
                )
            return None
        return self._stand_in(value, function)

    def _stand_in(self, value: ast.expr, function: _Function | None) -> str | None:
        """An object that only stands in for a real one: built from literals."""
        if not isinstance(value, ast.Call):
            return None
        callee = self.dotted(value.func, _BARE)
        arguments = [*value.args, *(keyword.value for keyword in value.keywords)]
        if callee in _STAND_IN_TYPES and arguments:
            if all(self.is_literal(argument) for argument in arguments):
                return f"a `{ast.unparse(value.func)}` of literals"
            return None
        if isinstance(value.func, ast.Name):
            definition = self._definition(value.func.id, function)
            if isinstance(definition, ast.ClassDef) and self._is_stub_class(definition):
                return f"an instance of the stand-in class `{value.func.id}`"
        return None

    def _is_stub_function(self, function: _Function) -> bool:
        body = _without_docstring(function.body)
        return bool(body) and all(self._is_stub_statement(node) for node in body)

    def _is_stub_statement(self, node: ast.stmt) -> bool:
        if isinstance(node, (ast.Pass, ast.Raise)):
            return True
        if isinstance(node, ast.Expr):
            return isinstance(node.value, ast.Constant)
        if isinstance(node, ast.Return):
            return node.value is None or self._is_fixed_value(node.value)
        return False

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
        if isinstance(node, _FUNCTIONS):
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
            callee = self.dotted(node.func, _BARE)
            value_type = callee is not None and (
                callee.split(".")[0] in _VALUE_MODULES or callee in _DICT_TYPES
            )
            return value_type and self._literal_arguments(node, names)
        return False

    def _literal_arguments(self, call: ast.Call, names: frozenset[str]) -> bool:
        return all(self.is_literal(argument, names) for argument in call.args) and all(
            keyword.arg is not None and self.is_literal(keyword.value, names)
            for keyword in call.keywords
        )

    def _is_fixed_value(self, node: ast.expr) -> bool:
        """A literal, or a library's value built from literals (`os.terminal_size((80, 24))`)."""
        if self.is_literal(node):
            return True
        if not isinstance(node, ast.Call) or not (node.args or node.keywords):
            return False
        callee = self.dotted(node.func, _BARE)
        return (
            callee is not None
            and not callee.startswith(".")
            and callee.split(".")[0] not in self.project_modules
            and self._literal_arguments(node, frozenset())
        )

    def _records(
        self, node: ast.expr, names: frozenset[str] = frozenset()
    ) -> str | None:
        """What literal records NODE is, or None when it is not literal records."""
        if isinstance(node, ast.Call) and self._is_json_text(node):
            return "returns placeholder records parsed from a JSON string literal"
        if not self.is_literal(node, names):
            return None
        if isinstance(node, ast.Dict) and node.keys:
            return "returns a literal dict of placeholder values"
        if isinstance(node, ast.Call) and (node.args or node.keywords):
            if self.dotted(node.func, _BARE) in _DICT_TYPES:
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

    def _is_json_text(self, call: ast.Call) -> bool:
        callee = self.dotted(call.func, _BARE)
        text = _constant_string(call.args[0]) if call.args else None
        return callee == "json.loads" and text is not None and text.strip()[:1] in "{["

    # Fixtures

    def fixture_verdicts(self) -> list[FixtureVerdict]:
        verdicts = []
        for qualname, function in self.fixtures:
            verdict = self._verdict(qualname, function)
            if verdict:
                verdicts.append(verdict)
        return verdicts

    def _verdict(self, qualname: str, function: _Function) -> FixtureVerdict | None:
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
            for finding in self._findings.values()
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
                _FIXTURE_EVIDENCE[first.rule], first.line, first.instead, targets
            )
        literal_parameters = frozenset(
            argument.arg
            for argument in function.args.args
            if argument.arg in self._literal_fixtures()
        )
        for value in self._values(function, _HELPER_DEPTH):
            records = self._records(value, literal_parameters)
            if records:
                return verdict(records, value.lineno)
            stand_in = self._stand_in(value, function)
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
                if values and all(self.is_literal(value) for value in values):
                    names.add(_fixture_name(function))
            self._literal_fixture_names = frozenset(names)
        return self._literal_fixture_names

    def _injected_records(self, function: _Function) -> int | None:
        """The line of literal records FUNCTION hands to monkeypatch, if it does."""
        nodes = list(_own_nodes(function.body))
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
            if isinstance(node, (ast.List, ast.Tuple, ast.Set)) and self._records(node)
        ]
        return records[0] if patches and records else None

    def _helpers(self, function: _Function) -> list[_Function]:
        """Module-level functions FUNCTION calls, and the ones they call, a few deep."""
        found: dict[str, _Function] = {}
        frontier = [function]
        for _ in range(_HELPER_DEPTH):
            called = {
                node.func.id
                for caller in frontier
                for node in ast.walk(caller)
                if isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in self.functions
                and node.func.id not in found
                and node.func.id not in self.fixture_names
            }
            frontier = [self.functions[name] for name in called]
            found.update(zip(called, frontier))
        return list(found.values())

    def _values(self, function: _Function, depth: int) -> Iterator[ast.expr]:
        """The expressions FUNCTION returns or yields, followed through names and helpers."""
        for node in _own_nodes(function.body):
            if isinstance(node, (ast.Return, ast.Yield)) and node.value is not None:
                yield from self._origins(node.value, function, depth)

    def _origins(
        self, value: ast.expr, function: _Function, depth: int
    ) -> Iterator[ast.expr]:
        if isinstance(value, ast.Await):
            value = value.value
        callee = (
            self.dotted(value.func, _BARE)
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


_KIND = {
    MOCK_OBJECT: "a mock-object library",
    FAKE_DATA_LIBRARY: "a fake-data library",
    MOCKED_SERVICE: "a service-faking library",
}
_USE = {
    MOCK_OBJECT: "stands in for a real object",
    FAKE_DATA_LIBRARY: "fabricates data",
    MOCKED_SERVICE: "fakes a service",
}
_FIXTURE_EVIDENCE = {
    MOCK_OBJECT: "fabricates its value with a mock object",
    FAKE_DATA_LIBRARY: "builds its value with a fake-data library",
    MOCKED_SERVICE: "fakes a service instead of using a real one",
    MONKEYPATCH_STUB: "patches code with a stub returning literals",
}


def _imported(dotted: str, library_name: str, library: Library, how: str = "") -> str:
    if dotted == library_name:
        return f"`{dotted}`{how}, {_KIND[library.rule]}"
    return f"`{dotted}`{how} from {library_name}, {_KIND[library.rule]}"


def _bound_names(node: ast.Import | ast.ImportFrom) -> dict[str, str]:
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
        for alias, dotted in zip(node.names, _imported_names(node))
        if alias.name != "*"
    }


def _imported_names(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The full dotted name of everything an import statement imports."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    module = "." * node.level + (node.module or "")
    separator = "" if module.endswith(".") else "."
    return [f"{module}{separator}{alias.name}" for alias in node.names]


def _qualify(scope: _Scope, name: str) -> str:
    return name if scope.qualname == MODULE_SCOPE else f"{scope.qualname}.{name}"


def _is_patch(callee: str) -> bool:
    found = library_of(callee)
    return (
        found is not None
        and found[1].rule == MOCK_OBJECT
        and any(callee.endswith(f".{name}") for name in _PATCH_FUNCTIONS)
    )


def _constant_string(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _own_nodes(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """The nodes of BODY in source order, not looking inside nested scopes."""
    pending = deque(body)
    while pending:
        node = pending.popleft()
        yield node
        if not isinstance(node, _NESTED_SCOPES):
            pending.extend(ast.iter_child_nodes(node))


def _defined_functions(body: list[ast.stmt]) -> Iterator[_Function]:
    """Functions defined in BODY and in the classes it defines, at any depth."""
    for node in body:
        if isinstance(node, _FUNCTIONS):
            yield node
        elif isinstance(node, ast.ClassDef):
            yield from _defined_functions(node.body)


def _assignments(function: _Function, name: str) -> list[ast.expr]:
    """Every value FUNCTION binds to NAME, by assignment or `with ... as NAME`."""
    values = []
    for node in _own_nodes(function.body):
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


def _makes_monkeypatch(node: ast.expr) -> bool:
    if not isinstance(node, ast.Call):
        return False
    text = ast.unparse(node.func)
    return text.endswith("MonkeyPatch") or (
        text.endswith(".context") and "monkeypatch" in text.lower()
    )


def _fixture_name(function: _Function) -> str:
    """The name tests request the fixture by: `name=` in the decorator, else its own."""
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Call):
            for keyword in decorator.keywords:
                name = (
                    _constant_string(keyword.value) if keyword.arg == "name" else None
                )
                if name:
                    return name
    return function.name


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    if body and isinstance(body[0], ast.Expr) and _constant_string(body[0].value):
        return body[1:]
    return body


def _shorten(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."
