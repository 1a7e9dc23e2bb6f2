"""The guardrail settings one side of a change holds, read as the tools read them.

protect-guardrails compares two of these. coverage.py's settings come from the
first of its configuration files that has any (.coveragerc, setup.cfg,
tox.ini, pyproject.toml), pytest's from the first of its ini files, pre-commit's
through pre-commit's own loader, testwarden's through hooks.config's
converters. Only the repository root counts: that is where the tools look when
the hooks run. A file one side cannot read is a problem of that side.
"""

from __future__ import annotations

import configparser
import re
import shlex
import tempfile
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pre_commit.clientlib import InvalidConfigError, load_config

from hooks import config, git, pytest_collection, registry
from hooks.baseline import Baseline
from hooks.cli import HOOK_MODULES
from hooks.errors import UserError

PYPROJECT = "pyproject.toml"
PRE_COMMIT_CONFIG = ".pre-commit-config.yaml"
# coverage.py's order; .coveragerc counts whenever it exists.
COVERAGE_FILES = (".coveragerc", "setup.cfg", "tox.ini", PYPROJECT)
# pytest's order, with the section that makes each file its configuration
# (None: the file is the configuration even without it).
PYTEST_FILES = (
    ("pytest.toml", None),
    (".pytest.toml", None),
    ("pytest.ini", None),
    (".pytest.ini", None),
    (PYPROJECT, "tool.pytest"),
    ("tox.ini", "pytest"),
    ("setup.cfg", "tool:pytest"),
)
# tox's order: tox.ini, setup.cfg with [tox:tox], pyproject.toml's [tool.tox]
# (native, else its legacy_tox_ini string), tox.toml.
TOX_FILES = ("tox.ini", "setup.cfg", PYPROJECT, "tox.toml")
ROOT_FILES = frozenset(
    {
        *COVERAGE_FILES,
        *(name for name, _ in PYTEST_FILES),
        *TOX_FILES,
        PRE_COMMIT_CONFIG,
    }
)
PYTEST_DEFAULT_NORECURSEDIRS = pytest_collection.DEFAULT_NORECURSEDIRS
COVERAGE_DEFAULT_EXCLUDE = (r"#\s*(pragma|PRAGMA)[:\s]?\s*(no|NO)\s*(cover|COVER)",)
# addopts that keep tests from being collected or run.
# Settings of our hooks in [tool.testwarden.HOOK] (or `--KEY` in the hook's
# args) that a change may not lower: each makes a hook ask for less.
THRESHOLD_SETTINGS = (
    ("coverage-gate", "fail-under"),
    ("coverage-gate", "diff-fail-under"),
    ("mutation-gate", "fail-under"),
    ("tox-changed-tests", "stress-new"),
)
HIDING_OPTIONS = ("--ignore", "--ignore-glob", "--deselect", "-k", "-m", "-p")
PYTEST_COMMANDS = ("pytest", "py.test")
# tox's comment (from an unescaped `#` on) and factor prefix
# (`py312,py313: pytest ...`).
_TOX_COMMENT = re.compile(r"\s*(?<!\\)#.*")
_TOX_FACTORS = re.compile(r"^\s*!?[\w.*?{}\[\]-]+(?:\s*,\s*!?[\w.*?{}\[\]-]+)*:\s+")
EVERY_DIRECTORY = ("(unset: every directory)",)
# Our manifest's stages: what a hook without its own `stages` runs at.
MANIFEST_STAGES = ("pre-commit", "pre-push", "manual")
# pre-commit's top-level file filters, and what leaves every file in.
FILTER_DEFAULTS = {"files": "", "exclude": "^$"}
# Files whose commands may carry a coverage threshold on a command line.
COMMAND_FILES = config.globs_to_regex(
    (
        "/pyproject.toml",
        "/setup.cfg",
        "/tox.ini",
        "/tox.toml",
        "/pytest.ini",
        "Makefile",
        "*.mk",
        "noxfile.py",
        "*.sh",
        "*.bash",
        "*.zsh",
        "/.pre-commit-config.yaml",
        "/.github/workflows/*.yml",
        "/.github/workflows/*.yaml",
        "/.gitlab-ci.yml",
        "/.circleci/config.yml",
        "/azure-pipelines.yml",
        "Jenkinsfile",
    )
)
# A script without an extension is a command file when its first line runs a
# shell or Python: `#!/bin/sh`, `#!/usr/bin/env -S python3 -u`.
SCRIPT_SHEBANG = re.compile(
    rb"#!\s*(?:\S*/)?(?:env\s+(?:-\S+\s+)*)?(?:sh|bash|zsh|dash|ksh|python[\d.]*)(?:\s|$)"
)
# `--x=90`, `--x 90`, and a TOML list's `"--x", "90"`.
_NUMBER = r"(?:=|[\"']\s*,\s*|\s+)[\"']?(\d+(?:\.\d+)?)"
COMMAND_THRESHOLDS = {
    "pytest.--cov-fail-under": re.compile(r"--cov-fail-under" + _NUMBER),
    "diff-cover.--fail-under": re.compile(r"diff[-_]cover\b.*?--fail-under" + _NUMBER),
    "coverage.--fail-under": re.compile(
        r"\bcoverage[\"',\s]+(?:report|xml|html|json|lcov)\b.*?--fail-under" + _NUMBER
    ),
}


