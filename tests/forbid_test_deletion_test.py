from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hooks import forbid_test_deletion
from tests.helpers import add, commit, committed, git, stage, write

TWO_TESTS = """\
def test_one():
    assert 1


def test_two():
    assert 2
"""


def check(capsys, *argv: str) -> tuple[int, str]:
    exit_code = forbid_test_deletion.main(list(argv))
    captured = capsys.readouterr()
    return exit_code, captured.out + captured.err


def move(source: str, destination: str) -> None:
    Path(destination).parent.mkdir(parents=True, exist_ok=True)
    git("mv", source, destination)


def test_deleting_a_test_file_names_each_test_and_its_last_revision(repo, capsys):
    base = committed({"tests/test_math.py": TWO_TESTS})
    git("rm", "--quiet", "tests/test_math.py")

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert (
        f"tests/test_math.py:1: tests/test_math.py::test_one removed: file deleted "
        f"(last seen in {base[:12]})" in out
    )
    assert "tests/test_math.py:5: tests/test_math.py::test_two removed" in out
    assert "collect 2 tests before and 0 after" in out
    assert "To fix:" in out and "[tool.testwarden.forbid-test-deletion]" in out


def test_a_pure_move_between_test_paths_passes(repo, capsys):
    committed({"tests/test_math.py": TWO_TESTS})
    move("tests/test_math.py", "tests/unit/test_arithmetic.py")

    assert check(capsys) == (0, "")


def test_tests_moved_to_another_file_with_edits_pass(repo, capsys):
    committed({"tests/test_math.py": TWO_TESTS, "tests/test_other.py": "x = 1\n"})
    git("rm", "--quiet", "tests/test_math.py")
    stage({"tests/test_other.py": """\
            class TestMoved:
                def test_one(self):
                    assert "rewritten"

            def test_two():
                assert "rewritten too"
            """})

    assert check(capsys) == (0, "")


def test_moving_a_test_file_out_of_the_test_paths_is_rejected(repo, capsys):
    committed({"tests/test_math.py": TWO_TESTS})
    move("tests/test_math.py", "attic.py")

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert (
        "tests/test_math.py::test_one removed: file moved to attic.py, "
        "which is not a test file" in out
    )


def test_emptying_a_test_file_is_rejected(repo, capsys):
    committed({"tests/test_math.py": TWO_TESTS})
    committed({"tests/test_math.py": "# nothing left\n"}, "empty it")

    exit_code, out = check(capsys, "--from-ref", "HEAD~1", "--to-ref", "HEAD")

    assert exit_code == 1
    assert "tests/test_math.py::test_two removed: file emptied" in out


def test_removing_a_function_and_a_method_is_rejected(repo, capsys):
    committed({"test_api.py": """\
            def test_kept():
                pass

            def test_dropped():
                pass

            class TestClient:
                def test_get(self):
                    pass

                def test_post(self):
                    pass
            """})
    committed(
        {"test_api.py": """\
            def test_kept():
                pass

            class TestClient:
                def test_get(self):
                    pass
            """},
        "drop two",
    )

    exit_code, out = check(capsys, "--from-ref", "HEAD~1", "--to-ref", "HEAD")

    assert exit_code == 1
    assert "test_api.py:4: test_api.py::test_dropped removed (last seen in" in out
    assert "test_api.py:11: test_api.py::TestClient::test_post removed" in out
    assert "collect 4 tests before and 2 after" in out


def test_renaming_a_test_with_the_same_body_passes_silently(repo, capsys):
    committed({"test_a.py": "def test_a():\n    assert compute() == 4\n"})
    committed({"test_a.py": "def test_b():\n    assert compute() == 4\n"}, "rename")

    assert check(capsys, "--from-ref", "HEAD~1", "--to-ref", "HEAD") == (0, "")


def test_a_removed_test_replaced_by_a_new_one_passes_with_a_note(repo, capsys):
    committed({"test_a.py": TWO_TESTS, "tests/test_b.py": "def test_b():\n    pass\n"})
    committed({"test_a.py": "def test_one():\n    assert 1\n"}, "drop")
    committed(
        {"tests/test_b.py": "def test_b():\n    pass\n\ndef test_new():\n    pass\n"}
    )

    exit_code, out = check(capsys, "--from-ref", "HEAD~2", "--to-ref", "HEAD")

    assert exit_code == 0
    assert (
        "test_a.py:5: note: test_a.py::test_two removed (last seen in" in out
        and "counted as replaced: the changed test files collect 3 tests after "
        "the change, 3 before" in out
    )


