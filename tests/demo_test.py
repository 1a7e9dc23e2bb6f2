"""`testwarden demo`, run for real: real git, real hooks, real tox."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hooks import cli, demo
from tests.helpers import commit, git, write

VERDICTS = [
    "isort-black: accepted (exit 0)",
    "tox-changed-tests: accepted (exit 0)",
    "coverage-gate: accepted (exit 0)",
    "forbid-test-deletion: accepted (exit 0)",
    "forbid-skipped-tests: accepted (exit 0)",
    "forbid-weakened-tests: accepted (exit 0)",
    "forbid-mock-data: accepted (exit 0)",
    "protect-guardrails: accepted (exit 0)",
    "isort-black: fixed (exit 1)",
    "forbid-test-deletion: rejected (exit 1)",
    "forbid-skipped-tests: rejected (exit 1)",
    "forbid-weakened-tests: rejected (exit 1)",
    "forbid-mock-data: rejected (exit 1)",
    "tox-changed-tests: rejected (exit 1)",
    "coverage-gate: rejected (exit 1)",
    "mutation-gate: rejected (exit 1)",
    "protect-guardrails: rejected (exit 1)",
]
TOX_VERDICTS = [verdict for verdict in VERDICTS if verdict.startswith(demo.TOX_HOOKS)]


@pytest.fixture
def current_repository(repo) -> tuple[Path, str]:
    """The user's repository the demo is started from, with one commit."""
    write("app.py", "VALUE = 1\n")
    git("add", "app.py")
    return repo, commit("app")


def run_demo(capsys, *args: str) -> tuple[int, str, Path]:
    """Run `testwarden demo ARGS`; its exit code, output and repository."""
    exit_code = cli.main(["demo", *args])
    output = capsys.readouterr().out
    first_line = output.splitlines()[0]
    repository = Path(
        first_line.removeprefix("testwarden demo: a throwaway git repository at ")
    )
    return exit_code, output, repository


def verdicts(output: str) -> list[str]:
    return re.findall(r"^  -> (.*)$", output, flags=re.MULTILINE)


