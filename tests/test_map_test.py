"""The test map: recorded from real pytest-cov and coverage.py runs, read back
through the selection of `tox-changed-tests --list`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from coverage import CoverageData

from hooks import config, coverage_gate, git, test_map, tox_changed_tests
from hooks.affected_tests import record_test_map
from hooks.errors import UserError
from tests.helpers import add, commit, write

# Every test imports `calc`, which re-exports every module: the import graph
# selects every test for any change.
PROJECT = {
    "calc/__init__.py": "from calc.ops import add, mul\nfrom calc.text import shout\n",
    "calc/ops.py": (
        "def add(a, b):\n    return a + b\n\n\n"
        "def mul(a, b):\n    return a * b\n\n\n"
        "class Box:\n    def __init__(self, value):\n        self.value = value\n\n"
        "    def double(self):\n        return add(self.value, self.value)\n"
    ),
    "calc/text.py": "def shout(word):\n    return word.upper()\n",
    "tests/test_ops.py": (
        "import calc\nfrom calc.ops import Box\n\n\n"
        "def test_add():\n    assert calc.add(2, 2) == 4\n\n\n"
        "def test_mul():\n    assert calc.mul(2, 3) == 6\n\n\n"
        "class TestBox:\n    def test_double(self):\n        assert Box(2).double() == 4\n"
    ),
    "tests/test_text.py": (
        "import calc\n\n\ndef test_shout():\n    assert calc.shout('a') == 'A'\n"
    ),
    "tests/conftest.py": "",
    "pyproject.toml": "[tool.pytest.ini_options]\npythonpath = ['.']\n",
    ".gitignore": "__pycache__/\n.coverage*\n.pytest_cache/\n",
}
PYTEST_COV = ("--cov=calc", "--cov-context=test")
TEST_FUNCTION_COVERAGERC = "[run]\nsource = calc\ndynamic_context = test_function\n"
GRAPH = re.escape("import graph (--no-test-map)")
NO_MAP_YET = re.escape("import graph (no test map recorded yet)")
ANY_MAP_ON_MAIN = r"test map recorded on [0-9a-f]{7} \(main\)"


def project(files: dict[str, str] = PROJECT) -> None:
    for path, text in files.items():
        write(path, text)
    add(".")
    commit("project")


def run_tests(*arguments: str, coverage_run: bool = False) -> CoverageData:
    """Run the suite for real under coverage; return the data it wrote."""
    data_file = Path.cwd().parent / "data" / ".coverage"
    data_file.parent.mkdir(exist_ok=True)
    data_file.unlink(missing_ok=True)
    # Our own suite measures its subprocesses; this child measures itself.
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("COVERAGE_PROCESS")
    }
    environment["COVERAGE_FILE"] = str(data_file)
    runner = (
        ("-m", "coverage", "run", "-m", "pytest") if coverage_run else ("-m", "pytest")
    )
    completed = subprocess.run(
        [sys.executable, *runner, "-q", "-p", "no:cacheprovider", *arguments],
        env=environment,
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    data = CoverageData(str(data_file))
    data.read()
    return data


def record(*arguments: str, ran: list[str] | None = None, **options) -> str:
    data = run_tests(*arguments, **options)
    root = git.repo_root()
    return record_test_map(data, root, config.load(root), ran)


def selection_after(
    capsys, *argv: str, made_with: str = ANY_MAP_ON_MAIN
) -> dict[str, str]:
    assert tox_changed_tests.main(["--list", *argv]) == 0
    lines = capsys.readouterr().out.splitlines()
    selection = dict(line.split(": ", 1) for line in lines)
    # The first line says which change the hook looks at, and why.
    assert selection.pop("tox-changed-tests").startswith("checking ")
    made = selection.pop("selected with", None)
    assert made is None or re.fullmatch(made_with, made), made
    return selection


def only_map(repo: Path) -> test_map.TestMap:
    """The one test map recorded for REPO."""
    [stored] = test_map.stored_maps(repo)
    return stored.load()


def change(path: str, old: str, new: str) -> None:
    text = Path(path).read_text(encoding="utf-8")
    assert old in text
    write(path, text.replace(old, new))
    add(path)


def change_mul() -> None:
    """A change inside the body of calc.ops.mul, staged."""
    change("calc/ops.py", "return a * b", "return b * a")


def change_shout() -> None:
    """A change inside the body of calc.text.shout, staged."""
    change("calc/text.py", "return word.upper()", "return word.upper()[:]")


def test_a_change_inside_a_function_selects_the_tests_that_executed_it(repo, capsys):
    project()
    assert (
        record(*PYTEST_COV, "tests")
        == "test map recorded: 4 tests executed measured code"
    )
    change_mul()

    assert selection_after(capsys) == {
        "tests/test_ops.py": "1 test(s): executed calc/ops.py: mul"
    }
    assert selection_after(capsys, "--no-test-map", made_with=GRAPH) == {
        "tests/test_ops.py": "imports calc/ops.py",
        "tests/test_text.py": "imports calc/ops.py",
    }


def test_methods_are_named_by_class_and_reach_tests_through_callers(repo, capsys):
    project()
    record(*PYTEST_COV, "tests")
    change("calc/ops.py", "return a + b", "return b + a")

    # add() runs in test_add and, through Box.double, in TestBox::test_double.
    assert selection_after(capsys) == {
        "tests/test_ops.py": "2 test(s): executed calc/ops.py: add"
    }

    change("calc/ops.py", "return b + a", "return a + b")
    change("calc/ops.py", "add(self.value, self.value)", "2 * self.value")
    assert selection_after(capsys) == {
        "tests/test_ops.py": "1 test(s): executed calc/ops.py: Box.double"
    }


def test_the_hook_gives_pytest_the_single_tests(repo, capsys):
    project()
    record(*PYTEST_COV, "tests")
    change_mul()

    selection = tox_changed_tests.select_tests(
        git.staged_changes(), config.load(repo), repo
    )

    assert selection.selectors() == ["tests/test_ops.py::test_mul"]


def test_when_every_test_of_a_file_is_selected_the_file_runs(repo, capsys):
    project()
    record(*PYTEST_COV, "tests")
    change_shout()

    assert selection_after(capsys) == {
        "tests/test_text.py": "executed calc/text.py: shout"
    }


@pytest.mark.parametrize(
    "old, new, line",
    [
        ("def mul(a, b):", "def mul(a, b=1):", 5),  # a signature
        (
            "    return a * b\n",
            "    return a * b\n\n\ndef div(a, b):\n    return a / b\n",
            8,  # a new function; git inserts it after the blank lines
        ),
        ("class Box:\n", "class Box:\n    unit = 1\n\n", 9),  # a class body
    ],
)
def test_changes_outside_function_bodies_fall_back_to_the_import_graph(
    repo, capsys, old, new, line
):
    project()
    record(*PYTEST_COV, "tests")
    change("calc/ops.py", old, new)

    why = f"(line {line} changed outside a function body)"
    assert selection_after(capsys) == {
        "tests/test_ops.py": f"imports calc/ops.py {why}",
        "tests/test_text.py": f"imports calc/ops.py {why}",
    }


def test_changes_since_the_recording_count_as_changed(repo, capsys):
    project()
    record(*PYTEST_COV, "tests")
    change_mul()
    commit("mul, with the map not recorded again")
    change_shout()

    assert selection_after(capsys) == {
        "tests/test_ops.py": "1 test(s): executed calc/ops.py: mul",
        "tests/test_text.py": "executed calc/text.py: shout",
    }


def test_a_partial_run_replaces_what_the_map_held_for_its_tests(repo, capsys):
    project()
    record(*PYTEST_COV, "tests")
    change_mul()
    commit("mul")

    message = record(
        *PYTEST_COV, "tests/test_ops.py::test_mul", ran=["tests/test_ops.py::test_mul"]
    )

    assert message == "test map updated: 1 test executed measured code"
    # test_mul ran on the new mul: nothing changed since for it.
    change_shout()
    assert selection_after(capsys) == {
        "tests/test_text.py": "executed calc/text.py: shout"
    }


def test_a_partial_run_cannot_start_a_map(repo):
    project()

    message = record(*PYTEST_COV, "tests/test_text.py", ran=["tests/test_text.py"])

    assert message.startswith("test map not updated: there is none")
    assert test_map.stored_maps(repo) == []


def test_data_without_test_contexts_records_nothing_and_says_how(repo, capsys):
    project()

    assert record("--cov=calc", "tests") == (
        "no test map recorded: the coverage data has no per-test contexts; for a "
        'selection by coverage, add `dynamic_context = "test_function"` under '
        "`[tool.coverage.run]` in pyproject.toml, or run pytest with "
        "`--cov-context=test`"
    )
    change_mul()
    assert set(selection_after(capsys, made_with=NO_MAP_YET)) == {
        "tests/test_ops.py",
        "tests/test_text.py",
    }


@pytest.mark.parametrize(
    ("filename", "coverage_settings"),
    [
        (
            "pyproject.toml",
            PROJECT["pyproject.toml"] + "[tool.coverage.run]\nsource = ['calc']\n",
        ),
        (".coveragerc", "[run]\nsource = calc\n"),
        ("setup.cfg", "[coverage:run]\nsource = calc\n"),
    ],
)
def test_the_test_contexts_hint_is_valid_where_the_coverage_settings_are(
    repo, filename, coverage_settings
):
    project({**PROJECT, filename: coverage_settings})
    message = record("tests", coverage_run=True)
    hint = re.search(r"add `(.+)` under `(.+)` in (\S+), or run", message)
    assert hint is not None, message
    line, section, named = hint.groups()
    assert named == filename

    # Copied as printed, coverage.py reads it and the run records a map.
    write(filename, coverage_settings.replace(f"{section}\n", f"{section}\n{line}\n"))

    assert record("tests", coverage_run=True) == (
        "test map recorded: 2 test files executed measured code"
    )


def test_coverage_test_function_contexts_select_whole_test_files(repo, capsys):
    project(
        {
            **PROJECT,
            ".coveragerc": TEST_FUNCTION_COVERAGERC,
        }
    )
    message = record("tests", coverage_run=True)
    assert message == "test map recorded: 2 test files executed measured code"
    change_mul()

    assert selection_after(capsys) == {"tests/test_ops.py": "executed calc/ops.py: mul"}


def test_code_run_outside_any_test_is_not_vouched_for(repo, capsys):
    # With test_function contexts, fixture code runs in no test's context.
    project(
        {
            **PROJECT,
            ".coveragerc": TEST_FUNCTION_COVERAGERC,
            "tests/test_text.py": (
                "import pytest\nimport calc\n\n\n@pytest.fixture\n"
                "def loud():\n    return calc.shout('a')\n\n\n"
                "def test_shout(loud):\n    assert loud == 'A'\n"
            ),
        }
    )
    record("tests", coverage_run=True)
    change_shout()

    why = "(changed code also ran outside any test)"
    assert selection_after(capsys) == {
        "tests/test_ops.py": f"imports calc/text.py {why}",
        "tests/test_text.py": f"imports calc/text.py {why}",
    }


def test_changed_and_new_test_files_run_whole(repo, capsys):
    project()
    record(*PYTEST_COV, "tests")
    change("tests/test_text.py", "'a'", "'b'")
    write("tests/test_new.py", "def test_new():\n    pass\n")
    add("tests/test_new.py")

    assert selection_after(capsys) == {
        "tests/test_new.py": "new, or not in the test map",
        "tests/test_text.py": "changed since the test map was recorded",
    }


def test_a_new_module_is_not_vouched_for(repo):
    project()
    record(*PYTEST_COV, "tests")
    write("calc/newer.py", "def newer():\n    return 2\n")
    add("calc/newer.py")
    after_blobs = git.tracked_blobs()

    affected = test_map.affected_by_changes(
        only_map(repo), after_blobs, ["tests/test_ops.py", "tests/test_text.py"]
    )

    assert affected.unsure == {
        "calc/newer.py": "not in the test map (new since it was recorded)"
    }
    assert affected.tests == {}


def test_a_deleted_module_selects_its_importers_and_the_tests_that_ran_it(repo, capsys):
    project({**PROJECT, "calc/extra.py": "def extra():\n    return 1\n"})
    write(
        "tests/test_extra.py",
        "from calc.extra import extra\n\ndef test_extra():\n    assert extra() == 1\n",
    )
    add(".")
    commit("extra")
    record(*PYTEST_COV, "tests")
    git.run("rm", "--quiet", "calc/extra.py")

    assert selection_after(capsys) == {
        "tests/test_extra.py": "imports calc/extra.py "
        "(deleted since the test map was recorded)"
    }

    git.run("rm", "--quiet", "tests/test_extra.py")
    why = "selects nothing: deleted, and no test executed its changed code"
    assert selection_after(capsys) == {
        "calc/extra.py": why,
        "tests/test_extra.py": why,
    }


def test_a_changed_conftest_selects_the_tests_below_it(repo, capsys):
    project({**PROJECT, "tests/conftest.py": "VALUE = 1\n"})
    record(*PYTEST_COV, "tests")
    change("tests/conftest.py", "VALUE = 1", "VALUE = 2")

    why = "below the changed tests/conftest.py (a conftest.py changed)"
    assert selection_after(capsys) == {
        "tests/test_ops.py": why,
        "tests/test_text.py": why,
    }


def test_a_changed_environment_makes_the_map_stale(repo, capsys):
    project()
    record(*PYTEST_COV, "tests")
    change("pyproject.toml", "pythonpath", "testpaths = ['tests']\npythonpath")
    commit("pytest settings")
    change_mul()

    selection = selection_after(
        capsys,
        made_with=re.escape(
            "import graph (test map is stale: pyproject.toml changed since "
            "the test map was recorded)"
        ),
    )
    assert set(selection) == {"tests/test_ops.py", "tests/test_text.py"}


def test_a_version_git_no_longer_has_is_not_vouched_for(repo, capsys):
    project()
    write("calc/text.py", "def shout(word):\n    return word.upper()  # draft\n")
    record(*PYTEST_COV, "tests")  # the working tree ran; git never stored it
    change("calc/text.py", "  # draft", "")

    assert selection_after(capsys)["tests/test_text.py"] == (
        "imports calc/text.py (the version the test map saw is gone from git)"
    )


def test_tests_that_failed_last_time_run_again(repo, capsys):
    project()
    record(*PYTEST_COV, "tests")
    write(
        ".pytest_cache/v/cache/lastfailed", '{"tests/test_text.py::test_shout": true}'
    )
    change_mul()

    assert selection_after(capsys) == {
        "tests/test_ops.py": "1 test(s): executed calc/ops.py: mul",
        "tests/test_text.py": "failed in the last run",
    }


def test_a_change_that_does_not_parse_is_not_vouched_for(repo, capsys):
    project()
    record(*PYTEST_COV, "tests")
    change("calc/ops.py", "return a * b", "return a *")

    assert selection_after(capsys)["tests/test_ops.py"] == (
        "imports calc/ops.py (does not parse)"
    )


def test_doctests_are_not_tests_the_map_can_name(repo, capsys):
    project(
        {
            **PROJECT,
            "calc/text.py": (
                'def shout(word):\n    """\n    >>> shout("a")\n    \'A\'\n    """\n'
                "    return word.upper()\n"
            ),
        }
    )
    record(*PYTEST_COV, "--doctest-modules", "calc", "tests")
    change_shout()

    assert selection_after(capsys)["tests/test_text.py"] == (
        "imports calc/text.py (changed code also ran outside any test)"
    )


