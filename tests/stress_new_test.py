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
from tests.subprocess_pytest import TEST_RUNNING_PYTEST

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
# An order seed whose shuffled run 4 is test_log_keeps_entries,
# test_log_starts_empty, test_log_is_a_list.
SHUFFLED_POLLUTER_FIRST = 2
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


def test_unseeded_randomness_blocks_over_enough_runs(project, capfd):
    """Each forked run draws new random seeds, as a new process would. A test
    that fails in half of all draws fails in 2 to 18 of the 20 stress runs but
    with a chance of 4 in 10,000; forks repeating their parent's draw would
    fail in all of them or none."""
    randomness = next(cause for cause in BY_CHANCE if "random" in cause.name)
    stage(
        (randomness.flaky_path, randomness.flaky_source),
        (randomness.stable_path, randomness.stable_source),
    )

    assert stress(project, 21, seed=5) == 1

    blocked = verdicts(capfd.readouterr().out)
    assert list(blocked) == [randomness.flaky_test]
    passed, runs = blocked[randomness.flaky_test]
    assert runs == 21 and 3 <= passed <= 19


def test_the_runs_are_alone_reversed_then_shuffled_the_last_in_a_new_process(
    project,
):
    stage(
        (
            "tests/test_a.py",
            "def test_old():\n    assert True\n\n\n"
            "def test_new_one():\n    assert True\n\n\n"
            "def test_after():\n    assert True\n\n\n"
            "def test_new_two():\n    assert True\n",
        ),
    )
    tests = ["tests/test_a.py::test_new_one", "tests/test_a.py::test_new_two"]
    command = tox_command(project, None)

    results = stress_new.run_stress(command, ["-e", "py"], project, tests, 6, 40)
    again = stress_new.run_stress(command, ["-e", "py"], project, tests, 6, 40)

    runs = results.runs
    assert [(run.number, run.kind) for run in runs] == [
        (2, "alone"),
        (2, "alone"),
        (3, "reversed"),
        (4, "shuffled"),
        (5, "shuffled"),
        (6, "shuffled"),
    ]
    assert [run.order for run in runs[:2]] == [(tests[0],), (tests[1],)]
    # reversed up to the last new test it holds: what runs after cannot matter
    assert runs[2].order == (tests[1], "tests/test_a.py::test_after", tests[0])
    for run in runs[3:]:
        assert set(run.order) <= {
            *tests,
            "tests/test_a.py::test_old",
            "tests/test_a.py::test_after",
        }
        assert run.order[-1] in tests and set(tests) <= set(run.order)
    assert [run.new_process for run in runs] == [False] * 5 + [True]
    assert [run.hash_seed for run in runs] == ["40"] * 5 + ["41"]
    assert all(run.verdict == "passed" and not run.failed for run in runs)
    assert [run.order for run in again.runs] == [run.order for run in runs]
    assert len({run.order for run in runs[3:]}) > 1
    assert results.missing == [] and not results.collection_failed


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


def test_the_selection_runs_the_files_of_new_tests_last(project, capfd):
    stage(
        ("calc.py", "def add(a, b):\n    return b + a\n"),
        ("tests/test_aaa.py", "def test_new():\n    assert True\n"),
    )

    assert tox_changed_tests.main(["--stress-new", "2"]) == 0

    output = capfd.readouterr().out
    ran = re.findall(r"^(tests/test_\w+\.py) \.", output, re.MULTILINE)
    assert ran == ["tests/test_calc.py", "tests/test_aaa.py"]
    assert "every new or changed test passed 2 of 2 runs" in output


def test_an_old_test_failing_after_a_new_one_is_noted_not_blocked(project, capfd):
    write(
        "tests/test_log.py",
        "LOG = []\n\n\ndef test_log_starts_empty():\n    assert LOG == []\n",
    )
    add(".")
    commit("log")
    stage(
        (
            "tests/test_log.py",
            "LOG = []\n\n\ndef test_log_starts_empty():\n    assert LOG == []\n\n\n"
            "def test_log_keeps_entries():\n    LOG.append(1)\n    assert LOG == [1]\n\n\n"
            "def test_log_is_a_list():\n    assert isinstance(LOG, list)\n",
        )
    )

    assert stress(project, 4, seed=SHUFFLED_POLLUTER_FIRST) == 0

    output = capfd.readouterr().out
    assert (
        "tests/test_log.py::test_log_starts_empty: stress-new: note: failed in run 4 "
        "(shuffled, after tests/test_log.py::test_log_keeps_entries, order seed "
        f"{SHUFFLED_POLLUTER_FIRST}); it is not new or changed, so it does not block"
    ) in output
    assert "every new or changed test passed 4 of 4 runs" in output


