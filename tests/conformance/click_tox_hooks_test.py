"""tox-changed-tests and coverage-gate through real pre-commit on click: src
layout installed as a wheel by its own tox.ini (plus the environment that
measures coverage, which a user adopting coverage-gate adds), its
[tool.pytest.ini_options] and [tool.coverage] tables. The tox environment is
created once per session."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tests.conformance.conftest import GUARD_HOOKS, all_files_line, named_files_line
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
    assert all_files_line("tox-changed-tests") in output, every_file.text
    assert "tox-changed-tests: running the whole suite" in output, every_file.text
    assert failure in output, every_file.text

    named_file = click.pre_commit("--files", "src/click/utils.py", "tox-changed-tests")

    assert named_file.returncode == 1, named_file.text
    output = named_file.output("tox-changed-tests")
    assert named_files_line("tox-changed-tests", 1) in output, named_file.text
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


def test_all_files_runs_the_suite_once_per_tree(consumer_factory):
    click = consumer_factory("click")
    skip = GUARD_HOOKS

    first = click.pre_commit("--all-files", skip=skip)
    again = click.pre_commit("--all-files", skip=skip)

    assert first.returncode == 0, first.text
    assert first.verdict("tox-changed-tests") == "Passed", first.text
    assert "tox-changed-tests: running the whole suite" in first.output(
        "tox-changed-tests"
    ), first.text
    assert first.verdict("coverage-gate") == "Passed", first.text
    coverage_output = first.output("coverage-gate")
    assert all_files_line("coverage-gate") in coverage_output, first.text
    assert (
        "coverage-gate: measured without running again: the whole suite passed on "
        "this tree in tox-changed-tests" in coverage_output
    ), first.text
    assert "total coverage: 85.98% (threshold 85%)" in coverage_output, first.text
    assert "tox-changed-tests: not run again" in again.output(
        "tox-changed-tests"
    ), again.text
    assert again.returncode == 0, again.text


LOUD = """

LOUD_AFTER = 3


def loud(text):
    if len(text) > LOUD_AFTER:
        return text.upper()
    return text
"""
WEAK_LOUD_TEST = """

def test_loud():
    assert click.utils.loud("hello") == "HELLO"
"""


def test_mutation_gate_blocks_a_weak_test_at_push_time_stage(consumer_factory):
    click = consumer_factory("click")
    constant_line = len(Path("src/click/utils.py").read_text().splitlines()) + 3
    condition_line = constant_line + 4
    append("src/click/utils.py", LOUD)
    append("tests/test_utils.py", WEAK_LOUD_TEST)
    add("src/click/utils.py", "tests/test_utils.py")

    weak = click.pre_commit("mutation-gate", "--hook-stage", "manual")

    assert weak.returncode == 1, weak.text
    assert weak.verdict("mutation-gate") == "Failed", weak.text
    output = weak.output("mutation-gate")
    assert (
        f"src/click/utils.py:{condition_line}: mutant survived: `len(text) > "
        "LOUD_AFTER` -> `len(text) >= LOUD_AFTER` (ran 1 test: "
        "tests/test_utils.py::test_loud); add a test that fails when this line is "
        "wrong"
    ) in output, weak.text
    # a line run at import: judged in a pytest process of its own, on the wheel
    assert (
        f"src/click/utils.py:{constant_line}: mutant survived: `3` -> `4` (ran "
    ) in output, weak.text
    assert "src/click/utils.py:" + str(condition_line + 2) in output, weak.text
    assert "mutation score: 33.33%" in output, weak.text
    assert "not judged" not in output, weak.text


ORDER_DEPENDENT_TESTS = """

_WRITTEN = []


def test_utils_writes_a_line():
    _WRITTEN.append(click.utils.make_str(b"line"))
    assert _WRITTEN


def test_utils_line_was_written():
    assert _WRITTEN == ["line"]
"""


def test_a_new_test_passing_only_after_another_blocks_the_commit(consumer_factory):
    click = consumer_factory("click")
    skip = (*GUARD_HOOKS, "coverage-gate")
    append("tests/test_utils.py", ORDER_DEPENDENT_TESTS)
    add("tests/test_utils.py")
    flaky = "tests/test_utils.py::test_utils_line_was_written"

    refused = click.commit("two tests, one needing the other", skip=skip)

    assert refused.returncode == 1, refused.text
    output = refused.stdout + refused.stderr
    assert "tox-changed-tests: stress-new: running 2 new or changed test(s)" in output
    verdict = next(line for line in output.splitlines() if line.startswith(flaky))
    assert re.match(
        re.escape(f"{flaky}: passed ") + r"[1-3] of 5 runs; failed when run alone; ",
        verdict,
    ), output
    replay = click.run(shlex.split(verdict.partition("rerun with: ")[2]), skip=())
    assert f"FAILED {flaky}" in replay.stdout, replay.text

    tests = Path("tests/test_utils.py")
    tests.write_text(
        tests.read_text().replace(
            '    assert _WRITTEN == ["line"]\n',
            '    assert click.utils.make_str(b"line") == "line"\n',
        )
    )
    add("tests/test_utils.py")

    accepted = click.pre_commit("tox-changed-tests", skip=skip)

    assert accepted.verdict("tox-changed-tests") == "Passed", accepted.text
    assert "every new or changed test passed 5 of 5 runs" in accepted.output(
        "tox-changed-tests"
    ), accepted.text
