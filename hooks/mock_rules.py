"""forbid-mock-data's rules: which libraries fake what, what to use instead,
and the Finding a rule produces.

Nothing here reads source; hooks.mock_facts and hooks.mock_fixtures apply
these rules to a file and hooks.mock_detection puts the findings together.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MOCK_OBJECT = "mock-object"
FAKE_DATA_LIBRARY = "fake-data-library"
MOCKED_SERVICE = "mocked-service"
FABRICATED_FIXTURE = "fabricated-fixture"
MONKEYPATCH_STUB = "monkeypatch-stub"
MOCK_DATA_FILE = "mock-data-file"
HAND_WRITTEN_DOUBLE = "hand-written-double"
MODULE_SCOPE = "<module>"

REAL_OBJECT = (
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
        Library(MOCK_OBJECT, REAL_OBJECT),
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
    # What the message calls it: a helper handing data to tests is no fixture.
    kind: str = "fixture"


def library_of(dotted: str) -> tuple[str, Library] | None:
    """The library a dotted name belongs to, longest prefix first."""
    parts = dotted.split(".")
    for length in range(len(parts), 0, -1):
        prefix = ".".join(parts[:length])
        if prefix in LIBRARIES:
            return prefix, LIBRARIES[prefix]
    return None


KIND = {
    MOCK_OBJECT: "a mock-object library",
    FAKE_DATA_LIBRARY: "a fake-data library",
    MOCKED_SERVICE: "a service-faking library",
    HAND_WRITTEN_DOUBLE: "the project's module of hand-written doubles",
}
USE = {
    MOCK_OBJECT: "stands in for a real object",
    FAKE_DATA_LIBRARY: "fabricates data",
    MOCKED_SERVICE: "fakes a service",
    HAND_WRITTEN_DOUBLE: "is a hand-written double",
}
# A package or module of the project by these names holds test doubles, as
# a data file in `mocks/` holds mock data.
DOUBLES_MODULES = frozenset({"mocks", "mock", "fakes", "fake", "stubs", "doubles"})
DOUBLES_MODULE = Library(
    HAND_WRITTEN_DOUBLE,
    "the real class the double stands in for, configured for the test "
    "(files in tmp_path, a real sqlite file, a real local server)",
)


def doubles_module(dotted: str, project_modules: frozenset[str]) -> str | None:
    """The module of the project's own doubles that DOTTED comes from, if any."""
    if not is_project(dotted, project_modules):
        return None
    parts = dotted.split(".")
    for length in range(len(parts) - 1, 0, -1):
        if parts[length - 1] in DOUBLES_MODULES:
            return ".".join(parts[:length])
    return None


FIXTURE_EVIDENCE = {
    MOCK_OBJECT: "fabricates its value with a mock object",
    FAKE_DATA_LIBRARY: "builds its value with a fake-data library",
    MOCKED_SERVICE: "fakes a service instead of using a real one",
    MONKEYPATCH_STUB: "patches code with a stub returning literals",
    HAND_WRITTEN_DOUBLE: "stands in for real code with a hand-written double",
}


def describe_import(
    dotted: str, library_name: str, library: Library, how: str = ""
) -> str:
    if dotted == library_name:
        return f"`{dotted}`{how}, {KIND[library.rule]}"
    return f"`{dotted}`{how} from {library_name}, {KIND[library.rule]}"


def is_project(target: str, project_modules: frozenset[str]) -> bool:
    """Whether a dotted name is the project's own: relative, or one of its modules."""
    return target.startswith(".") or target.split(".")[0] in project_modules
