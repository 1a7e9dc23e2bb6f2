"""tox-changed-tests and coverage-gate through real pre-commit on click: src
layout installed as a wheel by its own tox.ini (plus the environment that
measures coverage, which a user adopting coverage-gate adds), its
[tool.pytest.ini_options] and [tool.coverage] tables. The tox environment is
created once per session."""

from __future__ import annotations

from pathlib import Path

from tests.conformance.conftest import GUARD_HOOKS
from tests.helpers import add, commit

FAILING_TEST = """

def test_make_str_of_bytes_is_wrong():
    assert click.utils.make_str(b"x") == "not x"
"""
SHOUT = '''

def shout(text: str) -> str:
    """TEXT in capitals, with an exclamation mark."""
    return text.upper() + "!"
'''
SHOUT_TEST = """

def test_shout():
    assert click.utils.shout("hi") == "HI!"
"""


def append(path: str, text: str) -> None:
    with Path(path).open("a", encoding="utf-8") as file:
        file.write(text)


def test_a_committed_failing_test_fails_the_whole_suite_and_the_files_it_affects(
    consumer_factory,
):
    click = consumer_factory("click")
    append("tests/test_utils.py", FAILING_TEST)
    add("tests/test_utils.py")
    commit("a failing test, past the hooks")
    failure = "FAILED tests/test_utils.py::test_make_str_of_bytes_is_wrong"

    every_file = click.pre_commit("--all-files", "tox-changed-tests")

    assert every_file.returncode == 1, every_file.text
    assert every_file.verdict("tox-changed-tests") == "Failed", every_file.text
    output = every_file.output("tox-changed-tests")
    assert "mode: all files" in output, every_file.text
    assert "tox-changed-tests: running the whole suite" in output, every_file.text
    assert failure in output, every_file.text

    named_file = click.pre_commit("--files", "src/click/utils.py", "tox-changed-tests")

    assert named_file.returncode == 1, named_file.text
    output = named_file.output("tox-changed-tests")
    assert "mode: " in output and "mode: all files" not in output, named_file.text
    assert "tests/test_utils.py: imports src/click/utils.py" in output, named_file.text
    assert "whole suite" not in output, named_file.text
    assert failure in output, named_file.text


def test_coverage_gate_accepts_a_covered_function_and_rejects_an_uncovered_one(
    consumer_factory,
):
    click = consumer_factory("click")
    skip = ("tox-changed-tests",)
    append("src/click/utils.py", SHOUT)
    append("tests/test_utils.py", SHOUT_TEST)
    add("src/click/utils.py", "tests/test_utils.py")

    covered = click.commit("shout, tested", skip=skip)

    assert covered.returncode == 0, covered.text
    for hook_id in ("coverage-gate", *GUARD_HOOKS):
        assert covered.verdict(hook_id) == "Passed", covered.text

    append(
        "src/click/utils.py",
        SHOUT.replace("shout", "whisper").replace("upper", "lower"),
    )
    add("src/click/utils.py")

    uncovered = click.commit("whisper, untested", skip=skip)

    assert uncovered.returncode == 1, uncovered.text
    assert uncovered.verdict("coverage-gate") == "Failed", uncovered.text
    output = uncovered.output("coverage-gate")
    assert "changed lines covered:" in output and "TOO LOW" in output, uncovered.text
    assert "src/click/utils.py:" in output, uncovered.text
    assert "below threshold" in output, uncovered.text
