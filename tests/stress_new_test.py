"""stress-new in tox-changed-tests: real flaky tests (tests/flaky_set.py), real
tox, real git; once through real pre-commit."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from hooks import config, git, stress_new, tox_changed_tests
from hooks.tox_runner import tox_command
from tests.change_modes_test import manifest_config
from tests.flaky_set import CAUSES
from tests.helpers import add, commit, write

TOX_INI = """\
[tox]
env_list = py

[testenv]
skip_install = true
deps = pytest
commands = pytest -p no:cacheprovider {posargs:tests}
"""
BASE = {
    "tox.ini": TOX_INI,
    "calc.py": "def add(a, b):\n    return a + b\n",
    "tests/test_calc.py": (
        "from calc import add\n\n\ndef test_add():\n    assert add(2, 2) == 4\n"
    ),
    "pyproject.toml": "[tool.pytest.ini_options]\npythonpath = ['.']\n",
}
REGISTRY = CAUSES[0]
DETERMINISTIC = [cause for cause in CAUSES if not cause.by_chance]
BY_CHANCE = [cause for cause in CAUSES if cause.by_chance]
VERDICT = re.compile(r"^(\S+): passed (\d+) of (\d+) runs; ", re.MULTILINE)


@pytest.fixture
def project(repo, use_tox) -> Path:
    for path, text in BASE.items():
        write(path, text)
    add(".")
    commit("project")
    return repo


def stage(*files: tuple[str, str]) -> None:
    for path, text in files:
        write(path, text)
        add(path)


def stress(root: Path, runs: int, seed: int) -> int:
    """The stress runs alone, as tox-changed-tests makes them after the selection."""
    settings = config.load(root, {"tox-changed-tests": {"stress-new": runs}})
    return stress_new.stress_new_tests(
        git.staged_changes(),
        settings,
        root,
        tox_command(root, None),
        ["-e", "py"],
        seed=seed,
    )


def verdicts(output: str) -> dict[str, tuple[int, int]]:
    """Blocked test -> (passed runs, runs)."""
    return {
        test: (int(passed), int(runs)) for test, passed, runs in VERDICT.findall(output)
    }


def test_each_flaky_test_blocks_and_no_stable_twin_does(project, capfd):
    for cause in DETERMINISTIC:
        stage((cause.flaky_path, cause.flaky_source))
    for cause in CAUSES:
        stage((cause.stable_path, cause.stable_source))

    # seed 1: the runs' PYTHONHASHSEEDs 1 to 4 put the tags in both orders
    assert stress(project, 5, seed=1) == 1

    blocked = verdicts(capfd.readouterr().out)
    for cause in DETERMINISTIC:
        assert cause.flaky_test in blocked, cause.name
        passed, runs = blocked[cause.flaky_test]
        assert runs == 5 and passed < 5, cause.name
    assert not [test for test in blocked if "_stable.py" in test]
    assert len(blocked) == len(DETERMINISTIC)


def test_flaky_tests_by_chance_block_over_enough_runs(project, capfd):
    """Clock and unseeded randomness fail half of all runs whatever the order:
    over 21 runs both pass every time with a chance of 2 in a million."""
    for cause in BY_CHANCE:
        stage(
            (cause.flaky_path, cause.flaky_source),
            (cause.stable_path, cause.stable_source),
        )

    assert stress(project, 21, seed=5) == 1

    blocked = verdicts(capfd.readouterr().out)
    assert sorted(blocked) == sorted(cause.flaky_test for cause in BY_CHANCE)


def test_a_flaky_new_test_blocks_the_commit_with_a_replay_command(project, capfd):
    stage((REGISTRY.flaky_path, REGISTRY.flaky_source))

    assert tox_changed_tests.main(["--stress-seed", "1"]) == 1

    output = capfd.readouterr().out
    assert "2 passed" in output  # the selection run, in file order
    first = "tests/test_registry.py::test_register_adds_the_name"
    replay = [
        *tox_command(project, None),
        "--hashseed",
        "1",
        "--",
        "-p",
        "no:randomly",
        str(project / first),
        str(project / REGISTRY.flaky_test),
    ]
    line = next(line for line in output.splitlines() if VERDICT.match(line))
    assert re.fullmatch(
        re.escape(f"{REGISTRY.flaky_test}: passed ")
        + r"[1-4]"
        + re.escape(
            f" of 5 runs; failed when run after {first} (order seed 1); "
            f"rerun with: {shlex.join(replay)}"
        ),
        line,
    ), line
    assert "a new or changed test must pass every time, in any order" in output
    replayed = subprocess.run(
        shlex.split(line.partition("rerun with: ")[2]),
        capture_output=True,
        text=True,
    )
    assert f"FAILED {REGISTRY.flaky_test}" in replayed.stdout
    assert "1 failed, 1 passed" in replayed.stdout


def test_stable_new_tests_pass_every_run_and_are_not_run_again(project, capfd):
    for cause in CAUSES:
        stage((cause.stable_path, cause.stable_source))

    assert tox_changed_tests.main([]) == 0
    first = capfd.readouterr().out
    assert tox_changed_tests.main([]) == 0
    again = capfd.readouterr().out

    assert "stress-new: running 8 new or changed test(s) 4 more time(s)" in first
    assert "every new or changed test passed 5 of 5 runs" in first
    assert "stress-new: not run again: the selection passed on this tree" in again


def test_a_failed_stress_run_is_run_again_in_a_later_attempt(project, capfd):
    stage((REGISTRY.flaky_path, REGISTRY.flaky_source))
    assert tox_changed_tests.main(["--stress-seed", "1"]) == 1
    capfd.readouterr()
    later = subprocess.run(
        [sys.executable, "-m", "hooks", "tox-changed-tests", "--stress-seed", "1"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
    )

    assert later.returncode == 1, later.stdout + later.stderr
    assert "stress-new: running 2 new or changed test(s)" in later.stdout
    assert f"{REGISTRY.flaky_test}: passed " in later.stdout


def test_a_change_without_new_or_changed_tests_runs_nothing_more(project, capfd):
    stage(("calc.py", "def add(a, b):\n    return b + a\n"))

    assert tox_changed_tests.main([]) == 0

    output = capfd.readouterr().out
    assert "1 passed" in output
    assert "stress-new" not in output


def test_stress_new_zero_switches_it_off(project, capfd):
    stage(
        (REGISTRY.flaky_path, REGISTRY.flaky_source),
        (
            "pyproject.toml",
            BASE["pyproject.toml"]
            + "\n[tool.testwarden.tox-changed-tests]\nstress-new = 0\n",
        ),
    )

    assert tox_changed_tests.main(["--stress-seed", "1"]) == 0

    assert "stress-new" not in capfd.readouterr().out


def test_a_bad_stress_new_names_the_line(project, capsys):
    write(
        "pyproject.toml",
        "[tool.testwarden.tox-changed-tests]\nstress-new = -1\n",
    )

    assert tox_changed_tests.main([]) == 2

    assert capsys.readouterr().err == (
        f"testwarden: {project / 'pyproject.toml'}:2: [tool.testwarden.tox-changed-tests] "
        "'stress-new' must be a whole number of runs, 0 to switch it off, got -1\n"
    )


def test_changed_and_added_tests_are_stressed_moved_ones_are_not(repo):
    write(
        "tests/test_a.py",
        "def test_kept():\n    assert 1\n\n\n"
        "def test_edited():\n    assert 1\n\n\n"
        "def test_moved():\n    assert 2\n\n\n"
        "class TestGroup:\n    def test_method(self):\n        assert 3\n",
    )
    add(".")
    commit("tests")
    stage(
        (
            "tests/test_a.py",
            "def test_kept():\n    assert 1\n\n\n"
            "def test_edited():\n    assert 1 + 0\n\n\n"
            "class TestGroup:\n    def test_method(self):\n        assert 3\n\n"
            "    def test_added(self):\n        assert 4\n",
        ),
        ("tests/test_b.py", "def test_moved():\n    assert 2\n"),
    )

    stressed = stress_new.stressed_tests(git.staged_changes(), config.load(repo), repo)

    assert stressed == [
        "tests/test_a.py::test_edited",
        "tests/test_a.py::TestGroup::test_added",
    ]


def test_all_files_has_no_new_tests_to_stress(repo, capsys):
    write("tests/test_a.py", "def test_a():\n    assert 1\n")
    add(".")
    commit("tests")

    assert (
        stress_new.stress_new_tests(
            git.all_files(), config.load(repo), repo, ["tox"], []
        )
        == 0
    )

    assert capsys.readouterr().out == (
        "tox-changed-tests: stress-new: --all-files has no before side, so no "
        "test is new; nothing stressed\n"
    )


def test_orders_are_reversed_then_shuffled_by_file_from_the_seed():
    tests = ["a.py::t1", "a.py::t2", "a.py::t3", "b.py::t1", "b.py::t2"]

    planned = stress_new.plan_runs(tests, 5, seed=40)

    assert [run.number for run in planned] == [2, 3, 4, 5]
    assert [run.seed for run in planned] == [40, 41, 42, 43]
    assert planned[0].order == tuple(reversed(tests))
    for run in planned[1:]:
        assert sorted(run.order) == tests
        files = [test.partition("::")[0] for test in run.order]
        assert files == sorted(files, key=files.index)  # each file's tests together
    assert stress_new.plan_runs(tests, 5, seed=40) == planned
    assert len({run.order for run in planned[1:]}) > 1
    assert stress_new.plan_runs(tests, 1, seed=40) == []


def test_parametrized_cases_and_a_rootdir_below_the_repository_count(repo):
    write("sub/pytest.ini", "[pytest]\n")
    write(
        "sub/tests/test_p.py",
        "import pytest\n\n\n@pytest.mark.parametrize('n', [1, 2])\n"
        "def test_p(n):\n    assert n == 1\n\n\n"
        "class TestC:\n    def test_m(self):\n        assert True\n\n\n"
        "def test_not_stressed():\n    assert False\n",
    )
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-rA", "-p", "no:cacheprovider", "tests"],
        cwd=repo / "sub",
        capture_output=True,
        text=True,
    )
    tests = [
        "sub/tests/test_p.py::test_p",
        "sub/tests/test_p.py::TestC::test_m",
        "sub/tests/test_q.py::test_q",
    ]

    failed, reported = stress_new.outcomes_of(ran.stdout, tests)

    assert failed == {"sub/tests/test_p.py::test_p"}
    assert reported == set(tests[:2])


def test_a_flaky_new_test_blocks_a_commit_through_pre_commit(
    project, project_root, tmp_path
):
    write(
        ".pre-commit-config.yaml", manifest_config(project_root, ["tox-changed-tests"])
    )
    add(".")
    commit("hooks")
    home = tmp_path / "pre-commit-home"
    environment = {
        **os.environ,
        "PRE_COMMIT_HOME": str(home),
        "PYTHONPATH": str(project_root),
    }
    subprocess.run(
        [sys.executable, "-m", "pre_commit", "install"], env=environment, check=True
    )
    stage((REGISTRY.flaky_path, REGISTRY.flaky_source))

    refused = subprocess.run(
        ["git", "commit", "-m", "a flaky test"],
        capture_output=True,
        text=True,
        env=environment,
    )

    output = refused.stdout + refused.stderr
    assert refused.returncode == 1, output
    assert f"{REGISTRY.flaky_test}: passed " in output
    assert "of 5 runs; failed when run after" in output
    assert "rerun with: " in output


def test_a_new_test_tox_cannot_name_is_not_stressed(repo, capsys):
    weird = os.fsdecode(b"tests/test_\xff.py")
    write("tests/test_a.py", "def test_a():\n    assert 1\n")
    add(".")
    commit("tests")
    stage((weird, "def test_weird():\n    assert True\n"))

    assert stress(repo, 5, seed=1) == 0

    assert capsys.readouterr().out == (
        "tests/test_\\xff.py::test_weird: stress-new: not stressed: tox cannot "
        "take a file name that is not valid UTF-8; rename it\n"
    )


def test_a_test_failing_first_is_said_to_fail_without_the_rest(tmp_path):
    run = stress_new.PlannedRun(
        3, 12, ("tests/test_a.py::test_b", "tests/test_a.py::test_a")
    )
    verdict = stress_new.Verdict("tests/test_a.py::test_b", [run])

    line = stress_new.verdict_line(verdict, 5, ["tox"], ["-e", "py"], tmp_path)

    assert line == (
        "tests/test_a.py::test_b: passed 4 of 5 runs; failed when run first, "
        "without the rest of the selection (order seed 12); rerun with: tox -e py "
        f"--hashseed 12 -- -p no:randomly {tmp_path / 'tests/test_a.py'}::test_b"
    )