def test_a_tox_env_without_pytest_says_the_stress_runs_could_not_be_made(
    project, capfd
):
    stage(
        ("tox.ini", TOX_INI.replace("pytest -p no:cacheprovider", "python -c pass")),
        ("tests/test_new.py", "def test_new():\n    assert True\n"),
    )

    assert tox_changed_tests.main(["--stress-seed", "1"]) == 1

    output = capfd.readouterr().out
    assert (
        "stress-new: the selection run could not make the runs (the stress "
        "plugin did not load in it); they run in a tox run of their own"
    ) in output
    assert (
        "tox-changed-tests: stress-new: the tox env did not run pytest with "
        "testwarden's stress plugin ("
    ) in output
    assert "must run pytest and pass {posargs} to it" in output


def test_a_tox_command_running_pytest_xdist_is_stressed_in_one_process(project, capfd):
    stage(
        (
            "tox.ini",
            TOX_INI.replace("deps = pytest", "deps = pytest\n    pytest-xdist").replace(
                "pytest -p", "pytest -n 2 -p"
            ),
        ),
        (REGISTRY.flaky_path, REGISTRY.flaky_source),
    )
    subprocess.run([*tox_command(project, None), "-e", "py", "--notest"], check=True)

    assert stress(project, 3, seed=1) == 1

    blocked = verdicts(capfd.readouterr().out)
    assert blocked == {REGISTRY.flaky_test: (2, 3)}


def test_the_runs_are_made_in_the_selection_tox_run(project, capfd):
    stage((REGISTRY.flaky_path, REGISTRY.flaky_source))

    assert tox_changed_tests.main(["--stress-seed", "1"]) == 1

    output = capfd.readouterr().out
    assert (
        "stress-new: running 2 new or changed test(s) 4 more time(s) in the "
        "selection's tox run, before pytest runs the selection"
    ) in output
    assert "2 passed" in output  # the selection itself, after the runs
    assert "could not make the runs" not in output
    assert list(verdicts(output)) == [REGISTRY.flaky_test]


def test_a_selection_failing_on_what_the_runs_left_says_what_they_found(project, capfd):
    leftover = next(cause for cause in CAUSES if "leftover" in cause.name)
    stage((leftover.flaky_path, leftover.flaky_source))

    assert tox_changed_tests.main(["--stress-seed", "1"]) == 1

    output = capfd.readouterr().out
    assert f"FAILED {leftover.flaky_test}" in output  # the selection run, last
    assert (
        "stress-new: the selection run failed after runs 2 to 5 of the new and "
        "changed tests, which it made first:"
    ) in output
    assert verdicts(output) == {leftover.flaky_test: (1, 5)}


def in_own_env(name: str, deps: str, pytest_options: str) -> str:
    """A tox.ini whose only env, NAME, runs pytest with DEPS and PYTEST_OPTIONS."""
    return (
        f"[tox]\nenv_list = {name}\n\n[testenv:{name}]\nskip_install = true\n"
        f"deps = pytest\n    {deps}\n"
        f"commands = pytest {pytest_options} -p no:cacheprovider {{posargs:tests}}\n"
    )


@pytest.mark.parametrize(
    ("env", "deps", "pytest_options", "reason"),
    [
        ("xdist", "pytest-xdist", "-n 2", "it runs under pytest-xdist"),
        (
            "randomly",
            "pytest-randomly",
            "",
            "pytest-randomly reseeds random before each test",
        ),
    ],
)
def test_a_selection_run_that_cannot_make_the_runs_leaves_them_to_a_run_of_their_own(
    project, capfd, env, deps, pytest_options, reason
):
    stage(
        ("tox.ini", in_own_env(env, deps, pytest_options)),
        (REGISTRY.stable_path, REGISTRY.stable_source),
    )

    assert tox_changed_tests.main(["--stress-new", "3"]) == 0

    output = capfd.readouterr().out
    assert (
        f"stress-new: the selection run could not make the runs ({reason}); "
        "they run in a tox run of their own"
    ) in output
    assert (
        "stress-new: running 2 new or changed test(s) 2 more time(s): alone" in output
    )
    assert "every new or changed test passed 3 of 3 runs" in output


