"""The one place testwarden's settings are read: [tool.testwarden] in pyproject.toml.

Each table is one frozen dataclass (Config holds the top-level keys and one
table per hook id) and each key is declared once, as an attribute with its
converter, default and help; the TOML key is the attribute's name in
kebab-case. SCHEMA, built from them, is what the file may set. An unknown key,
a wrong type or unparsable TOML is a UserError naming the file and the key.
Values given on the command line (overrides) win over the file.
"""

from __future__ import annotations

import re
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from hooks.errors import UserError

PYPROJECT = "pyproject.toml"

DEFAULT_TEST_FILES = ("tests/**", "test_*.py", "*_test.py", "conftest.py")
DEFAULT_COVERAGE_THRESHOLD = 87.0
# Runs of each new or changed test, the selection run included (stress-new).
DEFAULT_STRESS_RUNS = 5
DEFAULT_MUTATION_THRESHOLD = 80.0
DEFAULT_MUTATION_BUDGET = 300  # mutants of an --all-files run
DEFAULT_MOCK_DATA_BASELINE = ".testwarden-mock-data-baseline.json"
# Changes to these never affect what a test does.
DEFAULT_IGNORED_BY_TESTS = (
    "*.md",
    "*.rst",
    "/docs/**",
    "/doc/**",
    "/LICENSE*",
    "/AUTHORS*",
    "/CHANGES*",
    "/CHANGELOG*",
    "/.github/**",
    ".gitignore",
    ".gitattributes",
    "/.pre-commit-config.yaml",
    "/.pre-commit-hooks.yaml",
    "/.editorconfig",
)