PARAMETRIZED = """\
import pytest

CASES = [(1, 2), (2, 3)]


@pytest.mark.parametrize("value, expected", [(1, 1), (2, 4), (3, 9)])
def test_square(value, expected):
    assert value * value == expected


@pytest.mark.parametrize("value, expected", CASES)
def test_next(value, expected):
    assert value + 1 == expected


@pytest.mark.parametrize("value", make_cases())
def test_generated(value):
    assert value
"""


def test_removing_parametrize_cases_names_the_cases(repo, capsys):
    committed({"tests/test_table.py": PARAMETRIZED})
    smaller = PARAMETRIZED.replace("(1, 1), (2, 4), (3, 9)", "(2, 4)")
    committed({"tests/test_table.py": smaller.replace("(2, 3)]", "]")}, "shrink")

    exit_code, out = check(capsys, "--from-ref", "HEAD~1", "--to-ref", "HEAD")

    assert exit_code == 1
    assert (
        "tests/test_table.py:7: tests/test_table.py::test_square lost 2 of 3 "
        "parametrize cases: (1, 1), (3, 9) (last seen in" in out
    )
    assert "tests/test_table.py::test_next lost 1 of 2 parametrize cases: (2, 3)" in out


def test_a_growing_or_generated_parametrize_table_passes(repo, capsys):
    committed({"tests/test_table.py": PARAMETRIZED})
    grown = PARAMETRIZED.replace("(3, 9)]", "(3, 9), (4, 16)]")
    committed(
        {"tests/test_table.py": grown.replace("make_cases()", "other_cases()")}, "grow"
    )

    assert check(capsys, "--from-ref", "HEAD~1", "--to-ref", "HEAD") == (0, "")


def test_a_renamed_argument_list_that_loses_cases_is_counted(repo, capsys):
    committed({"tests/test_table.py": PARAMETRIZED})
    renamed = PARAMETRIZED.replace('"value, expected", [(1, 1)', '"v, e", [(1, 1)')
    committed({"tests/test_table.py": renamed.replace(", (3, 9)]", "]")}, "shrink")

    exit_code, out = check(capsys, "--from-ref", "HEAD~1", "--to-ref", "HEAD")

    assert exit_code == 1
    assert "test_square lost 1 of 3 parametrize cases (last seen in" in out


def test_deleting_a_conftest_is_rejected_even_when_tests_grow(repo, capsys):
    committed({"tests/conftest.py": "import pytest\n", "tests/test_a.py": TWO_TESTS})
    git("rm", "--quiet", "tests/conftest.py")
    stage({"tests/test_a.py": TWO_TESTS + "\ndef test_three():\n    pass\n"})

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert "tests/conftest.py: tests/conftest.py deleted (last seen in" in out
    assert "its fixtures and hooks are gone" in out


def test_emptying_a_conftest_is_rejected_and_moving_it_passes(repo, capsys):
    committed({"tests/conftest.py": "import pytest\n", "conftest.py": "x = 1\n"})
    move("tests/conftest.py", "tests/unit/conftest.py")
    stage({"conftest.py": "\n"})

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert "conftest.py: conftest.py emptied (last seen in" in out
    assert "tests/conftest.py" not in out


def test_an_exemption_with_a_reason_lets_a_removal_through(repo, capsys):
    committed(
        {
            "tests/test_legacy.py": TWO_TESTS,
            "tests/test_api.py": TWO_TESTS,
            "pyproject.toml": """\
            [tool.testwarden.forbid-test-deletion]
            allow = [
                { test = "tests/test_legacy.py", reason = "legacy API removed in 2.0" },
                { test = "tests/test_api.py::test_two", reason = "duplicate of test_one" },
            ]
            """,
        }
    )
    git("rm", "--quiet", "tests/test_legacy.py")
    stage({"tests/test_api.py": "def test_one():\n    assert 1\n"})

    exit_code, out = check(capsys)

    assert exit_code == 0
    assert (
        "tests/test_legacy.py:1: exempt: tests/test_legacy.py::test_one removed: file "
        "deleted" in out
    )
    assert "reason: duplicate of test_one" in out
    assert "forbid-test-deletion: 3 exemption(s) used" in out


def test_an_exemption_without_a_reason_stops_the_hook(repo, capsys):
    committed({"pyproject.toml": """\
            [tool.testwarden.forbid-test-deletion]
            allow = [{ test = "tests/test_legacy.py", reason = " " }]
            """})

    exit_code, out = check(capsys)

    assert exit_code == 2
    assert (
        "pyproject.toml:2: [tool.testwarden.forbid-test-deletion] 'allow' must be"
        in out
    )


