"""The one place testwarden's settings are read: [tool.testwarden] in pyproject.toml.

Every key is declared in SCHEMA with its type and default. An unknown key, a
wrong type or unparsable TOML is a UserError naming the file and the key.
Values given on the command line (overrides) win over the file.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hooks.errors import UserError

PYPROJECT = "pyproject.toml"

DEFAULT_TEST_FILES = ("tests/**", "test_*.py", "*_test.py", "conftest.py")
DEFAULT_COVERAGE_THRESHOLD = 87.0
# Runs of each new or changed test, the selection run included (stress-new).
DEFAULT_STRESS_RUNS = 5
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
    convert: Callable[[object], Any]
    default: Any


# Top-level keys, then one table per hook id. Later hooks add their tables here.
SCHEMA: dict[str, Setting | dict[str, Setting]] = {
    "test-files": Setting(_string_list, DEFAULT_TEST_FILES),
    "coverage-gate": {
        "fail-under": Setting(_percentage, DEFAULT_COVERAGE_THRESHOLD),
        "diff-fail-under": Setting(_percentage, DEFAULT_COVERAGE_THRESHOLD),
        "env": Setting(_optional_string, None),
        "runner": Setting(_optional_string, None),
    },
    "tox-changed-tests": {
        "env": Setting(_optional_string, None),
        "runner": Setting(_optional_string, None),
        "run-all-on": Setting(_string_list, ()),
        "ignore": Setting(_string_list, DEFAULT_IGNORED_BY_TESTS),
        "record-test-map": Setting(_boolean, False),
        "stress-new": Setting(_run_count, DEFAULT_STRESS_RUNS),
    },
    "forbid-test-deletion": {
        "allow": Setting(_exemptions, ()),
    },
    "forbid-skipped-tests": {
        "allow": Setting(_exemptions, ()),
    },
    "mock-data": {
        "allow-patch": Setting(_allowed_patches, ()),
        "baseline": Setting(_relative_path, DEFAULT_MOCK_DATA_BASELINE),
    },
    "protect-guardrails": {
        "allow": Setting(_guardrail_exemptions, ()),
    },
}


@dataclass(frozen=True)
class Config:
    """Resolved settings: every key present, defaults filled in."""

    values: Mapping[str, Any]
    source: Path | None = None
    # Top-level keys given in the file or on the command line, not defaulted.
    explicit: frozenset[str] = frozenset()
    _test_file_pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "_test_file_pattern", globs_to_regex(self.values["test-files"])
        )

    @property
    def test_files(self) -> tuple[str, ...]:
        return self.values["test-files"]

    @property
    def coverage_threshold(self) -> float:
        return self.values["coverage-gate"]["fail-under"]

    @property
    def test_files_set(self) -> bool:
        """Whether `test-files` was set, so it replaces pytest's collection rules."""
        return "test-files" in self.explicit

    def hook(self, hook_id: str) -> Mapping[str, Any]:
        return self.values[hook_id]

    def is_test_file(self, path: str) -> bool:
        return self._test_file_pattern.match(path) is not None


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
    return Config(values, pyproject if table else None, frozenset(explicit))


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

    def child(self, key: str) -> _Location:
        return _Location(self.path, self.text, (*self.table, key))

    def of(self, key: str) -> str:
        """`path:line: [table] key` with the line where KEY is set, when found."""
        line = line_of(self.text, ".".join(self.table), key)
        where = f"{self.path}:{line}" if line else str(self.path)
        return f"{where}: [{'.'.join(self.table)}] {key!r}"


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


def _resolve(
    schema: Mapping[str, Setting | dict[str, Setting]],
    table: Mapping[str, Any],
    location: _Location,
) -> dict[str, Any]:
    for key in table:
        if key not in schema:
            raise UserError(
                f"{location.of(key)} is not a setting; known keys: {', '.join(schema)}"
            )
    values: dict[str, Any] = {}
    for key, setting in schema.items():
        if isinstance(setting, dict):
            sub_table = table.get(key, {})
            if not isinstance(sub_table, dict):
                raise UserError(f"{location.of(key)} must be a table")
            values[key] = _resolve(setting, sub_table, location.child(key))
        elif key in table:
            values[key] = _convert(setting, table[key], location.of(key))
        else:
            values[key] = setting.default
    return values


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