@dataclass(frozen=True)
class GuardrailValue:
    """A guardrail setting's value as one side holds it, and where (line None: unset)."""

    path: str
    line: int | None
    value: Any


@dataclass(frozen=True)
class Hook:
    """A testwarden hook as pre-commit runs it from one side's configuration."""

    repo: str
    rev: str | None
    runs: str  # the entry and language the configuration overrides, if any
    files: str
    exclude: str
    stages: frozenset[str]
    line: int | None


ToxPytestCommand = tuple[str, tuple[str, ...], tuple[str, ...]]


@dataclass
class Side:
    """Everything protect-guardrails compares, on one side of the change."""

    revision: str
    thresholds: dict[str, GuardrailValue] = field(default_factory=dict)
    # An entry added to one of these hides tests or findings.
    widenable: dict[str, GuardrailValue] = field(default_factory=dict)
    # An entry removed from one of these hides tests.
    narrowable: dict[str, GuardrailValue] = field(default_factory=dict)
    hooks: dict[str, Hook] = field(default_factory=dict)
    hook_filters: dict[str, GuardrailValue] = field(default_factory=dict)
    # tox.commands.<option> -> each value a pytest command in tox gives it.
    test_filters: dict[str, list[GuardrailValue]] = field(default_factory=dict)
    # The pytest command of tox each of test_filters' values is given to, in
    # the same order, and every pytest command of tox: (environment section
    # and factors, the words before pytest's, pytest's without filters).
    test_filter_commands: dict[str, list[ToxPytestCommand]] = field(
        default_factory=dict
    )
    pytest_commands: set[ToxPytestCommand] = field(default_factory=set)
    exclusion_markers: tuple[str, ...] = COVERAGE_DEFAULT_EXCLUDE
    exemptions: tuple[config.GuardrailExemption, ...] = ()
    problems: list[str] = field(default_factory=list)
    # Every tracked path and directory: a dropped testpath that is gone hid nothing.
    paths: frozenset[str] = frozenset()
    # The files the mock-data baseline has entries for.
    baseline_files: frozenset[str] = frozenset()


def read_side(revision: str | None) -> Side:
    """The guardrail settings of REVISION's tree (None: the index)."""
    blobs = git.tracked_blobs(revision)
    wanted = {path: blobs[path] for path in ROOT_FILES if path in blobs}
    directories = {
        "/".join(parts[:end])
        for parts in (path.split("/") for path in blobs)
        for end in range(1, len(parts))
    }
    contents = git.read_blobs(wanted.values())
    texts = {}
    side = Side(
        revision[:12] if revision else "the index",
        paths=frozenset({*blobs, *directories}),
    )
    for path, blob in wanted.items():
        try:
            texts[path] = contents[blob].decode("utf-8")
        except UnicodeDecodeError as error:
            side.problems.append(f"{path}: not UTF-8 ({error.reason})")
    pyproject = _toml(texts, side)
    _read_testwarden(side, texts.get(PYPROJECT, ""), pyproject, blobs)
    _read_coverage(side, texts, pyproject)
    _read_pytest(side, texts, pyproject)
    _read_tox(side, texts, pyproject)
    _read_pre_commit(side, texts.get(PRE_COMMIT_CONFIG))
    return side