def _string_list(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TypeError("a list of strings")
    return tuple(value)


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError("true or false")
    return value


def _percentage(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("a number from 0 to 100")
    if not 0 <= value <= 100:
        raise TypeError("a number from 0 to 100")
    return float(value)


def _positive_integer(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TypeError("a whole number of at least 1")
    return value


def _run_count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TypeError("a whole number of runs, 0 to switch it off")
    return value


def _optional_string(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        raise TypeError("a non-empty string")
    return value


def _reasoned_entries(value: object, key: str, example: str) -> list[tuple[str, str]]:
    """`[{ KEY = "...", reason = "..." }, ...]` as (key value, reason) pairs."""
    expected = f'a list of {{ {key} = "{example}", reason = "why" }} tables, each with a reason'
    if not isinstance(value, list):
        raise TypeError(expected)
    pairs = []
    for entry in value:
        if (
            not isinstance(entry, dict)
            or set(entry) != {key, "reason"}
            or not all(
                isinstance(item, str) and item.strip() for item in entry.values()
            )
        ):
            raise TypeError(expected)
        pairs.append((entry[key].strip(), entry["reason"].strip()))
    return pairs


@dataclass(frozen=True)
class Exemption:
    """A deliberate removal or skip: the test (or file) it names and why."""

    test: str
    reason: str


def _exemptions(value: object) -> tuple[Exemption, ...]:
    return tuple(
        Exemption(*pair) for pair in _reasoned_entries(value, "test", "path::name")
    )


@dataclass(frozen=True)
class AllowedPatch:
    """A boundary the team fakes on purpose: a dotted patch target and why."""

    target: str
    reason: str


def _allowed_patches(value: object) -> tuple[AllowedPatch, ...]:
    pairs = _reasoned_entries(value, "target", "package.module.name")
    for target, _ in pairs:
        if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", target):
            raise TypeError(f"a dotted name as target, not {target!r}")
    return tuple(AllowedPatch(*pair) for pair in pairs)


def _relative_path(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or value.startswith("/"):
        raise TypeError("a path relative to the repository root")
    return value.strip()


@dataclass(frozen=True)
class GuardrailExemption:
    """A deliberate weakening of a guardrail: the finding id it accepts and why."""

    guardrail: str
    reason: str


def _guardrail_exemptions(value: object) -> tuple[GuardrailExemption, ...]:
    return tuple(
        GuardrailExemption(*pair)
        for pair in _reasoned_entries(value, "guardrail", "finding id")
    )


@dataclass(frozen=True)
class Setting:
    """One key of [tool.testwarden]: how its TOML value is read, its default, what it sets."""

    convert: Callable[[object], Any]
    default: Any
    help: str


def option(convert: Callable[[object], Any], default: Any, help: str) -> Any:
    """A settings attribute, set by the key of the same name in kebab-case."""
    return field(default=default, metadata={"setting": Setting(convert, default, help)})


def table(settings_class: type) -> Any:
    """A hook's table, [tool.testwarden.<the attribute's name in kebab-case>]."""
    return field(default_factory=settings_class, metadata={"table": settings_class})


def key_of(attribute: str) -> str:
    """The TOML key of a settings attribute: `fail_under` is `fail-under`."""
    return attribute.replace("_", "-")


# One frozen dataclass per table; each attribute declares its key once.


@dataclass(frozen=True)
class RunsToxSettings:
    """The keys of every hook that runs the tests through tox."""

    env: str | None = option(
        _optional_string, None, "the tox environment(s) to run (none: tox's default)"
    )
    runner: str | None = option(
        _optional_string,
        None,
        "the command that starts tox (none: `poetry run tox` or `tox`)",
    )


@dataclass(frozen=True)
class CoverageGateSettings(RunsToxSettings):
    """[tool.testwarden.coverage-gate]"""

    fail_under: float = option(
        _percentage, DEFAULT_COVERAGE_THRESHOLD, "total coverage threshold (%)"
    )
    diff_fail_under: float = option(
        _percentage,
        DEFAULT_COVERAGE_THRESHOLD,
        "changed-line coverage threshold (%), overall and per file",
    )


@dataclass(frozen=True)
class ToxChangedTestsSettings(RunsToxSettings):
    """[tool.testwarden.tox-changed-tests]"""

    run_all_on: tuple[str, ...] = option(
        _string_list, (), "more globs whose change runs the whole suite"
    )
    ignore: tuple[str, ...] = option(
        _string_list,
        DEFAULT_IGNORED_BY_TESTS,
        "globs of non-Python files whose change affects no test",
    )
    record_test_map: bool = option(
        _boolean, False, "record the test map from this hook's runs too"
    )
    stress_new: int = option(
        _run_count,
        DEFAULT_STRESS_RUNS,
        "runs of each new or changed test, the selection's included (0: off)",
    )


@dataclass(frozen=True)
class MutationGateSettings(RunsToxSettings):
    """[tool.testwarden.mutation-gate]"""

    fail_under: float = option(
        _percentage,
        DEFAULT_MUTATION_THRESHOLD,
        "mutation score threshold (%): killed share of the change's mutants",
    )
    max_mutants: int = option(
        _positive_integer,
        DEFAULT_MUTATION_BUDGET,
        "the most mutants an --all-files run tries",
    )
    mutants_per_line: int = option(
        _positive_integer, 1, "mutants tried on each changed line"
    )


@dataclass(frozen=True)
class ForbidTestDeletionSettings:
    """[tool.testwarden.forbid-test-deletion]"""

    allow: tuple[Exemption, ...] = option(
        _exemptions, (), "tests (or files) removed on purpose, each with a reason"
    )


@dataclass(frozen=True)
class ForbidSkippedTestsSettings:
    """[tool.testwarden.forbid-skipped-tests]"""

    allow: tuple[Exemption, ...] = option(
        _exemptions, (), "tests (or files) switched off on purpose, each with a reason"
    )


@dataclass(frozen=True)
class ForbidWeakenedTestsSettings:
    """[tool.testwarden.forbid-weakened-tests]"""

    allow: tuple[Exemption, ...] = option(
        _exemptions, (), "tests weakened on purpose, each with a reason"
    )


@dataclass(frozen=True)
class ForbidMockDataSettings:
    """[tool.testwarden.forbid-mock-data] (read under its old name, mock-data, too)"""

    allow_patch: tuple[AllowedPatch, ...] = option(
        _allowed_patches, (), "patch targets the team fakes on purpose, with a reason"
    )
    baseline: str = option(
        _relative_path,
        DEFAULT_MOCK_DATA_BASELINE,
        "where `testwarden baseline` writes the known findings, from the root",
    )


@dataclass(frozen=True)
class ProtectGuardrailsSettings:
    """[tool.testwarden.protect-guardrails]"""

    allow: tuple[GuardrailExemption, ...] = option(
        _guardrail_exemptions, (), "weakenings accepted on purpose, each with a reason"
    )


@dataclass(frozen=True)
class Config:
    """[tool.testwarden], resolved: every key present, defaults filled in.

    Top-level keys, then one table per hook id, each read as an attribute:
    `config.coverage_gate.fail_under` is [tool.testwarden.coverage-gate]
    fail-under. Later hooks add their tables here.
    """

    test_files: tuple[str, ...] = option(
        _string_list, DEFAULT_TEST_FILES, "globs of the paths that are test files"
    )
    coverage_gate: CoverageGateSettings = table(CoverageGateSettings)
    tox_changed_tests: ToxChangedTestsSettings = table(ToxChangedTestsSettings)
    mutation_gate: MutationGateSettings = table(MutationGateSettings)
    forbid_test_deletion: ForbidTestDeletionSettings = table(ForbidTestDeletionSettings)
    forbid_skipped_tests: ForbidSkippedTestsSettings = table(ForbidSkippedTestsSettings)
    forbid_weakened_tests: ForbidWeakenedTestsSettings = table(
        ForbidWeakenedTestsSettings
    )
    forbid_mock_data: ForbidMockDataSettings = table(ForbidMockDataSettings)
    protect_guardrails: ProtectGuardrailsSettings = table(ProtectGuardrailsSettings)
    source: Path | None = None
    # Top-level keys given in the file or on the command line, not defaulted.
    explicit: frozenset[str] = frozenset()
    _test_file_pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_test_file_pattern", globs_to_regex(self.test_files))

    @property
    def coverage_threshold(self) -> float:
        return self.coverage_gate.fail_under

    @property
    def test_files_set(self) -> bool:
        """Whether `test-files` was set, so it replaces pytest's collection rules."""
        return "test-files" in self.explicit

    def is_test_file(self, path: str) -> bool:
        return self._test_file_pattern.match(path) is not None


def _schema_of(settings_class: type) -> dict[str, Any]:
    schema: dict[str, Any] = {}
    for attribute in fields(settings_class):
        if "setting" in attribute.metadata:
            schema[key_of(attribute.name)] = attribute.metadata["setting"]
        elif "table" in attribute.metadata:
            schema[key_of(attribute.name)] = _schema_of(attribute.metadata["table"])
    return schema


# Every key by its TOML name, with hook tables as nested mappings: what the
# file and the command line may set, built from the dataclasses above.
SCHEMA: dict[str, Setting | dict[str, Setting]] = _schema_of(Config)
# Tables read under an earlier name too: name -> earlier name.
EARLIER_TABLE_NAMES = {"forbid-mock-data": "mock-data"}


def _build(settings_class: type, values: Mapping[str, Any], **extra: Any) -> Any:
    """SETTINGS_CLASS made from resolved VALUES, keyed as in SCHEMA."""
    arguments = dict(extra)
    for attribute in fields(settings_class):
        if "setting" in attribute.metadata:
            arguments[attribute.name] = values[key_of(attribute.name)]
        elif "table" in attribute.metadata:
            arguments[attribute.name] = _build(
                attribute.metadata["table"], values[key_of(attribute.name)]
            )
    return settings_class(**arguments)


def load(root: Path, overrides: Mapping[str, Any] | None = None) -> Config:
    """Read ROOT/pyproject.toml's [tool.testwarden], then apply OVERRIDES.

    OVERRIDES uses the file's own key names, with hook tables as nested
    mappings; a None value means "not given on the command line".
    """
    pyproject = root / PYPROJECT
    table: Mapping[str, Any] = {}
    text = ""
    if pyproject.is_file():
        text, table = _read_tool_table(pyproject)
    values = _resolve(SCHEMA, table, _Location(pyproject, text, ("tool", "testwarden")))
    explicit = set(table)
    if overrides:
        _apply_overrides(values, overrides)
        explicit.update(key for key, value in overrides.items() if value is not None)
    return _build(
        Config,
        values,
        source=pyproject if table else None,
        explicit=frozenset(explicit),
    )


def _read_tool_table(pyproject: Path) -> tuple[str, Mapping[str, Any]]:
    try:
        text = pyproject.read_text(encoding="utf-8")
        document = tomllib.loads(text)
    except UnicodeDecodeError as error:
        raise UserError(f"{pyproject}: not UTF-8 ({error.reason}); save it as UTF-8")
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        line = re.search(r"line (\d+)", message)
        location = f"{pyproject}:{line.group(1)}" if line else str(pyproject)
        raise UserError(f"{location}: invalid TOML: {message}") from None
    table = document.get("tool", {}).get("testwarden", {})
    if not isinstance(table, dict):
        raise UserError(f"{pyproject}: [tool.testwarden] must be a table")
    return text, table


@dataclass(frozen=True)
class _Location:
    """Where a table lives, to name file, line and key in an error."""

    path: Path
    text: str
    table: tuple[str, ...]

    @property
    def name(self) -> str:
        return ".".join(self.table)

    def child(self, key: str) -> _Location:
        return _Location(self.path, self.text, (*self.table, key))

    def of(self, key: str) -> str:
        """`path:line: [table] key` with the line where KEY is set, when found."""
        return (
            f"{self._where(line_of(self.text, self.name, key))}: [{self.name}] {key!r}"
        )

    def header(self) -> str:
        """`path:line` with the line where this table starts, when found."""
        return self._where(table_line(self.text, self.name))

    def _where(self, line: int | None) -> str:
        return f"{self.path}:{line}" if line else str(self.path)


def line_of(text: str, section: str, key: str) -> int | None:
    """The line setting KEY in [SECTION] of a TOML or ini text, when there is one.

    `key = `, `key: ` (ini) and `key.sub = ` (a dotted TOML key) all count.
    """
    in_section = False
    setting = re.compile(r"[\"']?" + re.escape(key) + r"[\"']?\s*[=:.]")
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_section = re.sub(r"[\s\"']", "", stripped) == f"[{section}]"
        elif in_section and setting.match(stripped):
            return number
    return None


def table_line(text: str, section: str) -> int | None:
    """The line where [SECTION] of a TOML text starts, when there is one.

    Its `[section]` header, else the `name = {...}` or `name.key = ` in its
    parent table that sets it.
    """
    for number, line in enumerate(text.splitlines(), start=1):
        if re.sub(r"[\s\"']", "", line.split("#")[0]) == f"[{section}]":
            return number
    parent, _, name = section.rpartition(".")
    return line_of(text, parent, name)


def _resolve(
    schema: Mapping[str, Setting | dict[str, Setting]],
    table: Mapping[str, Any],
    location: _Location,
) -> dict[str, Any]:
    earlier_names = {
        EARLIER_TABLE_NAMES[key] for key in schema if key in EARLIER_TABLE_NAMES
    }
    for key in table:
        if key not in schema and key not in earlier_names:
            raise UserError(
                f"{location.of(key)} is not a setting; known keys: {', '.join(schema)}"
            )
    values: dict[str, Any] = {}
    for key, setting in schema.items():
        if isinstance(setting, dict):
            name = _table_name(key, table, location)
            sub_table = table.get(name, {})
            if not isinstance(sub_table, dict):
                raise UserError(f"{location.of(name)} must be a table")
            values[key] = _resolve(setting, sub_table, location.child(name))
        elif key in table:
            values[key] = _convert(setting, table[key], location.of(key))
        else:
            values[key] = setting.default
    return values


def _table_name(key: str, table: Mapping[str, Any], location: _Location) -> str:
    """The name KEY's table is set under in TABLE: KEY, or its earlier name."""
    earlier = EARLIER_TABLE_NAMES.get(key)
    if earlier not in table:
        return key
    header = location.child(earlier).header()
    if key in table:
        raise UserError(set_under_both_names(header, key))
    print(
        f"{header}: note: [tool.testwarden.{earlier}] is now named "
        f"[tool.testwarden.{key}], after its hook; rename the table "
        "(the old name still works)",
        file=sys.stderr,
    )
    return earlier


def set_under_both_names(header: str, key: str) -> str:
    """The error for KEY's table set under its name and its earlier name, at HEADER."""
    old = f"[tool.testwarden.{EARLIER_TABLE_NAMES[key]}]"
    new = f"[tool.testwarden.{key}]"
    return (
        f"{header}: {old} and {new} are both set, one table under its old and new "
        f"name; move the settings into {new} and delete {old}"
    )


def _convert(setting: Setting, value: object, where: str) -> Any:
    try:
        return setting.convert(value)
    except TypeError as expected:
        raise UserError(f"{where} must be {expected}, got {value!r}") from None


def _apply_overrides(values: dict[str, Any], overrides: Mapping[str, Any]) -> None:
    for key, value in overrides.items():
        setting = SCHEMA.get(key)
        if setting is None:
            raise UserError(f"unknown setting {key!r}")
        if isinstance(setting, dict):
            for sub_key, sub_value in value.items():
                if sub_key not in setting:
                    raise UserError(f"unknown setting {key!r}: {sub_key!r}")
                if sub_value is not None:
                    values[key][sub_key] = _convert(
                        setting[sub_key], sub_value, f"command line: {sub_key!r}"
                    )
        elif value is not None:
            values[key] = _convert(setting, value, f"command line: {key!r}")


def globs_to_regex(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One regex for repository-relative POSIX paths matching any of PATTERNS.

    `*` and `?` stay inside one path segment, `**` crosses segments. A pattern
    matches at any depth (`tests/**` matches `pkg/tests/x.py`) unless it starts
    with `/`, which anchors it at the repository root.
    """
    alternatives = []
    for pattern in patterns:
        anchored = pattern.startswith("/")
        body = re.sub(
            r"\*\*/|\*\*|\*|\?|[^*?]+",
            _glob_token_to_regex,
            pattern.lstrip("/"),
        )
        alternatives.append(body if anchored else f"(?:.*/)?{body}")
    return re.compile("(?:" + "|".join(alternatives) + r")\Z")


def _glob_token_to_regex(token: re.Match[str]) -> str:
    text = token.group(0)
    return {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(
        text, re.escape(text)
    )