def assert_untouched(repository: Path, head: str) -> None:
    status = subprocess.run(
        ["git", "status", "--porcelain", "--ignored"],
        cwd=repository,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert status == ""
    assert git("rev-parse", "HEAD").strip() == head


def test_the_demo_walks_through_every_step_and_keeps_the_repository(
    current_repository, capsys, request
):
    path, head = current_repository

    exit_code, output, kept = run_demo(capsys, "--keep")
    request.addfinalizer(lambda: shutil.rmtree(kept))

    assert exit_code == 0, output
    headings = re.findall(r"^\[\d+/10\] .*$", output, flags=re.MULTILINE)
    assert headings == [
        "[1/10] a clean commit",
        "[2/10] an unformatted file",
        "[3/10] a deleted test",
        "[4/10] a skipped test without a replacement",
        "[5/10] a test hollowed out",
        "[6/10] a fixture returning fabricated data",
        "[7/10] a change that breaks a test",
        "[8/10] new code without tests",
        "[9/10] a test that checks too little",
        "[10/10] a lowered coverage threshold",
    ]
    assert verdicts(output) == VERDICTS
    assert output.count("creating the tox environment") == 1
    assert "Fixing src/textstats/words.py\n" in output
    assert "+def average_length(text: str) -> float:\n" in output
    assert "tests/test_numbers.py::test_median_of_an_even_count removed" in output
    assert "FAILED tests/test_numbers.py::test_median_of_an_even_count" in output
    assert "src/textstats/words.py:35: changed lines 35-38 are not covered" in output
    assert (
        "src/textstats/words.py:35: mutant survived: `len(word) >= width` -> "
        "`len(word) > width` (ran 1 test: tests/test_words.py::test_a_long_word_is_long)"
    ) in output
    assert "WARNING" not in output
    assert output.endswith("testwarden demo: every hook behaved as shown\n")
    assert_untouched(path, head)

    assert f"the repository is kept at {kept}" in output
    log = git("-C", str(kept), "log", "--format=%s").splitlines()
    assert log == [
        "words: average_length()",
        "numbers: spread()",
        "textstats: the sample project",
    ]
    tracked = git("-C", str(kept), "ls-files").split()
    assert sorted(tracked) == sorted(
        str(sample.relative_to(demo.SAMPLE)).removesuffix(demo.SAMPLE_SUFFIX)
        for sample in demo.SAMPLE.rglob("*.sample")
    )
    assert git("-C", str(kept), "status", "--porcelain") == ""
    python_files = [name for name in tracked if name.endswith(".py")]
    for hook_command in (
        ["isort-black", "--check", *python_files],
        ["forbid-mock-data", "--all-files"],
    ):
        completed = subprocess.run(
            [sys.executable, "-m", "hooks", *hook_command],
            cwd=kept,
            capture_output=True,
            text=True,
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr


def test_skip_tox_runs_the_quick_steps_and_removes_the_repository(
    current_repository, capsys
):
    path, head = current_repository

    exit_code, output, removed = run_demo(capsys, "--skip-tox")

    assert exit_code == 0, output
    assert verdicts(output) == [
        verdict for verdict in VERDICTS if verdict not in TOX_VERDICTS
    ]
    assert "  skipped tox-changed-tests (--skip-tox)\n" in output
    assert "  skipped coverage-gate (--skip-tox)\n" in output
    assert "[7/10] a change that breaks a test\n  skipped (--skip-tox)\n" in output
    assert "[8/10] new code without tests\n  skipped (--skip-tox)\n" in output
    assert "[9/10] a test that checks too little\n  skipped (--skip-tox)\n" in output
    assert "creating the tox environment" not in output
    assert f"removed {removed} (--keep leaves it for you to explore)" in output
    assert not removed.exists()
    assert_untouched(path, head)


def test_git_hook_variables_do_not_lead_the_demo_into_the_current_repository(
    current_repository, capsys, monkeypatch, tmp_path
):
    """Started from a git hook, git's variables name the user's repository."""
    path, head = current_repository
    index_before = (path / ".git" / "index").read_bytes()
    monkeypatch.setenv("GIT_DIR", str(path / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(path))
    monkeypatch.setenv("GIT_INDEX_FILE", str(path / ".git" / "index"))
    monkeypatch.chdir(tmp_path)

    exit_code, output, _ = run_demo(capsys, "--skip-tox")

    assert exit_code == 0, output
    assert (path / ".git" / "index").read_bytes() == index_before
    monkeypatch.chdir(path)
    assert_untouched(path, head)


def test_a_hook_that_does_not_behave_as_shown_fails_the_demo(
    current_repository, capsys, monkeypatch
):
    # tox reads TOX_OVERRIDE from the environment: commands without {posargs}
    # make tox-changed-tests and coverage-gate refuse to run.
    monkeypatch.setenv("TOX_OVERRIDE", "testenv.commands=pytest tests")

    exit_code, output, _ = run_demo(capsys)

    assert exit_code == 1
    assert "  -> tox-changed-tests: could not run (exit 2)\n" in output
    assert (
        "  WARNING: tox-changed-tests should have accepted this change, "
        "but it could not run\n"
    ) in output
    assert "  WARNING: tox-changed-tests did not say '1 failed'\n" in output
    assert (
        "  WARNING: coverage-gate did not say "
        "'src/textstats/words.py:35: changed lines 35-38 are not covered'\n"
    ) in output
    assert output.endswith(
        "testwarden demo: 4 step(s) did not behave as shown: [1/10] a clean commit; "
        "[7/10] a change that breaks a test; [8/10] new code without tests; "
        "[9/10] a test that checks too little\n"
    )


def test_without_git_the_demo_stops_with_one_line(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))

    assert cli.main(["demo"]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert (
        captured.err == "testwarden: git is not installed or not on PATH; install git\n"
    )