def _toml(texts: dict[str, str], side: Side) -> dict[str, Any]:
    try:
        return tomllib.loads(texts.get(PYPROJECT, ""))
    except tomllib.TOMLDecodeError as error:
        side.problems.append(f"{PYPROJECT}: invalid TOML: {error}")
        texts.pop(PYPROJECT)
        return {}


def where(path: str, line: int | None) -> str:
    return f"{path}:{line}" if line else path


def _table(document: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    for key in keys:
        document = document.get(key, {})
        if not isinstance(document, dict):
            return {}
    return document


def _read_testwarden(
    side: Side, text: str, pyproject: Mapping[str, Any], blobs: Mapping[str, str]
) -> None:
    table = _table(pyproject, "tool", "testwarden")
    # A table under its earlier name is read; under both names, it is a problem.
    set_under: dict[str, str] = {}
    for hook_id, earlier in config.EARLIER_TABLE_NAMES.items():
        if earlier in table and hook_id in table:
            header = config.table_line(text, f"tool.testwarden.{earlier}")
            side.problems.append(
                config.set_under_both_names(where(PYPROJECT, header), hook_id)
            )
        elif earlier in table:
            set_under[hook_id] = earlier

    def value(hook_id: str, key: str) -> GuardrailValue:
        name = set_under.get(hook_id, hook_id)
        section = f"tool.testwarden.{name}"
        line = config.line_of(text, section, key)
        setting = config.SCHEMA[hook_id][key]
        raw = _table(table, name).get(key)
        try:
            converted = setting.default if raw is None else setting.convert(raw)
        except TypeError as expected:
            side.problems.append(
                f"{where(PYPROJECT, line)}: [{section}] {key!r} must be {expected}, "
                f"got {raw!r}"
            )
            converted = setting.default
        return GuardrailValue(PYPROJECT, line, converted)

    for hook_id, key in THRESHOLD_SETTINGS:
        side.thresholds[f"{hook_id}.{key}"] = value(hook_id, key)
    # Finding ids keep forbid-mock-data's earlier table name: exemptions use them.
    for guardrail, hook_id, key, shown in (
        ("forbid-test-deletion.allow", "forbid-test-deletion", "allow", _test),
        ("forbid-skipped-tests.allow", "forbid-skipped-tests", "allow", _test),
        ("forbid-weakened-tests.allow", "forbid-weakened-tests", "allow", _test),
        ("mock-data.allow-patch", "forbid-mock-data", "allow-patch", _target),
    ):
        entries = value(hook_id, key)
        side.widenable[guardrail] = GuardrailValue(
            entries.path, entries.line, tuple(map(shown, entries.value))
        )
    side.exemptions = value("protect-guardrails", "allow").value
    baseline_path = value("forbid-mock-data", "baseline").value
    side.widenable["mock-data.baseline"] = _baseline(side, baseline_path, blobs)


def _test(entry: config.Exemption) -> str:
    return entry.test


def _target(entry: config.AllowedPatch) -> str:
    return entry.target


def _baseline(side: Side, path: str, blobs: Mapping[str, str]) -> GuardrailValue:
    if path not in blobs:
        return GuardrailValue(path, None, ())
    content = git.read_blobs([blobs[path]])[blobs[path]]
    try:
        counts = Baseline.parse(content, path).counts
    except UserError as error:
        side.problems.append(str(error))
        counts = {}
    side.baseline_files = frozenset(path for path, _, _ in counts)
    entries = tuple(
        ":".join(key) for key, count in sorted(counts.items()) for _ in range(count)
    )
    return GuardrailValue(path, None, entries)


def _ini(texts: dict[str, str], path: str, side: Side) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False)
    try:
        parser.read_string(texts.get(path, ""), path)
    except configparser.Error as error:
        side.problems.append(
            f"{path}: invalid ini file: {' '.join(str(error).split())}"
        )
        texts.pop(path)
        parser = configparser.RawConfigParser()
    return parser