def test_a_test_file_that_stops_parsing_is_reported_with_its_line(repo, capsys):
    committed({"tests/test_a.py": TWO_TESTS})
    committed({"tests/test_a.py": "def test_one():\n    pass\n\ndef broken(:\n"}, "x")

    exit_code, out = check(capsys, "--from-ref", "HEAD~1", "--to-ref", "HEAD")

    assert exit_code == 1
    assert "tests/test_a.py:4: cannot parse this test file (" in out
    assert "its tests cannot be counted" in out
    assert "test_two" not in out


def test_a_test_file_that_starts_parsing_is_only_noted(repo, capsys):
    committed({"tests/test_a.py": "def test_one(:\n"})
    committed({"tests/test_a.py": "def test_one():\n    pass\n"}, "fix")

    exit_code, out = check(capsys, "--from-ref", "HEAD~1", "--to-ref", "HEAD")

    assert exit_code == 0
    assert "tests/test_a.py:1: note: did not parse before the change" in out


def test_odd_files_are_handled_without_a_traceback(repo, capsys):
    odd_name = "tests/test_odd\nname \udcff.py"
    committed(
        {
            "tests/data/blob.bin": b"\x00\x01\xff",
            "tests/test_binary.py": b"def test_x():\n    pass\n",
            odd_name: TWO_TESTS,
        }
    )
    os.symlink("test_binary.py", "tests/test_link.py")
    git(
        "update-index",
        "--add",
        "--cacheinfo",
        f"160000,{git('rev-parse', 'HEAD').strip()},tests/test_submodule",
    )
    add("tests/test_link.py")
    commit("links")
    git("rm", "--quiet", "--cached", "-r", "tests/data", "tests/test_link.py")
    git("rm", "--quiet", "--cached", "tests/test_submodule")
    write("tests/test_binary.py", b"\x00\x00 not python \xff")
    git("rm", "--quiet", "--cached", odd_name)
    add("tests/test_binary.py")

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert "tests/test_binary.py: cannot parse this test file (index)" in out
    assert "tests/test_odd\\nname \\\\xff.py:1: tests/test_odd\\nname" in out
    assert "test_link" not in out and "test_submodule" not in out
    assert "blob.bin" not in out


def test_the_first_commit_passes(repo, capsys):
    write("tests/test_a.py", TWO_TESTS)
    add(".")

    assert check(capsys) == (0, "")


def test_range_mode_reads_pre_commits_variables(repo, capsys, monkeypatch):
    committed({"tests/test_a.py": TWO_TESTS})
    base = git("rev-parse", "HEAD").strip()
    git("rm", "--quiet", "tests/test_a.py")
    head = commit("drop")
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", base)
    monkeypatch.setenv("PRE_COMMIT_TO_REF", head)

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert f"{base[:12]}..{head[:12]} removes tests" in out


def test_bad_arguments_exit_2_with_a_message(repo, capsys, tmp_path, monkeypatch):
    assert check(capsys, "--to-ref", "HEAD")[0] == 2
    exit_code, out = check(capsys, "--from-ref", "no-such-ref")
    assert exit_code == 2 and "cannot find the revision 'no-such-ref'" in out
    monkeypatch.chdir(tmp_path)
    exit_code, out = check(capsys)
    assert exit_code == 2 and "not inside a git repository" in out


def test_all_files_mode_checks_that_test_files_parse(repo, capsys):
    committed({"tests/test_a.py": TWO_TESTS, "tests/test_b.py": "def test_(:\n"})

    exit_code, out = check(capsys, "--all-files")

    assert exit_code == 1
    assert "tests/test_b.py:1: cannot parse this test file" in out
    assert (
        "--all-files has no before side, so no test can be missing; checked that "
        "the 1 test files parse" in out
    )


@pytest.mark.parametrize("staged", [True, False], ids=["staged", "range"])
def test_a_test_still_defined_identically_elsewhere_is_not_lost(repo, capsys, staged):
    committed({"tests/test_a.py": TWO_TESTS, "tests/test_copy.py": TWO_TESTS})
    write("tests/test_a.py", "def test_one():\n    assert 1\n")
    add(".")
    argv = [] if staged else ["--from-ref", "HEAD~1", "--to-ref", "HEAD"]
    if not staged:
        commit("drop the duplicate")

    exit_code, out = check(capsys, *argv)

    assert exit_code == 0
    assert (
        "tests/test_a.py::test_two removed (last seen in" in out
        and "not lost: tests/test_copy.py still defines it, identically" in out
    )