@pytest.mark.parametrize(
    "tox_ini",
    [TOX_INI, in_own_env("xdist", "pytest-xdist", "-n 2")],
    ids=["runs in the selection run", "xdist: a run of their own"],
)
def test_the_runs_leave_no_temporary_directory(project, capfd, monkeypatch, tox_ini):
    temporary = project.parent / "tmp"
    temporary.mkdir()
    monkeypatch.setenv("TMPDIR", str(temporary))  # for tox and pytest in its env
    stage(("tox.ini", tox_ini), (REGISTRY.stable_path, REGISTRY.stable_source))

    assert tox_changed_tests.main(["--stress-new", "3"]) == 0

    assert "every new or changed test passed 3 of 3 runs" in capfd.readouterr().out
    assert sorted(temporary.glob("testwarden-stress-runs-*")) == []


def test_a_new_test_running_pytest_in_a_subprocess_gets_no_stress_plugin(
    project, capfd
):
    stage(("tests/test_subprocess.py", TEST_RUNNING_PYTEST))

    assert tox_changed_tests.main(["--stress-new", "3"]) == 0

    output = capfd.readouterr().out
    assert "could not make the runs" not in output
    assert "every new or changed test passed 3 of 3 runs" in output


def test_a_coverage_fail_under_in_the_tox_command_fails_no_run(project, capfd):
    """The new process runs the new tests' files alone: pytest-cov's
    fail-under would fail it on coverage the selection run does reach."""
    stage(
        (
            "tox.ini",
            in_own_env("cov", "pytest-cov", "--cov=calc --cov-fail-under=100"),
        ),
        (
            "calc.py",
            "def add(a, b):\n    return a + b\n\n\ndef neg(a):\n    return -a\n",
        ),
        (
            "tests/test_neg.py",
            "from calc import neg\n\n\ndef test_neg():\n    assert neg(2) == -2\n",
        ),
    )

    assert tox_changed_tests.main(["--stress-new", "3"]) == 0

    output = capfd.readouterr().out
    assert "Required test coverage of 100% reached" in output
    assert "every new or changed test passed 3 of 3 runs" in output


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


def test_parametrized_cases_and_a_rootdir_below_the_repository_count(repo, use_tox):
    write(
        "tox.ini",
        TOX_INI.replace("commands =", "changedir = sub\ncommands =").replace(
            "{posargs:tests}", "{posargs}"
        ),
    )
    write("sub/pytest.ini", "[pytest]\n")
    write("sub/tests/test_q.py", "def test_q():\n    assert True\n")
    add(".")
    commit("project")
    stage(
        (
            "sub/tests/test_p.py",
            "import pytest\n\n\n@pytest.mark.parametrize('n', [1, 2])\n"
            "def test_p(n):\n    assert n == 1\n\n\n"
            "class TestC:\n    def test_m(self):\n        assert True\n",
        )
    )
    tests = ["sub/tests/test_p.py::test_p", "sub/tests/test_p.py::TestC::test_m"]

    results = stress_new.run_stress(
        tox_command(repo, None), ["-e", "py"], repo, tests, 3, 7
    )

    alone = results.runs[0]
    assert alone.order == (
        "sub/tests/test_p.py::test_p[1]",
        "sub/tests/test_p.py::test_p[2]",
    )
    assert alone.failed == ("sub/tests/test_p.py::test_p[2]",)
    failing = stress_new.verdicts_of(tests, results.runs)
    assert [len(verdict.failed_in) for verdict in failing] == [2, 0]


def install_tox_changed_tests(project_root: Path, tmp_path: Path) -> dict[str, str]:
    """Commit a config listing tox-changed-tests, `pre-commit install` it;
    the environment to run git and pre-commit in."""
    write(
        ".pre-commit-config.yaml", manifest_config(project_root, ["tox-changed-tests"])
    )
    add(".")
    commit("hooks")
    environment = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "PYTHONPATH": str(project_root),
    }
    subprocess.run(
        [sys.executable, "-m", "pre_commit", "install"], env=environment, check=True
    )
    return environment