def _coverage_source(
    texts: dict[str, str], pyproject: Mapping[str, Any], side: Side
) -> tuple[str, Any]:
    """Where coverage.py takes its settings from: (file, section -> options)."""
    for path in COVERAGE_FILES:
        if path not in texts:
            continue
        if path == PYPROJECT:
            tables = _table(pyproject, "tool", "coverage")
            if tables:
                return path, {
                    f"tool.coverage.{name}": _table(tables, name)
                    for name in ("run", "report")
                }
            continue
        parser = _ini(texts, path, side)
        prefixes = ("", "coverage:") if path == ".coveragerc" else ("coverage:",)
        sections = {}
        for name in ("run", "report"):
            for prefix in prefixes:
                if parser.has_section(prefix + name):
                    sections[prefix + name] = dict(parser.items(prefix + name))
        if sections or path == ".coveragerc":
            return path, sections
    return PYPROJECT, {}


def _split(value: Any, pattern: str) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(str(item).strip() for item in value)
    return tuple(item.strip() for item in re.split(pattern, str(value)) if item.strip())


def _read_coverage(
    side: Side, texts: dict[str, str], pyproject: Mapping[str, Any]
) -> None:
    path, sections = _coverage_source(texts, pyproject, side)
    text = texts.get(path, "")

    def setting(table: str, key: str, default: Any, parse) -> GuardrailValue:
        for section, options in sections.items():
            if section.endswith(table) and key in options:
                return GuardrailValue(
                    path, config.line_of(text, section, key), parse(options[key])
                )
        return GuardrailValue(path, None, default)

    side.thresholds["coverage.fail_under"] = setting("report", "fail_under", 0.0, float)
    for table in ("run", "report"):
        side.widenable[f"coverage.{table}.omit"] = setting(
            table, "omit", (), lambda value: _split(value, r"[,\n]")
        )
    for key, default in (
        ("exclude_lines", COVERAGE_DEFAULT_EXCLUDE),
        ("exclude_also", ()),
    ):
        side.widenable[f"coverage.{key}"] = setting(
            "report", key, default, lambda value: _split(value, r"\n")
        )
    markers = [
        *side.widenable["coverage.exclude_lines"].value,
        *side.widenable["coverage.exclude_also"].value,
    ]
    # A marker is a comment; a code pattern (`if TYPE_CHECKING:`) excludes by design.
    side.exclusion_markers = tuple(
        dict.fromkeys([*COVERAGE_DEFAULT_EXCLUDE, *(m for m in markers if "#" in m)])
    )


def _pytest_source(
    texts: dict[str, str], pyproject: Mapping[str, Any], side: Side
) -> tuple[str, str, Mapping[str, Any]]:
    """Where pytest takes its ini options from: (file, section, options)."""
    for path, section in PYTEST_FILES:
        if path not in texts:
            continue
        if path == PYPROJECT:
            found = _tool_pytest(pyproject, side)
            if found:
                return path, *found
            continue
        if path.endswith(".toml"):
            try:
                document = tomllib.loads(texts[path])
            except tomllib.TOMLDecodeError as error:
                side.problems.append(f"{path}: invalid TOML: {error}")
                document = {}
            return path, "pytest", _table(document, "pytest")
        parser = _ini(texts, path, side)
        if section is None or parser.has_section(section):
            section = section or "pytest"
            options = dict(parser.items(section)) if parser.has_section(section) else {}
            return path, section, options
    return PYPROJECT, "tool.pytest.ini_options", {}


def _tool_pytest(
    pyproject: Mapping[str, Any], side: Side
) -> tuple[str, Mapping[str, Any]] | None:
    """pyproject.toml's pytest table as pytest 9 reads it: [tool.pytest] with
    native TOML values, or [tool.pytest.ini_options]; both at once is an error."""
    tables = _table(pyproject, "tool", "pytest")
    native = {key: value for key, value in tables.items() if key != "ini_options"}
    if native and "ini_options" in tables:
        side.problems.append(
            f"{PYPROJECT}: pytest refuses both [tool.pytest] and "
            "[tool.pytest.ini_options]; keep one of them"
        )
    if native:
        return "tool.pytest", native
    if "ini_options" in tables:
        return "tool.pytest.ini_options", _table(tables, "ini_options")
    return None