def test_a_same_named_test_with_another_body_elsewhere_does_not_count(repo, capsys):
    committed(
        {
            "tests/test_a.py": TWO_TESTS,
            "tests/test_other.py": "def test_two():\n    assert 'other'\n",
            "tests/test_broken.py": "def test_(:\n",
        }
    )
    committed({"tests/test_a.py": "def test_one():\n    assert 1\n"}, "drop")

    exit_code, out = check(capsys, "--from-ref", "HEAD~1")

    assert exit_code == 1
    assert "tests/test_a.py::test_two removed" in out


def test_inherited_tests_are_lost_with_their_base(repo, capsys):
    committed({"tests/test_inherit.py": """\
            class Base:
                def test_shared(self):
                    pass

            class TestSqlite(Base):
                pass

            class TestPostgres(Base):
                def test_own(self):
                    pass
            """})
    committed(
        {"tests/test_inherit.py": """\
            class Base:
                pass

            class TestSqlite(Base):
                pass

            class TestPostgres(Base):
                def test_own(self):
                    pass
            """},
        "drop",
    )

    exit_code, out = check(capsys, "--from-ref", "HEAD~1")

    assert exit_code == 1
    assert "tests/test_inherit.py::TestSqlite::test_shared removed" in out
    assert "tests/test_inherit.py::TestPostgres::test_shared removed" in out


def test_pre_push_through_real_pre_commit(repo, project_root, tmp_path):
    write(
        ".pre-commit-config.yaml",
        textwrap.dedent(f"""\
            repos:
              - repo: local
                hooks:
                  - id: forbid-test-deletion
                    name: forbid test deletion
                    entry: {sys.executable} -m hooks forbid-test-deletion
                    language: system
                    pass_filenames: false
                    always_run: true
                    stages: [pre-push]
            """),
    )
    base = committed({"tests/test_a.py": TWO_TESTS})
    git("rm", "--quiet", "tests/test_a.py")
    head = commit("drop the tests")
    environment = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "PYTHONPATH": str(project_root),
    }

    def pre_push(from_ref: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "run", "--hook-stage", "pre-push"]
            + ["--from-ref", from_ref, "--to-ref", head],
            capture_output=True,
            text=True,
            env=environment,
        )

    blocked = pre_push(base)
    passed = pre_push(head)

    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert "tests/test_a.py::test_one removed: file deleted" in blocked.stdout
    assert passed.returncode == 0, passed.stdout + passed.stderr


def test_the_allow_example_names_the_removed_test_and_works(repo, capsys):
    committed({"tests/test_math.py": TWO_TESTS})
    stage({"tests/test_math.py": TWO_TESTS.split("\n\n\n")[0] + "\n"})
    exit_code, out = check(capsys)
    assert exit_code == 1
    [example] = [line.strip() for line in out.splitlines() if "allow = " in line]
    assert example == (
        'allow = [{ test = "tests/test_math.py::test_two", reason = "why it goes" }]'
    )

    write("pyproject.toml", f"[tool.testwarden.forbid-test-deletion]\n{example}\n")
    add("pyproject.toml")

    assert check(capsys)[0] == 0


PYTEST_INI = "[pytest]\ntestpaths = tests\npython_files = test_*.py\n"


def test_a_rename_off_python_files_loses_its_tests(repo, capsys):
    committed({"pytest.ini": PYTEST_INI, "tests/test_basic.py": TWO_TESTS})
    move("tests/test_basic.py", "tests/legacy_basic.py")

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert (
        "tests/test_basic.py:1: tests/test_basic.py::test_one removed: file moved to "
        "tests/legacy_basic.py, which is not a test file: tests/legacy_basic.py does "
        "not match python_files = test_*.py (pytest.ini [pytest]); to keep its tests, "
        "name it to match python_files" in out
    )


def test_a_rename_the_after_side_configuration_collects_passes(repo, capsys):
    committed({"pytest.ini": PYTEST_INI, "tests/test_basic.py": TWO_TESTS})
    stage({"pytest.ini": PYTEST_INI.replace("test_*.py", "test_*.py check_*.py")})
    move("tests/test_basic.py", "tests/check_basic.py")

    assert check(capsys) == (0, "")


