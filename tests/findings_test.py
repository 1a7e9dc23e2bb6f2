"""The views of a HookReport, and `--format` on a guard hook over a real change."""

from __future__ import annotations

import io
import json

from hooks import forbid_test_deletion
from hooks.findings import Finding, HookReport, github_annotations
from tests.helpers import add, commit, write

TWO_TESTS = "def test_one():\n    assert 1\n\n\ndef test_two():\n    assert 2\n"


def test_a_finding_about_the_whole_change_is_told_by_the_hook():
    whole = Finding("coverage-gate", "tests-failed", "", None, "the tests failed")
    hook_report = HookReport("coverage-gate", [whole], fix="make them pass")
    text = io.StringIO()

    hook_report.print_text(text)

    assert text.getvalue() == (
        "coverage-gate: the tests failed\nTo fix: make them pass\n"
    )
    assert github_annotations([whole]) == (
        "::error title=coverage-gate%3A tests-failed::the tests failed\n"
    )


def test_a_file_finding_without_a_line_names_the_file_only():
    finding = Finding("coverage-gate", "not-measured", "a.py", None, "not measured")

    assert finding.location() == "a.py"
    assert github_annotations([finding]) == (
        "::error file=a.py,title=coverage-gate%3A not-measured::not measured\n"
    )


def deleted_test(repo) -> None:
    write("tests/test_core.py", TWO_TESTS)
    add(".")
    commit("tests")
    write("tests/test_core.py", TWO_TESTS.split("\n\n\n")[0] + "\n")
    add(".")


def test_a_guard_hook_prints_github_annotations(repo, capsys):
    deleted_test(repo)

    assert forbid_test_deletion.main(["--format", "github"]) == 1

    captured = capsys.readouterr()
    assert captured.out.startswith(
        "::error file=tests/test_core.py,line=5,"
        "title=forbid-test-deletion%3A removed-test::"
        "tests/test_core.py::test_two removed"
    )
    assert captured.out.count("::error ") == 1
    assert "forbid-test-deletion: checking the staged change" in captured.err


def test_a_guard_hook_prints_json_lines(repo, capsys):
    deleted_test(repo)

    assert forbid_test_deletion.main(["--format", "json"]) == 1

    [finding] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (finding["hook"], finding["rule"], finding["path"]) == (
        "forbid-test-deletion",
        "removed-test",
        "tests/test_core.py",
    )
