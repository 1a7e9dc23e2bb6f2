from __future__ import annotations

import shlex

import pytest

from hooks import protect_guardrails
from hooks.config import line_of
from hooks.guardrail_settings import (
    PYTEST_DEFAULT_NORECURSEDIRS,
    GuardrailValue,
    command_thresholds,
    hiding_options,
    pytest_arguments,
    read_side,
)
from tests.helpers import add, commit, write


@pytest.mark.parametrize(
    ("addopts", "option", "values"),
    [
        ("--ignore=a --ignore b", "--ignore", ("a", "b")),
        ("--ignore-glob=*_slow.py", "--ignore-glob", ("*_slow.py",)),
        ("--deselect t.py::x", "--deselect", ("t.py::x",)),
        ("-k 'not db' -kfast", "-k", ("not db", "fast")),
        ("-m 'not slow'", "-m", ("not slow",)),
        ("-p no:randomly -pno:cov -p pytest_cov", "-p", ("no:randomly", "no:cov")),
        ("-ra --strict-markers -k", "-k", ("",)),
    ],
)
def test_hiding_options_reads_every_spelling(addopts, option, values):
    assert hiding_options(shlex.split(addopts))[option] == values


def test_line_of_finds_a_key_in_its_section_only():
    text = "[run]\nomit = a\n\n[ 'report' ]\n  omit: b\n"

    assert line_of(text, "report", "omit") == 5
    assert line_of(text, "run", "omit") == 2
    assert line_of(text, "paths", "omit") is None


def test_command_thresholds_reads_only_command_files():
    found = command_thresholds(
        {
            "noxfile.py": b"session.run('pytest', '--cov-fail-under', '85')\n",
            "src/app.py": b"ARGS = '--cov-fail-under=10'\n",
            "ci/check.sh": b"python -m coverage report --fail-under=92.5\n",
        }
    )

    # A list's "--option", "value" is read too; src/app.py is no command file.
    assert found["pytest.--cov-fail-under"] == [GuardrailValue("noxfile.py", 1, 85.0)]
    assert found["coverage.--fail-under"] == [GuardrailValue("ci/check.sh", 1, 92.5)]


def test_a_noxfile_threshold_in_quotes_is_read():
    found = command_thresholds(
        {"noxfile.py": b'session.run("pytest", "--cov-fail-under=85")\n'}
    )

    assert found["pytest.--cov-fail-under"] == [GuardrailValue("noxfile.py", 1, 85.0)]


def committed_side(files: dict[str, str]):
    for path, text in files.items():
        write(path, text)
    add(".")
    return read_side(commit())


def test_pytest_takes_the_first_ini_file_as_pytest_does(repo):
    side = committed_side(
        {
            "pytest.ini": "[pytest]\naddopts = --ignore=a\n",
            "pyproject.toml": "[tool.pytest.ini_options]\naddopts = '--ignore=b'\n",
        }
    )

    assert side.widenable["pytest.addopts.--ignore"] == GuardrailValue(
        "pytest.ini", 2, ("a",)
    )
    assert side.widenable["pytest.norecursedirs"].value == PYTEST_DEFAULT_NORECURSEDIRS


def test_an_empty_pytest_ini_still_wins(repo):
    side = committed_side(
        {"pytest.ini": "", "setup.cfg": "[tool:pytest]\naddopts = --ignore=a\n"}
    )

    assert side.widenable["pytest.addopts.--ignore"].value == ()


def test_a_malformed_testwarden_table_reads_as_defaults(repo):
    side = committed_side({"pyproject.toml": "[tool]\ntestwarden = 3\n"})

    assert side.thresholds["coverage-gate.fail-under"].value == 87.0
    assert side.problems == []


def test_a_wrongly_typed_threshold_is_a_problem_of_its_side(repo):
    side = committed_side(
        {"pyproject.toml": "[tool.testwarden.coverage-gate]\nfail-under = 'high'\n"}
    )

    assert side.problems == [
        "pyproject.toml:2: [tool.testwarden.coverage-gate] 'fail-under' must be "
        "a number from 0 to 100, got 'high'"
    ]


@pytest.mark.parametrize(
    "allow",
    ["'coverage.fail_under'", "[{ guardrail = 'coverage.fail_under', reason = ' ' }]"],
)
def test_exemptions_must_be_tables_with_a_reason(repo, allow):
    side = committed_side(
        {"pyproject.toml": f"[tool.testwarden.protect-guardrails]\nallow = {allow}\n"}
    )

    assert side.exemptions == ()
    assert "'allow' must be a list of { guardrail = " in side.problems[0]