def test_a_flaky_new_test_blocks_a_commit_through_pre_commit(
    project, project_root, tmp_path
):
    environment = install_tox_changed_tests(project_root, tmp_path)
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

    commit("a flaky test, past the hooks")

    def pre_commit_run(*mode: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "run", "tox-changed-tests", *mode],
            capture_output=True,
            text=True,
            env=environment,
        )

    pushed = pre_commit_run("--from-ref", "HEAD~1", "--to-ref", "HEAD")
    everything = pre_commit_run("--all-files", "--verbose")
    named = pre_commit_run("--files", REGISTRY.flaky_path, "--verbose")

    assert pushed.returncode == 1, pushed.stdout
    assert f"{REGISTRY.flaky_test}: passed " in pushed.stdout
    assert everything.returncode == 0, everything.stdout
    assert "--all-files has no before side, so no test is new" in everything.stdout
    assert named.returncode == 0, named.stdout
    assert "--files has no before side, so no test is new" in named.stdout


def test_a_new_test_running_pytest_in_a_subprocess_is_committed_through_pre_commit(
    project, project_root, tmp_path
):
    environment = install_tox_changed_tests(project_root, tmp_path)
    stage(("tests/test_subprocess.py", TEST_RUNNING_PYTEST))

    committed = subprocess.run(
        ["git", "commit", "-m", "a test running pytest"],
        capture_output=True,
        text=True,
        env=environment,
    )
    pushed = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "tox-changed-tests"]
        + ["--from-ref", "HEAD~1", "--to-ref", "HEAD", "--verbose"],
        capture_output=True,
        text=True,
        # a cache of its own: the commit's passing runs are remembered
        env={**environment, "TESTWARDEN_CACHE_DIR": str(tmp_path / "push-cache")},
    )

    assert committed.returncode == 0, committed.stdout + committed.stderr
    assert re.search(r"^tox-changed-tests\.+Passed$", committed.stderr, re.MULTILINE)
    assert pushed.returncode == 0, pushed.stdout
    assert "passed 5 of 5 runs" in pushed.stdout


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


def stress_run(kind, order, failed, *, new_process=False, hash_seed="12"):
    return stress_new.StressRun(
        3, kind, tuple(order), tuple(failed), "failed", 0.1, hash_seed, new_process
    )


def test_a_test_failing_first_of_its_file_is_said_so(tmp_path):
    test = "tests/test_a.py::test_b"
    run = stress_run("shuffled", [test, "tests/test_a.py::test_a"], [test])
    verdict = stress_new.Verdict(test, [(run, test)])

    line = stress_new.verdict_line(verdict, 5, 12, ["tox"], ["-e", "py"], tmp_path)

    assert line == (
        "tests/test_a.py::test_b: passed 4 of 5 runs; failed when run first of "
        "its file (order seed 12); rerun with: tox -e py --hashseed 12 -- -p "
        f"no:randomly {tmp_path / 'tests/test_a.py'}::test_b"
    )


def test_a_test_failing_alone_or_in_a_new_process_is_said_so(tmp_path):
    test = "tests/test_a.py::test_b[x]"
    alone = stress_run("alone", [test], [test], hash_seed="9")
    fresh = stress_run(
        "shuffled", ["tests/test_a.py::test_a", test], [test], new_process=True
    )

    lines = [
        stress_new.verdict_line(
            stress_new.Verdict("tests/test_a.py::test_b", [(run, test)]),
            5,
            11,
            ["tox"],
            [],
            tmp_path,
        )
        for run in (alone, fresh)
    ]

    assert lines[0].startswith(
        "tests/test_a.py::test_b: passed 4 of 5 runs; failed when run alone; "
        f"rerun with: tox --hashseed 9 -- -p no:randomly '{tmp_path}/tests/test_a.py::test_b[x]'"
    )
    assert lines[1].startswith(
        "tests/test_a.py::test_b: passed 4 of 5 runs; failed when run after "
        "tests/test_a.py::test_a in a new process (order seed 11, PYTHONHASHSEED=12); "
        "rerun with: tox --hashseed 12 -- -p no:randomly "
    )