def test_functions_named_like_tests_outside_test_files_are_not_tests(repo, capsys):
    # coverage's test_function contexts start in any function named test*.
    project(
        {
            **PROJECT,
            ".coveragerc": TEST_FUNCTION_COVERAGERC,
            "tests/helpers.py": "import calc\n\n\ndef testing_word():\n"
            "    return calc.shout('a')\n",
            "tests/test_text.py": "import calc\nfrom helpers import testing_word\n\n"
            "WORD = testing_word()\n\n\ndef test_shout():\n"
            "    assert calc.shout('a') == WORD\n",
            "pyproject.toml": "[tool.pytest.ini_options]\npythonpath = ['.', 'tests']\n",
        }
    )
    record("tests", coverage_run=True)
    change_shout()

    assert selection_after(capsys)["tests/test_text.py"] == (
        "imports calc/text.py (changed code also ran outside any test)"
    )


def test_modules_no_test_imports_are_known_to_the_map(repo, capsys):
    # pytest-cov lists calc/windows.py as measured, with no line: no test ran
    # it, though the import graph reaches it from every test.
    project(
        {
            **PROJECT,
            "calc/windows.py": "def console():\n    return 'con'\n",
            "calc/ops.py": PROJECT["calc/ops.py"]
            + "\n\ndef console():\n    from calc.windows import console\n\n"
            "    return console()\n",
        }
    )
    record(*PYTEST_COV, "tests")
    record(*PYTEST_COV, "tests/test_text.py", ran=["tests/test_text.py"])
    change_mul()

    assert selection_after(capsys) == {
        "tests/test_ops.py": "1 test(s): executed calc/ops.py: mul"
    }


