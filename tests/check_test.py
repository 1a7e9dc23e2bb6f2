"""`testwarden check` over real commit ranges, in every output format."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from hooks import check, cli, config
from hooks import git as gitlayer
from tests.helpers import add, commit, git, write

TESTS = """\
import pytest


def test_one():
    assert 1


def test_two():
    assert 2
"""


def history() -> dict[str, str]:
    """base -> clean -> deletes test_two -> skips test_one."""
    write("tests/test_core.py", TESTS)
    add(".")
    commits = {"base": commit("base")}
    write("README.md", "# project\n")
    add("README.md")
    commits["clean"] = commit("docs")
    write("tests/test_core.py", TESTS.split("\n\n\ndef test_two")[0] + "\n")
    add(".")
    commits["deletion"] = commit("drop a test")
    write(
        "tests/test_core.py",
        TESTS.split("\n\n\ndef test_two")[0].replace(
            "def test_one", "@pytest.mark.skip(reason='later')\ndef test_one"
        )
        + "\n",
    )
    add(".")
    commits["skip"] = commit("skip a test")
    return commits


def test_whole_range_as_text(repo, capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    commits = history()

    assert cli.main(["check", "--from-ref", commits["base"]]) == 1

    output = capsys.readouterr().out
    assert "forbid-test-deletion\n" in output
    assert "tests/test_core.py::test_two removed" in output
    assert "forbid-skipped-tests\n" in output
    assert "tests/test_core.py::test_one is newly switched off" in output
    assert output.rstrip().endswith("testwarden check: 2 finding(s)")


def test_per_commit_names_the_offending_commits(repo, capsys):
    commits = history()

    assert (
        check.main(["--from-ref", commits["base"], "--per-commit", "--format", "json"])
        == 1
    )

    findings = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [
        (finding["hook"], finding["rule"], finding["commit"]) for finding in findings
    ] == [
        ("forbid-test-deletion", "removed-test", commits["deletion"]),
        ("forbid-skipped-tests", "new-skip", commits["skip"]),
    ]
    assert findings[0]["path"] == "tests/test_core.py"
    assert findings[1]["line"] == 4
    assert "test_one is newly switched off" in findings[1]["message"]


def test_github_annotations_point_at_file_and_line(repo, capsys):
    commits = history()

    assert check.main(["--from-ref", commits["deletion"], "--format", "github"]) == 1

    assert capsys.readouterr().out == (
        "::error file=tests/test_core.py,line=4,title=forbid-skipped-tests%3A new-skip::"
        "tests/test_core.py::test_one is newly switched off by "
        "@pytest.mark.skip(reason='later')\n"
    )


def test_clean_range_passes(repo, capsys):
    commits = history()

    assert (
        check.main(["--from-ref", commits["base"], "--to-ref", commits["clean"]]) == 0
    )

    assert capsys.readouterr().out == "testwarden check: nothing blocks\n"


def test_colour_on_a_terminal_only(repo):
    commits = history()
    environment = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    completed = subprocess.run(
        [sys.executable, "-m", "hooks", "check", "--from-ref", commits["base"]],
        capture_output=True,
        text=True,
        env=environment,
    )

    assert completed.returncode == 1
    assert "\033[" not in completed.stdout  # a pipe is not a terminal


def test_first_commit_and_unknown_refs(repo, capsys):
    commits = history()

    assert check.main(["--from-ref", "nope"]) == 2
    assert "cannot find the revision 'nope'" in capsys.readouterr().err

    root = commits["base"]
    git("checkout", "--quiet", "--orphan", "fresh")
    assert (
        check.main(["--from-ref", commits["skip"], "--to-ref", root, "--per-commit"])
        == 0
    )


def test_text_report_in_colour(repo, capsys):
    commits = history()
    reports = check.guard_reports(
        [(commits["deletion"], gitlayer.commit_changes(commits["deletion"]))],
        config.load(repo),
    )

    check.print_text(reports, colour=True)

    output = capsys.readouterr().out
    assert (
        f"\033[1;31mforbid-test-deletion in {commits['deletion'][:12]}\033[0m\n"
        in output
    )
    assert output.endswith("\033[2mtestwarden check: 1 finding(s)\033[0m\n")