def test_both_pytest_tables_in_pyproject_are_a_problem_as_pytest_refuses_them(repo):
    side = committed_side(
        {
            "pyproject.toml": "[tool.pytest]\ntestpaths = ['tests']\n"
            "[tool.pytest.ini_options]\ntestpaths = 'tests'\n"
        }
    )

    assert side.problems == [
        "pyproject.toml: pytest refuses both [tool.pytest] and "
        "[tool.pytest.ini_options]; keep one of them"
    ]
    assert side.narrowable["pytest.testpaths"] == GuardrailValue(
        "pyproject.toml", 2, ("tests",)
    )


def test_an_empty_ini_options_table_is_pytests_configuration(repo):
    side = committed_side(
        {
            "pyproject.toml": "[tool.pytest.ini_options]\n",
            "tox.ini": "[pytest]\ntestpaths = tests\n",
        }
    )

    assert side.narrowable["pytest.testpaths"].path == "pyproject.toml"


def test_an_invalid_pytest_toml_is_a_problem_of_its_side(repo):
    side = committed_side({"pytest.toml": "[pytest\n"})

    assert side.problems[0].startswith("pytest.toml: invalid TOML: ")


@pytest.mark.parametrize(
    ("path", "first_line", "is_script"),
    [
        ("scripts/coverage", b"#!/bin/sh -e", True),
        ("scripts/test", b"#!/usr/bin/env bash", True),
        ("bin/check", b"#! /usr/bin/env -S python3.12 -u", True),
        ("bin/check", b"#!/bin/zsh", True),
        ("bin/check", b"#!/usr/bin/perl", False),
        ("bin/check", b"#!/bin/shell-tool", False),
        ("bin/check", b"coverage report --fail-under=90", False),
        ("scripts/coverage.txt", b"#!/bin/sh", False),
        ("ci/run.bash", b"set -e", True),
    ],
)
def test_a_script_is_a_command_file_by_its_first_line(path, first_line, is_script):
    content = first_line + b"\ncoverage report --fail-under=90\n"

    found = command_thresholds({path: content})["coverage.--fail-under"]

    assert found == ([GuardrailValue(path, 2, 90.0)] if is_script else [])


@pytest.mark.parametrize(
    ("command", "arguments"),
    [
        ("pytest -k fast", ["-k", "fast"]),
        ("{envbindir}/py.test tests", ["tests"]),
        ("coverage run -m pytest -m 'not slow'", ["-m", "not slow"]),
        ("python -m pytest --ignore=x", ["--ignore=x"]),
        ("python -m mypy src", None),
    ],
)
def test_pytest_arguments_start_after_the_pytest_invocation(command, arguments):
    assert pytest_arguments(shlex.split(command)) == arguments


def test_tox_filters_are_read_from_every_environment_with_their_lines(repo):
    side = committed_side(
        {
            "tox.ini": "[testenv]\ncommands =\n"
            "    # a comment line\n"
            "    pytest \\\n"
            "      -k 'not db'  # inline comment -k x\n"
            "    pytest -k 'a\\#b' -k 'open\n"
            "[testenv:e2e]\ncommands = pytest -m e2e\n[testenv:docs]\ndeps = sphinx\n"
        }
    )

    assert side.test_filters["tox.commands.-k"] == [
        GuardrailValue("tox.ini", 4, "not db"),
        GuardrailValue("tox.ini", 6, "a#b"),
        GuardrailValue("tox.ini", 6, "'open"),  # tox's word for an unclosed quote
    ]
    assert side.test_filters["tox.commands.-m"] == [GuardrailValue("tox.ini", 8, "e2e")]


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        (
            {"pyproject.toml": "[tool.tox]\nlegacy_tox_ini = '[testenv'\n"},
            "pyproject.toml: [tool.tox] legacy_tox_ini: ",
        ),
        ({"tox.toml": "env_list = [\n"}, "tox.toml: invalid TOML: "),
    ],
)
def test_an_unreadable_tox_configuration_is_a_problem_of_its_side(repo, files, problem):
    side = committed_side(files)

    assert side.problems[0].startswith(problem)


def test_tox_configuration_of_the_wrong_shape_holds_no_commands(repo):
    side = committed_side(
        {
            "pyproject.toml": "[tool.tox]\nlegacy_tox_ini = 3\n",
            "tox.toml": "[env_run_base]\ncommands = 'pytest -k a'\n"
            "[env]\nbad = 1\n[env.py]\ncommands = ['pytest -k a', ['pytest', 7, '-kb']]\n",
        }
    )

    assert side.problems == []
    assert side.test_filters["tox.commands.-k"] == [GuardrailValue("tox.toml", 6, "b")]


# forbid-mock-data's settings, under [tool.testwarden.forbid-mock-data] or the
# table's earlier name, [tool.testwarden.mock-data].

MOCK_BASELINE = (
    '{"findings": [{"path": "tests/test_a.py", "function": "test_x", '
    '"rule": "mock-object", "count": 1}]}\n'
)