def test_a_module_first_imported_inside_a_test_is_that_tests_alone(repo, capsys):
    project(
        {
            **PROJECT,
            "calc/lazy.py": "def late():\n    return 3\n",
            "tests/test_lazy.py": "def test_late():\n    from calc.lazy import late\n\n"
            "    assert late() == 3\n",
        }
    )
    record(*PYTEST_COV, "tests")
    change("calc/lazy.py", "return 3", "return 1 + 2")

    assert selection_after(capsys) == {
        "tests/test_lazy.py": "executed calc/lazy.py: late"
    }


def test_files_git_does_not_track_stay_out_of_the_map(repo, tmp_path):
    outside = tmp_path / "outside"
    write(outside / "elsewhere.py", "def value():\n    return 1\n")
    project(
        {
            **PROJECT,
            "tests/test_more.py": f"import sys\nsys.path.insert(0, {str(outside)!r})\n"
            "import elsewhere\nimport calc.scratch\n\n\ndef test_more():\n"
            "    assert elsewhere.value() == calc.scratch.VALUE\n",
        }
    )
    write("calc/scratch.py", "VALUE = 1\n")  # never added

    record(*PYTEST_COV, f"--cov={outside}", "tests")

    recorded = only_map(repo)
    assert set(recorded.executed) | set(recorded.outside_tests) == {
        "calc/__init__.py",
        "calc/ops.py",
        "calc/text.py",
    }