def hiding_options(addopts: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Option -> the values it is given, for each option that hides tests."""
    found: dict[str, list[str]] = {option: [] for option in HIDING_OPTIONS}
    words = iter(addopts)
    for word in words:
        option, equals, value = word.partition("=")
        if option in found and equals and option.startswith("--"):
            found[option].append(value)
        elif word in found:
            found[word].append(next(words, ""))
        elif word[:2] in found and len(word) > 2:
            found[word[:2]].append(word[2:])
    found["-p"] = [plugin for plugin in found["-p"] if plugin.startswith("no:")]
    return {option: tuple(values) for option, values in found.items()}


def _without_hiding_options(arguments: Iterable[str]) -> list[str]:
    """ARGUMENTS less the options hiding_options reads, and their values."""
    kept = []
    words = iter(arguments)
    for word in words:
        option, equals, _ = word.partition("=")
        if option in HIDING_OPTIONS and equals and option.startswith("--"):
            continue
        if word in HIDING_OPTIONS:
            next(words, "")
            continue
        if word[:2] in HIDING_OPTIONS and len(word) > 2:
            continue
        kept.append(word)
    return kept


def _read_pytest(
    side: Side, texts: dict[str, str], pyproject: Mapping[str, Any]
) -> None:
    path, section, options = _pytest_source(texts, pyproject, side)
    text = texts.get(path, "")

    def where(key: str) -> tuple[str, int | None]:
        return path, config.line_of(text, section, key)

    addopts = options.get("addopts", "")
    try:
        words = addopts if isinstance(addopts, list) else shlex.split(addopts)
    except ValueError as error:
        side.problems.append(f"{path}: [{section}] addopts: {error}")
        words = []
    for option, values in hiding_options(words).items():
        side.widenable[f"pytest.addopts.{option}"] = GuardrailValue(
            *where("addopts"), values
        )
    side.widenable["pytest.norecursedirs"] = GuardrailValue(
        *where("norecursedirs"),
        _split(options.get("norecursedirs", PYTEST_DEFAULT_NORECURSEDIRS), r"\s+"),
    )
    side.narrowable["pytest.testpaths"] = GuardrailValue(
        *where("testpaths"), _split(options.get("testpaths", EVERY_DIRECTORY), r"\s+")
    )


def pytest_arguments(words: Sequence[str]) -> list[str] | None:
    """The arguments a command gives pytest (`pytest`, `python -m pytest`,
    `coverage run -m pytest`, `{envbindir}/pytest`), or None if it runs no pytest."""
    for index, word in enumerate(words):
        if word.rpartition("/")[2] in PYTEST_COMMANDS:
            return list(words[index + 1 :])
        if word == "-m" and words[index + 1 : index + 2] in (["pytest"], ["py.test"]):
            return list(words[index + 2 :])
    return None


def _read_tox(side: Side, texts: dict[str, str], pyproject: Mapping[str, Any]) -> None:
    side.test_filters = {f"tox.commands.{option}": [] for option in HIDING_OPTIONS}
    side.test_filter_commands = {key: [] for key in side.test_filters}
    for path, line, words, environment in _tox_commands(texts, pyproject, side):
        arguments = pytest_arguments(words)
        if arguments is None:
            continue
        command = (
            environment,
            tuple(words[: len(words) - len(arguments)]),
            tuple(_without_hiding_options(arguments)),
        )
        side.pytest_commands.add(command)
        for option, values in hiding_options(arguments or ()).items():
            for value in values:
                side.test_filters[f"tox.commands.{option}"].append(
                    GuardrailValue(path, line, value)
                )
                side.test_filter_commands[f"tox.commands.{option}"].append(command)


def _tox_commands(
    texts: dict[str, str], pyproject: Mapping[str, Any], side: Side
) -> Iterable[tuple[str, int | None, list[str], str]]:
    """(file, line, words, environment section) of each command of every tox
    environment, from the file tox reads its configuration from."""
    for path in TOX_FILES:
        if path not in texts:
            continue
        if path == "tox.toml":
            return _toml_tox_commands(path, texts[path], _toml_text(texts, path, side))
        if path == PYPROJECT:
            tables = _table(pyproject, "tool", "tox")
            if set(tables) - {"legacy_tox_ini"}:
                return _toml_tox_commands(path, texts[path], tables, "tool.tox.")
            legacy = tables.get("legacy_tox_ini")
            if not isinstance(legacy, str):
                continue
            text = legacy
            parser = configparser.RawConfigParser(strict=False)
            try:
                parser.read_string(legacy, path)
            except configparser.Error as error:
                side.problems.append(f"{path}: [tool.tox] legacy_tox_ini: {error}")
                return []
            offset = config.line_of(texts[path], "tool.tox", "legacy_tox_ini") or 0
        else:
            text, parser, offset = texts[path], _ini(texts, path, side), 0
            if path == "setup.cfg" and not parser.has_section("tox:tox"):
                continue
        return _ini_tox_commands(path, text, parser, offset)
    return []


def _toml_text(texts: dict[str, str], path: str, side: Side) -> dict[str, Any]:
    try:
        return tomllib.loads(texts[path])
    except tomllib.TOMLDecodeError as error:
        side.problems.append(f"{path}: invalid TOML: {error}")
        return {}


def _ini_tox_commands(
    path: str, text: str, parser: configparser.RawConfigParser, offset: int
) -> Iterable[tuple[str, int | None, list[str], str]]:
    for section in parser.sections():
        if section != "testenv" and not section.startswith("testenv:"):
            continue
        if not parser.has_option(section, "commands"):
            continue
        key_line = config.line_of(text, section, "commands") or 1
        value = parser.get(section, "commands")
        command, command_line = "", None
        for line, raw in _value_lines(text, key_line, value):
            command, command_line = command + raw, command_line or line
            if command.endswith("\\"):  # tox joins a line ending in a backslash
                command = command[:-1] + " "
                continue
            words = _tox_command_words(command)
            if words:
                factors = _TOX_FACTORS.match(_TOX_COMMENT.sub("", command))
                environment = section + (
                    f" {factors.group().strip()}" if factors else ""
                )
                yield path, command_line + offset, words, environment
            command, command_line = "", None


def _value_lines(text: str, key_line: int, value: str) -> Iterable[tuple[int, str]]:
    """(line in TEXT, line of VALUE) for a multi-line ini value set at KEY_LINE;
    configparser strips each line and drops comment lines, so each is looked up."""
    lines = text.splitlines()
    first, *rest = value.splitlines() or [""]
    yield key_line, first
    line = key_line
    for raw in rest:
        line = next(
            (
                number
                for number in range(line + 1, len(lines) + 1)
                if lines[number - 1].strip() == raw.strip()
            ),
            line,
        )
        yield line, raw


def _tox_command_words(command: str) -> list[str]:
    command = _TOX_COMMENT.sub("", command).replace("\\#", "#")
    command = _TOX_FACTORS.sub("", command).strip()
    # As tox splits it: an unclosed quote leaves the rest as one last word.
    splitter = shlex.shlex(command, posix=True)
    splitter.whitespace_split = True
    splitter.commenters = ""
    words, position = [], 0
    try:
        for word in splitter:
            words.append(word)
            position = splitter.instream.tell()
    except ValueError:
        words.append(command[position:].strip())
    return words


def _toml_tox_commands(
    path: str, text: str, tables: Mapping[str, Any], prefix: str = ""
) -> Iterable[tuple[str, int | None, list[str], str]]:
    environments = {"env_run_base": _table(tables, "env_run_base")}
    for name, table in _table(tables, "env").items():
        environments[f"env.{name}"] = table if isinstance(table, dict) else {}
    for section, table in environments.items():
        commands = table.get("commands", [])
        line = config.line_of(text, prefix + section, "commands")
        for command in commands if isinstance(commands, list) else []:
            if isinstance(command, list):
                words = [word for word in command if isinstance(word, str)]
                yield path, line, words, section


def _read_pre_commit(side: Side, text: str | None) -> None:
    if text is None:
        return
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory, PRE_COMMIT_CONFIG)
        path.write_text(text, encoding="utf-8")
        try:
            loaded = load_config(str(path))
        except InvalidConfigError as error:
            message = " ".join(str(error).replace(str(path), "").split())
            side.problems.append(
                f"{PRE_COMMIT_CONFIG}: pre-commit cannot load it: {message}"
            )
            return
    for key in FILTER_DEFAULTS:
        line = _first_line(text, re.compile(rf"{key}\s*:"))
        side.hook_filters[key] = GuardrailValue(PRE_COMMIT_CONFIG, line, loaded[key])
    seen: dict[str, int] = {}
    for repo in loaded["repos"]:
        for hook in repo["hooks"]:
            if hook["id"] not in HOOK_MODULES:
                continue
            seen[hook["id"]] = seen.get(hook["id"], 0) + 1
            key = (
                hook["id"]
                if seen[hook["id"]] == 1
                else f"{hook['id']}#{seen[hook['id']]}"
            )
            side.hooks[key] = _hook(repo, hook, loaded, text, seen[hook["id"]])
            _threshold_arguments(side, key, hook)


def _first_line(text: str, pattern: re.Pattern[str], occurrence: int = 1) -> int | None:
    matches = [
        number
        for number, line in enumerate(text.splitlines(), start=1)
        if pattern.match(line)
    ]
    return matches[occurrence - 1] if len(matches) >= occurrence else None


def _manifest_stages(hook_id: str) -> tuple[str, ...]:
    """The stages our manifest gives a hook of ours (mutation-gate: pre-push
    and manual), else the usual three."""
    ours = registry.HOOKS_BY_ID.get(hook_id)
    return ours.stages if ours else MANIFEST_STAGES


def _hook(
    repo: Mapping[str, Any],
    hook: Mapping[str, Any],
    loaded: Mapping[str, Any],
    text: str,
    occurrence: int,
) -> Hook:
    local = repo["repo"] in ("local", "meta")
    stages = hook.get("stages") or (
        loaded["default_stages"] if local else _manifest_stages(hook["id"])
    )
    runs = " ".join(
        f"{key}: {hook[key]}" for key in ("entry", "language") if key in hook
    )
    identifier = re.compile(
        rf"\s*(-\s*)?id:\s*[\"']?{re.escape(hook['id'])}[\"']?\s*(#.*)?$"
    )
    return Hook(
        repo=repo["repo"],
        rev=repo.get("rev"),
        runs=runs,
        files=hook.get("files", ""),
        exclude=hook.get("exclude", "^$"),
        stages=frozenset(stages),
        line=_first_line(text, identifier, occurrence),
    )


def _threshold_arguments(side: Side, key: str, hook: Mapping[str, Any]) -> None:
    """A threshold given in a hook's `args` (coverage-gate's --fail-under,
    tox-changed-tests' --stress-new) wins over [tool.testwarden]."""
    options = {
        f"--{setting}" for hook_id, setting in THRESHOLD_SETTINGS if hook_id == key
    }
    arguments = [*hook.get("args", ()), ""]
    for index, word in enumerate(arguments[:-1]):
        option, equals, value = word.partition("=")
        if option not in options:
            continue
        given = value if equals else arguments[index + 1]
        try:
            threshold = float(given)
        except ValueError:
            side.problems.append(
                f"{PRE_COMMIT_CONFIG}: {key} args: {option} {given!r} is not a number"
            )
            continue
        side.thresholds[f"{key}.{option[2:]}"] = GuardrailValue(
            PRE_COMMIT_CONFIG, side.hooks[key].line, threshold
        )


def may_be_command_file(path: str) -> bool:
    """A command file by name, or a file without extension its first line may make one."""
    return bool(COMMAND_FILES.match(path)) or "." not in path.rpartition("/")[2]


def is_command_file(path: str, content: bytes) -> bool:
    if COMMAND_FILES.match(path):
        return True
    first_line = content.partition(b"\n")[0]
    return may_be_command_file(path) and bool(SCRIPT_SHEBANG.match(first_line))


def command_thresholds(
    contents: Mapping[str, bytes],
) -> dict[str, list[GuardrailValue]]:
    """Threshold id -> each command-line threshold in CONTENTS' command files."""
    found: dict[str, list[GuardrailValue]] = {key: [] for key in COMMAND_THRESHOLDS}
    for path, content in sorted(contents.items()):
        if not is_command_file(path, content):
            continue
        for number, line in enumerate(content.decode(errors="replace").splitlines(), 1):
            for key, pattern in COMMAND_THRESHOLDS.items():
                for match in pattern.finditer(line):
                    found[key].append(
                        GuardrailValue(path, number, float(match.group(1)))
                    )
    return found
