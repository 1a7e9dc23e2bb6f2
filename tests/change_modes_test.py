"""Which change a hook checks, told by the file names pre-commit passes.

Unit tests drive git.change_set_from_arguments; the end-to-end tests run the
guard hooks and tox-changed-tests through real pre-commit in every way a user
calls them: a commit, `pre-commit run --all-files`, `--files`, a push range.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hooks import git as gitlayer
from tests.helpers import add, commit, git, write


def choose(*argv: str) -> gitlayer.ChangeSet:
    import argparse

    parser = argparse.ArgumentParser()
    gitlayer.add_change_set_arguments(parser)
    return gitlayer.change_set_from_arguments(parser.parse_args(argv))


def paths(change_set: gitlayer.ChangeSet) -> list[str]:
    return [change.path for change in change_set.changes]


@pytest.fixture
def tree(repo) -> Path:
    for name in ("a.py", "b.py", "c.py", "d.py"):
        write(f"pkg/{name}", "x = 1\n")
    write("README.md", "read me\n")
    add(".")
    commit("tree")
    return repo


def test_no_names_is_the_staged_change(tree):
    write("pkg/a.py", "x = 2\n")
    add("pkg/a.py")

    change_set = choose()

    assert change_set.mode == gitlayer.STAGED
    assert paths(change_set) == ["pkg/a.py"]
    assert "no file names passed" in change_set.mode_line("hook")


def test_staged_names_are_a_commit(tree):
    write("pkg/a.py", "x = 2\n")
    write("pkg/new.py", "y = 1\n")
    add("pkg/a.py", "pkg/new.py")

    change_set = choose("pkg/new.py")

    assert change_set.mode == gitlayer.STAGED
    assert paths(change_set) == ["pkg/a.py", "pkg/new.py"]
    assert change_set.why == "pre-commit passed staged files only: a commit"


def test_every_tracked_file_is_all_files(tree):
    change_set = choose("README.md", "pkg/a.py", "pkg/b.py", "pkg/c.py", "pkg/d.py")

    assert change_set.mode == gitlayer.ALL_FILES
    assert len(paths(change_set)) == 5
    assert change_set.why == "pre-commit passed every tracked file: --all-files"


def test_a_batch_that_starts_or_ends_the_list_is_all_files(tree):
    first = choose("README.md", "pkg/a.py")
    last = choose("pkg/c.py", "pkg/d.py")

    assert first.mode == last.mode == gitlayer.ALL_FILES
    assert paths(last) == ["pkg/c.py", "pkg/d.py"]
    assert "tracked files 4 to 5 of 5: one batch of --all-files" in last.why


def test_a_batch_that_fills_a_command_line_is_all_files(repo):
    names = [f"pkg/{'m' * 60}{number:05}.py" for number in range(2400)]
    for name in names:
        write(name, "")
    add(".")
    commit("many")

    change_set = choose(*names[100:2300])

    assert change_set.mode == gitlayer.ALL_FILES
    assert len(change_set.changes) == 2200


def test_other_names_are_named_files(tree):
    change_set = choose("pkg/b.py", "pkg/c.py")

    assert change_set.mode == gitlayer.FILES
    assert paths(change_set) == ["pkg/b.py", "pkg/c.py"]
    assert not change_set.has_before_side
    assert change_set.mode_line("forbid-mock-data") == (
        "forbid-mock-data: checking 2 named file(s) "
        "(pre-commit passed files outside the staged change: --files)"
    )


def test_names_out_of_git_order_are_named_files(tree):
    assert choose("pkg/b.py", "pkg/a.py", "README.md").mode == gitlayer.FILES


def test_untracked_names_are_said_and_left_out(tree):
    write("pkg/loose.py", "z = 1\n")

    change_set = choose("pkg/b.py", "pkg/loose.py")

    assert paths(change_set) == ["pkg/b.py"]
    assert "1 not tracked by git, not checked: pkg/loose.py" in change_set.why


def test_names_relative_to_a_subdirectory(tree, monkeypatch):
    monkeypatch.chdir(tree / "pkg")

    change_set = choose("b.py", "../README.md", "../../outside.py")

    assert paths(change_set) == ["README.md", "pkg/b.py"]


def test_a_range_wins_over_names(tree):
    base = git("rev-parse", "HEAD").strip()
    write("pkg/a.py", "x = 3\n")
    add("pkg/a.py")
    commit("change a")

    change_set = choose("--from-ref", base, "pkg/b.py")

    assert change_set.mode == gitlayer.RANGE
    assert paths(change_set) == ["pkg/a.py"]
    assert change_set.why == "--from-ref"


def test_working_tree_id_sees_unstaged_and_untracked_files(tree):
    clean = gitlayer.working_tree_id()
    index_before = Path(".git/index").read_bytes()

    write("pkg/a.py", "x = 9\n")
    edited = gitlayer.working_tree_id()
    write("pkg/untracked.py", "")
    with_untracked = gitlayer.working_tree_id()

    assert len({clean, edited, with_untracked}) == 3
    assert Path(".git/index").read_bytes() == index_before
    assert git("status", "--porcelain") == " M pkg/a.py\n?? pkg/untracked.py\n"


# Through real pre-commit, with the hooks as this repository's manifest
# declares them (language: system, from this interpreter).

MOCKING_TEST = (
    "from unittest import mock\n\n\n"
    "def test_fetch():\n"
    "    with mock.patch('pkg.a.x', 2):\n"
    "        assert True\n"
)
GOOD_TEST = "from pkg.a import x\n\n\ndef test_x():\n    assert x == 1\n"


def manifest_config(project_root: Path, hook_ids: list[str]) -> str:
    import yaml

    manifest = yaml.safe_load((project_root / ".pre-commit-hooks.yaml").read_text())
    hooks = []
    for hook in manifest:
        if hook["id"] not in hook_ids:
            continue
        local = {**hook, "language": "system"}
        local["entry"] = f"{sys.executable} -m hooks {hook['id']}"
        local.pop("minimum_pre_commit_version", None)
        hooks.append(local)
    return yaml.safe_dump({"repos": [{"repo": "local", "hooks": hooks}]})


def pre_commit(
    project_root: Path, home: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "PRE_COMMIT_HOME": str(home),
            "PYTHONPATH": str(project_root),
        },
    )


@pytest.fixture
def guarded(tree, project_root, tmp_path) -> Path:
    write(
        ".pre-commit-config.yaml",
        manifest_config(
            project_root,
            [
                "forbid-mock-data",
                "forbid-test-deletion",
                "forbid-skipped-tests",
                "protect-guardrails",
            ],
        ),
    )
    write("tests/test_a.py", GOOD_TEST)
    add(".")
    commit("guarded")
    return tmp_path / "pre-commit-home"


def test_all_files_finds_mock_data_committed_without_hooks(guarded, project_root):
    write("tests/test_fetch.py", MOCKING_TEST)
    add(".")
    commit("slipped past with --no-verify")

    everything = pre_commit(project_root, guarded, "run", "--all-files")
    named = pre_commit(project_root, guarded, "run", "--files", "tests/test_fetch.py")
    other = pre_commit(project_root, guarded, "run", "--files", "pkg/a.py")

    assert everything.returncode == 1, everything.stdout
    assert "tests/test_fetch.py:1:" in everything.stdout
    assert (
        "forbid-mock-data: checking all tracked files "
        "(pre-commit passed every tracked file: --all-files)"
    ) in everything.stdout
    assert named.returncode == 1, named.stdout
    assert "tests/test_fetch.py:1:" in named.stdout
    assert other.returncode == 0, other.stdout + other.stderr


def test_a_commit_checks_the_staged_change(guarded, project_root):
    pre_commit(project_root, guarded, "install")
    write("tests/test_fetch.py", MOCKING_TEST)
    add(".")

    refused = subprocess.run(
        ["git", "commit", "-m", "mocks"],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "PRE_COMMIT_HOME": str(guarded),
            "PYTHONPATH": str(project_root),
        },
    )

    output = refused.stdout + refused.stderr  # git shows hook output on stderr
    assert refused.returncode == 1, output
    assert "tests/test_fetch.py:1:" in output
    assert "pre-commit passed staged files only: a commit" in output


def test_a_push_range_checks_the_range(guarded, project_root):
    base = git("rev-parse", "HEAD").strip()
    git("rm", "--quiet", "tests/test_a.py")
    head = commit("drop the test")

    pushed = pre_commit(
        project_root,
        guarded,
        "run",
        "--hook-stage",
        "pre-push",
        "--from-ref",
        base,
        "--to-ref",
        head,
    )

    assert pushed.returncode == 1, pushed.stdout
    assert "tests/test_a.py::test_x removed: file deleted" in pushed.stdout
    assert "(PRE_COMMIT_FROM_REF: a push or a range)" in pushed.stdout


TOX_INI = textwrap.dedent("""\
    [tox]
    env_list = py
    skipsdist = true

    [testenv]
    deps = pytest
    set_env = PYTHONPATH = {toxinidir}
    commands = pytest -q -p no:cacheprovider {posargs}
    """)
FAILING_TEST = "def test_broken():\n    assert 1 == 2\n"


def test_all_files_runs_the_whole_suite_once_per_tree(
    tree, project_root, tmp_path, use_tox
):
    write("tox.ini", TOX_INI)
    write(
        ".pre-commit-config.yaml", manifest_config(project_root, ["tox-changed-tests"])
    )
    write("tests/test_a.py", GOOD_TEST)
    add(".")
    commit("suite")
    home = tmp_path / "pre-commit-home"

    # --verbose: pre-commit shows a passing hook's output only then.
    first = pre_commit(project_root, home, "run", "--all-files", "--verbose")
    again = pre_commit(project_root, home, "run", "--all-files", "--verbose")
    write("tests/test_broken.py", FAILING_TEST)
    add(".")
    commit("a failing test slipped in")
    broken = pre_commit(project_root, home, "run", "--all-files")
    named = pre_commit(project_root, home, "run", "--verbose", "--files", "pkg/a.py")

    assert first.returncode == 0, first.stdout
    assert "running the whole suite: every tracked file is checked" in first.stdout
    assert "1 passed" in first.stdout
    assert again.returncode == 0, again.stdout
    assert (
        "not run again: the whole suite passed on this tree in tox-changed-tests"
        in again.stdout
    )
    assert "1 passed" not in again.stdout
    assert broken.returncode == 1, broken.stdout
    assert "1 failed" in broken.stdout
    assert named.returncode == 0, named.stdout
    assert "tests/test_a.py: imports pkg/a.py" in named.stdout


COVERAGE_TOX_INI = TOX_INI.replace(
    "deps = pytest", "deps = pytest\n    coverage"
).replace("commands = pytest", "commands = coverage run -m pytest")


def test_coverage_gate_reuses_the_run_tox_changed_tests_made(
    tree, project_root, tmp_path, use_tox
):
    write("tox.ini", COVERAGE_TOX_INI)
    write(
        ".pre-commit-config.yaml",
        manifest_config(project_root, ["tox-changed-tests", "coverage-gate"]),
    )
    write(
        "pyproject.toml",
        "[tool.coverage.run]\nsource = ['pkg']\n"
        "[tool.testwarden.coverage-gate]\nfail-under = 25\n",  # pkg/a.py of 4
    )
    write("tests/test_a.py", GOOD_TEST)
    add(".")
    commit("suite")
    home = tmp_path / "pre-commit-home"

    passing = pre_commit(project_root, home, "run", "--all-files", "--verbose")
    write("tests/test_broken.py", FAILING_TEST)
    add(".")
    commit("a failing test slipped in")
    failing = pre_commit(project_root, home, "run", "--all-files")
    failing_again = pre_commit(project_root, home, "run", "--all-files")

    assert passing.returncode == 0, passing.stdout
    assert passing.stdout.count("1 passed") == 1, passing.stdout
    assert (
        "coverage-gate: measured without running again: the whole suite passed on "
        "this tree in tox-changed-tests"
    ) in passing.stdout
    assert "total coverage: 25.00%" in passing.stdout
    assert failing.returncode == 1, failing.stdout
    assert failing.stdout.count("1 failed") == 1, failing.stdout
    assert (
        "coverage-gate: not run again: the whole suite failed on this tree in "
        "tox-changed-tests"
    ) in failing.stdout
    # A new pre-commit run tries the failing tests again.
    assert failing_again.stdout.count("1 failed") == 1, failing_again.stdout


def test_coverage_gate_annotates_uncovered_lines_for_github(
    tree, project_root, tmp_path, use_tox
):
    import yaml

    write("tox.ini", COVERAGE_TOX_INI)
    config = yaml.safe_load(manifest_config(project_root, ["coverage-gate"]))
    config["repos"][0]["hooks"][0]["args"] = ["--format", "github"]
    write(".pre-commit-config.yaml", yaml.safe_dump(config))
    write("pyproject.toml", "[tool.coverage.run]\nsource = ['pkg']\n")
    write("tests/test_a.py", GOOD_TEST)
    add(".")
    commit("suite")
    write("pkg/a.py", "x = 1\n\n\ndef double(n):\n    return 2 * n\n")
    add("pkg/a.py")

    refused = pre_commit(project_root, tmp_path / "pre-commit-home", "run")

    assert refused.returncode == 1, refused.stdout
    assert (
        "::error file=pkg/a.py,line=5,title=coverage-gate%3A uncovered-lines::"
        "changed line 5 is not covered;"
    ) in refused.stdout