def test_an_unreadable_record_of_failures_is_ignored(repo, capsys):
    project()
    record(*PYTEST_COV, "tests")
    write(".pytest_cache/v/cache/lastfailed", "[1]")
    change_mul()

    assert selection_after(capsys) == {
        "tests/test_ops.py": "1 test(s): executed calc/ops.py: mul"
    }


def test_a_changed_test_file_runs_whole_even_when_the_map_names_its_tests(repo, capsys):
    project()
    record(*PYTEST_COV, "tests")
    change_mul()
    change("tests/test_ops.py", "(2, 3) == 6", "(3, 2) == 6")

    assert selection_after(capsys) == {
        "tests/test_ops.py": "changed since the test map was recorded"
    }


def test_tests_of_a_deleted_test_file_are_not_selected(repo, capsys):
    project()
    record(*PYTEST_COV, "tests")
    git.run("rm", "--quiet", "tests/test_ops.py")
    change_mul()

    assert selection_after(capsys) == {
        "calc/ops.py": "selects nothing: no test executed its changed code",
        "tests/test_ops.py": "selects nothing: deleted, and no test executed its "
        "changed code",
    }


@pytest.mark.parametrize(
    "stored",
    [
        "not json",
        '{"format": 1}',  # the format of one map per checkout
        "[1]",
        '{"format": 2, "environment": []}',
        "HEADER",  # no body
        "HEADER\nnot json",
        'HEADER\n{"executed": []}',
    ],
)
def test_an_unreadable_map_means_the_import_graph(repo, capsys, stored):
    project()
    record(*PYTEST_COV, "tests")
    [recorded] = test_map.stored_maps(repo)
    header = recorded.path.read_text(encoding="utf-8").splitlines()[0]
    write(recorded.path, stored.replace("HEADER", header))
    change_mul()

    assert set(selection_after(capsys, made_with=NO_MAP_YET)) == {
        "tests/test_ops.py",
        "tests/test_text.py",
    }