@pytest.mark.parametrize("table", ["forbid-mock-data", "mock-data"])
def test_forbid_mock_data_settings_are_watched_under_either_name(repo, table):
    side = committed_side(
        {
            "pyproject.toml": '[project]\nname = "x"\n\n'
            f"[tool.testwarden.{table}]\n"
            "allow-patch = [{ target = 'stripe', reason = 'payments' }]\n"
            'baseline = "ci/baseline.json"\n',
            "ci/baseline.json": MOCK_BASELINE,
        }
    )

    assert side.problems == []
    assert side.widenable["mock-data.allow-patch"] == GuardrailValue(
        "pyproject.toml", 5, ("stripe",)
    )
    assert side.widenable["mock-data.baseline"] == GuardrailValue(
        "ci/baseline.json", None, ("tests/test_a.py:test_x:mock-object",)
    )


def test_forbid_mock_data_settings_under_both_names_are_a_problem(repo):
    side = committed_side(
        {
            "pyproject.toml": "[tool.testwarden.forbid-mock-data]\n"
            "allow-patch = [{ target = 'stripe', reason = 'payments' }]\n\n"
            "[tool.testwarden.mock-data]\n"
            "allow-patch = [{ target = 'boto3', reason = 'aws' }]\n"
        }
    )

    assert side.problems == [
        "pyproject.toml:4: [tool.testwarden.mock-data] and "
        "[tool.testwarden.forbid-mock-data] are both set, one table under its old "
        "and new name; move the settings into [tool.testwarden.forbid-mock-data] "
        "and delete [tool.testwarden.mock-data]"
    ]
    assert side.widenable["mock-data.allow-patch"].value == ("stripe",)


def test_a_wrong_value_under_the_old_name_is_a_problem_naming_it(repo):
    side = committed_side(
        {"pyproject.toml": "[tool.testwarden.mock-data]\nbaseline = 3\n"}
    )

    assert side.problems == [
        "pyproject.toml:2: [tool.testwarden.mock-data] 'baseline' must be a path "
        "relative to the repository root, got 3"
    ]


def guard(capsys, *argv: str) -> tuple[int, str, str]:
    exit_code = protect_guardrails.main(list(argv))
    captured = capsys.readouterr()
    return exit_code, captured.out, captured.err


OLD_TABLE = (
    "[tool.testwarden.mock-data]\n"
    "allow-patch = [{ target = 'stripe', reason = 'payments' }]\n"
    'baseline = "ci/baseline.json"\n'
)
NEW_TABLE = OLD_TABLE.replace(
    "[tool.testwarden.mock-data]", "[tool.testwarden.forbid-mock-data]"
)


def test_renaming_the_mock_data_table_weakens_nothing(repo, capsys):
    write("ci/baseline.json", MOCK_BASELINE)
    committed_side({"pyproject.toml": OLD_TABLE})
    write("pyproject.toml", NEW_TABLE)
    add(".")

    exit_code, out, err = guard(capsys)

    assert (exit_code, err) == (0, "")
    assert "mock-data" not in out


def test_the_renamed_table_is_watched_as_the_old_one_was(repo, capsys):
    write("ci/baseline.json", MOCK_BASELINE)
    committed_side({"pyproject.toml": OLD_TABLE})
    write(
        "pyproject.toml",
        NEW_TABLE.replace(
            "reason = 'payments' }",
            "reason = 'payments' }, { target = 'boto3', reason = 'aws' }",
        ),
    )
    write("ci/baseline.json", MOCK_BASELINE.replace('"count": 1', '"count": 2'))
    add(".")

    exit_code, out, _ = guard(capsys)

    assert exit_code == 1
    assert (
        "new exemption, for the reviewer: pyproject.toml:2: mock-data.allow-patch: "
        "stripe -> stripe, boto3" in out
    )
    assert (
        "ci/baseline.json: mock-data.baseline: tests/test_a.py:test_x:mock-object -> "
        "tests/test_a.py:test_x:mock-object, tests/test_a.py:test_x:mock-object; "
        "adds tests/test_a.py:test_x:mock-object: "
        "lets forbid-mock-data accept more existing mock data" in out
    )


def test_protect_guardrails_reads_the_old_table_with_the_note(repo, capsys):
    committed_side({"pyproject.toml": "[project]\nname = 'x'\n"})
    write("pyproject.toml", OLD_TABLE)
    add(".")

    exit_code, out, err = guard(capsys)

    assert exit_code == 0
    assert (
        "new exemption, for the reviewer: pyproject.toml:2: mock-data.allow-patch"
        in out
    )
    assert err == (
        f"{repo / 'pyproject.toml'}:1: note: [tool.testwarden.mock-data] is now "
        "named [tool.testwarden.forbid-mock-data], after its hook; rename the "
        "table (the old name still works)\n"
        "protect-guardrails: checking the staged change (no file names passed)\n"
    )