def test_a_move_out_of_testpaths_loses_its_tests(repo, capsys):
    committed(
        {
            "pyproject.toml": '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n',
            "tests/test_basic.py": TWO_TESTS,
            # With no tests/ left, pytest would collect from the root instead.
            "tests/test_kept.py": "def test_kept():\n    pass\n",
        }
    )
    move("tests/test_basic.py", "attic/test_basic.py")

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert (
        "tests/test_basic.py::test_two removed: file moved to attic/test_basic.py, "
        "which is not a test file: attic/test_basic.py is outside testpaths = tests "
        "(pyproject.toml [tool.pytest.ini_options]); to keep its tests, move it under "
        "testpaths" in out
    )


def test_a_new_collect_ignore_entry_loses_the_tests_of_an_unchanged_file(repo, capsys):
    committed(
        {
            "tests/test_basic.py": TWO_TESTS,
            "tests/test_other.py": "def test_other():\n    pass\n",
            "tests/conftest.py": "collect_ignore = []\n",
        }
    )
    stage({"tests/conftest.py": 'collect_ignore = ["test_basic.py"]\n'})

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert (
        "tests/test_basic.py:1: tests/test_basic.py::test_one removed: file no longer "
        "collected: tests/test_basic.py is excluded by collect_ignore in "
        "tests/conftest.py:1; to keep its tests, remove its entry from collect_ignore "
        "in tests/conftest.py:1" in out
    )
    assert "tests/test_other.py" not in out


def test_a_configuration_change_that_stops_collection_is_caught(repo, capsys):
    committed({"tox.ini": "[pytest]\n", "tests/test_basic.py": TWO_TESTS})
    stage({"tox.ini": "[pytest]\nnorecursedirs = tests\n"})

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert "tests/test_basic.py::test_one removed: file no longer collected: " in out
    assert "tests/ matches 'tests' of norecursedirs = tests (tox.ini [pytest])" in out


def test_dropping_a_collect_ignore_entry_or_editing_an_ignored_file_passes(
    repo, capsys
):
    committed(
        {
            "tests/test_basic.py": TWO_TESTS,
            "tests/conftest.py": 'collect_ignore = ["test_basic.py", "test_x.py"]\n',
        }
    )
    stage({"tests/conftest.py": 'collect_ignore = ["test_basic.py"]\n'})

    assert check(capsys) == (0, "")


def test_editing_a_file_and_the_configuration_that_stops_collecting_it(repo, capsys):
    committed({"setup.cfg": "[tool:pytest]\n", "tests/test_basic.py": TWO_TESTS})
    stage(
        {
            "setup.cfg": "[tool:pytest]\npython_files = check_*.py\n",
            "tests/test_basic.py": TWO_TESTS + "\n# edited\n",
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert (
        "tests/test_basic.py::test_two removed: file no longer collected: "
        "tests/test_basic.py does not match python_files = check_*.py "
        "(setup.cfg [tool:pytest])" in out
    )


def test_a_new_computed_collect_ignore_is_reported(repo, capsys):
    committed({"tests/test_basic.py": TWO_TESTS, "tests/conftest.py": ""})
    stage({"tests/conftest.py": "import os\n\ncollect_ignore = os.listdir('.')\n"})

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert (
        "tests/conftest.py:3: collect_ignore is computed (os.listdir('.')): which test "
        "files it stops pytest collecting cannot be read; write it as a list of strings"
        in out
    )
    committed({}, "accept it")
    stage({"tests/test_basic.py": TWO_TESTS + "\n# edited\n"})
    assert check(capsys) == (0, "")


def test_test_files_when_set_replace_pytest_rules(repo, capsys):
    committed(
        {
            "pyproject.toml": '[tool.testwarden]\ntest-files = ["tests/**"]\n',
            "pytest.ini": PYTEST_INI,
            "tests/test_basic.py": TWO_TESTS,
        }
    )
    move("tests/test_basic.py", "tests/legacy_basic.py")

    assert check(capsys) == (0, "")


def test_ignoring_a_file_that_never_parsed_loses_nothing(repo, capsys):
    committed({"tests/test_broken.py": "def test_(:\n", "tests/conftest.py": ""})
    stage({"tests/conftest.py": 'collect_ignore = ["test_broken.py"]\n'})

    assert check(capsys) == (0, "")


def test_a_conftest_moved_where_pytest_does_not_load_it_is_rejected(repo, capsys):
    committed(
        {
            "pytest.ini": PYTEST_INI,
            "tests/conftest.py": "import pytest\n",
            "tests/test_basic.py": TWO_TESTS,
        }
    )
    move("tests/conftest.py", "attic/conftest.py")

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert (
        "tests/conftest.py: tests/conftest.py moved to attic/conftest.py, which is not "
        "a test file (last seen in" in out
    )