# Several maps per checkout


def made_on(commit: str, branch: str | None = "main") -> str:
    """The `selected with` line of a map recorded on COMMIT (as a pattern)."""
    suffix = f" ({branch})" if branch else ""
    return re.escape(f"test map recorded on {commit[:7]}{suffix}")


def map_recorded_on(repo: Path, commit: str) -> test_map.TestMap:
    [stored] = [map_ for map_ in test_map.stored_maps(repo) if map_.commit == commit]
    return stored.load()


def test_going_back_to_a_branch_of_another_configuration_reuses_its_map(repo, capsys):
    project()
    on_main = git.head_commit()
    record(*PYTEST_COV, "tests")
    git.run("checkout", "--quiet", "-b", "other")
    change("pyproject.toml", "pythonpath", "testpaths = ['tests']\npythonpath")
    on_other = commit("pytest settings")
    record(*PYTEST_COV, "tests")
    git.run("checkout", "--quiet", "main")
    change_mul()

    assert selection_after(capsys, made_with=made_on(on_main)) == {
        "tests/test_ops.py": "1 test(s): executed calc/ops.py: mul"
    }

    git.run("reset", "--quiet", "--hard")
    git.run("checkout", "--quiet", "other")
    change_shout()
    assert selection_after(capsys, made_with=made_on(on_other, "other")) == {
        "tests/test_text.py": "executed calc/text.py: shout"
    }


def test_the_map_holding_the_most_current_files_is_chosen_and_updated(repo, capsys):
    project()
    on_main = git.head_commit()
    record(*PYTEST_COV, "tests")
    git.run("checkout", "--quiet", "-b", "other")
    change(
        "calc/ops.py", "class Box:", "def div(a, b):\n    return a / b\n\n\nclass Box:"
    )
    on_other = commit("div")
    record(*PYTEST_COV, "tests")  # the map used last, but not main's code
    git.run("checkout", "--quiet", "main")
    change_mul()

    # Against other's map, div's removal is a change outside a function body.
    assert selection_after(capsys, made_with=made_on(on_main)) == {
        "tests/test_ops.py": "1 test(s): executed calc/ops.py: mul"
    }

    commit("mul")
    record(
        *PYTEST_COV, "tests/test_ops.py::test_mul", ran=["tests/test_ops.py::test_mul"]
    )
    new_mul = git.tracked_blobs()["calc/ops.py"]
    assert new_mul in map_recorded_on(repo, on_main).versions("calc/ops.py")
    assert new_mul not in map_recorded_on(repo, on_other).versions("calc/ops.py")
    change_shout()
    assert selection_after(capsys, made_with=made_on(on_main)) == {
        "tests/test_text.py": "executed calc/text.py: shout"
    }


def test_beyond_eight_maps_the_least_recently_used_is_dropped(repo, capsys):
    project()
    first = git.head_commit()
    record(*PYTEST_COV, "tests")
    change("calc/text.py", "word.upper()", "word.upper()  # loud")
    later = [commit("loud")]
    data = run_tests(*PYTEST_COV, "tests")  # the tree of every later commit
    settings = config.load(repo)
    record_test_map(data, repo, settings, None)
    for number in range(6):
        later.append(commit(f"empty {number}"))
        record_test_map(data, repo, settings, None)
    assert {map_.commit for map_ in test_map.stored_maps(repo)} == {first, *later}

    # Back on the first commit, its map fits best: using it keeps it.
    git.run("checkout", "--quiet", "--detach", first)
    change_mul()
    assert selection_after(capsys, made_with=made_on(first)) == {
        "tests/test_ops.py": "1 test(s): executed calc/ops.py: mul"
    }
    git.run("reset", "--quiet", "--hard")
    git.run("checkout", "--quiet", "main")
    newest = commit("newest")
    record_test_map(data, repo, settings, None)

    assert {map_.commit for map_ in test_map.stored_maps(repo)} == {
        first,
        *later[1:],
        newest,
    }
    assert len(list(test_map.maps_directory(repo).iterdir())) == test_map.MAPS_KEPT


def test_the_whole_suite_on_the_same_commit_replaces_its_map(repo):
    project()
    data = run_tests(*PYTEST_COV, "tests")
    settings = config.load(repo)
    record_test_map(data, repo, settings, None)

    assert record_test_map(data, repo, settings, None).startswith("test map recorded")

    assert len(test_map.stored_maps(repo)) == 1


def test_a_map_recorded_on_a_detached_head_names_no_branch(repo, capsys):
    project()
    on_commit = git.head_commit()
    git.run("checkout", "--quiet", "--detach")
    record(*PYTEST_COV, "tests")
    change_mul()

    assert selection_after(capsys, made_with=made_on(on_commit, None)) == {
        "tests/test_ops.py": "1 test(s): executed calc/ops.py: mul"
    }


def test_a_map_recorded_before_any_commit_says_so(repo, capsys):
    for path, text in PROJECT.items():
        write(path, text)
    add(".")
    record(*PYTEST_COV, "tests")
    commit("project")
    change_mul()

    assert selection_after(
        capsys, made_with=re.escape("test map recorded before any commit (main)")
    ) == {"tests/test_ops.py": "1 test(s): executed calc/ops.py: mul"}


def test_a_cache_that_cannot_be_written_is_said_in_one_line(repo, monkeypatch):
    project()
    not_a_directory = write(repo.parent / "cache-file", "")
    monkeypatch.setenv("TESTWARDEN_CACHE_DIR", str(not_a_directory))

    message = record(*PYTEST_COV, "tests")

    assert message.startswith("no test map recorded: cannot write it: ")


def test_record_test_map_must_be_true_or_false(repo):
    write(
        "pyproject.toml", "[tool.testwarden.tox-changed-tests]\nrecord-test-map = 1\n"
    )

    with pytest.raises(UserError, match="record-test-map.*true or false"):
        config.load(repo)


# Through tox, as the hooks run it.

TOX_INI = """\
[tox]
env_list = py

[testenv]
skip_install = true
deps =
    pytest
    coverage
commands = coverage run -m pytest -p no:cacheprovider {posargs:tests}
"""
TEST_FUNCTION_CONTEXTS = (
    "\n[tool.coverage.run]\nsource = ['calc']\ndynamic_context = 'test_function'\n"
)


@pytest.fixture
def tox_project(repo, use_tox) -> Path:
    project(
        {
            **PROJECT,
            "tox.ini": TOX_INI,
            "pyproject.toml": PROJECT["pyproject.toml"] + TEST_FUNCTION_CONTEXTS,
        }
    )
    return repo


def test_coverage_gate_records_the_map_and_the_commit_runs_only_its_selection(
    tox_project, capfd
):
    assert coverage_gate.main(["--all-files", "--fail-under", "0"]) == 0
    assert "coverage-gate: test map recorded: 2 test files" in capfd.readouterr().out
    change_shout()

    assert coverage_gate.main([]) == 0

    output = capfd.readouterr().out
    assert f"pytest -p no:cacheprovider {tox_project / 'tests/test_text.py'}" in output
    assert "1 passed" in output
    assert "coverage-gate: test map updated: 1 test file" in output


def test_tox_changed_tests_records_when_asked(tox_project, capfd):
    write(
        "pyproject.toml",
        PROJECT["pyproject.toml"]
        + TEST_FUNCTION_CONTEXTS
        + "\n[tool.testwarden.tox-changed-tests]\nrecord-test-map = true\n",
    )
    add("pyproject.toml")
    commit("record the map")

    assert tox_changed_tests.main(["--all-files"]) == 0
    assert (
        "tox-changed-tests: test map recorded: 2 test files" in capfd.readouterr().out
    )
    change_mul()

    assert tox_changed_tests.main([]) == 0

    output = capfd.readouterr().out
    assert "tests/test_ops.py: executed calc/ops.py: mul" in output
    assert "tox-changed-tests: test map updated: 1 test file" in output


def test_tox_changed_tests_says_when_a_run_left_no_data(tox_project, capfd):
    write("tox.ini", TOX_INI.replace("coverage run -m pytest", "pytest"))
    write(
        "pyproject.toml",
        PROJECT["pyproject.toml"]
        + "\n[tool.testwarden.tox-changed-tests]\nrecord-test-map = true\n",
    )
    add(".")
    commit("no coverage")
    change_mul()

    assert tox_changed_tests.main([]) == 0

    output = capfd.readouterr().out
    assert (
        "tox-changed-tests: no test map recorded: the tox environment produced no coverage data"
        in output
    )


def test_a_failing_run_records_nothing(tox_project, capfd):
    write(
        "pyproject.toml",
        PROJECT["pyproject.toml"]
        + TEST_FUNCTION_CONTEXTS
        + "\n[tool.testwarden.tox-changed-tests]\nrecord-test-map = true\n",
    )
    add("pyproject.toml")
    commit("record the map")
    change("calc/ops.py", "return a * b", "return a + b")

    assert tox_changed_tests.main([]) == 1

    assert "tox-changed-tests: test map" not in capfd.readouterr().out
    assert test_map.stored_maps(tox_project) == []


def test_single_tests_go_to_pytest_through_tox(tox_project, capfd):
    write("pyproject.toml", PROJECT["pyproject.toml"])
    add("pyproject.toml")
    commit("no test_function contexts")
    record(*PYTEST_COV, "tests")  # node ids, from pytest-cov run directly
    change_mul()

    assert tox_changed_tests.main([]) == 0

    output = capfd.readouterr().out
    assert "tox-changed-tests: running 1 test(s) of 1 file(s):" in output
    assert f"{tox_project / 'tests/test_ops.py'}::test_mul" in output
    assert "1 passed" in output
