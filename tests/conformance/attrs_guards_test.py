"""forbid-test-deletion, forbid-skipped-tests and protect-guardrails through
real pre-commit on attrs: src layout, `collect_ignore` in its root conftest.py,
its coverage threshold in its CI workflow."""

from __future__ import annotations

from pathlib import Path

from tests.conformance.conftest import range_line, staged_line
from tests.helpers import add, commit, git

SKIPPED_TEST = "    def test_suffix_is_preserved(self):\n"


def replace_once(path: str, old: str, new: str) -> None:
    text = Path(path).read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{path}: {old!r} is not there exactly once"
    Path(path).write_text(text.replace(old, new), encoding="utf-8")


def test_a_commit_deleting_a_test_file_is_rejected(consumer_factory):
    attrs = consumer_factory("attrs")
    git("rm", "--quiet", "tests/test_version_info.py")

    ran = attrs.commit("drop the version info tests")

    assert ran.returncode == 1, ran.text
    assert ran.verdict("forbid-test-deletion") == "Failed", ran.text
    assert "tests/test_version_info.py" in ran.output("forbid-test-deletion")
    assert "forbid-test-deletion: the staged change removes tests" in ran.output(
        "forbid-test-deletion"
    ), ran.text
    assert staged_line("forbid-test-deletion") in ran.output("forbid-test-deletion")
    assert git("log", "--format=%s", "-1").strip() == "attrs sdist"


def test_a_pushed_skip_is_rejected_in_the_range(consumer_factory):
    attrs = consumer_factory("attrs")
    replace_once(
        "tests/test_version_info.py",
        SKIPPED_TEST,
        '    @pytest.mark.skip(reason="flaky")\n' + SKIPPED_TEST,
    )
    add("tests/test_version_info.py")
    commit("skip a test, past the hooks")

    ran = attrs.pre_commit(
        "--hook-stage", "pre-push", "--from-ref", "HEAD~1", "--to-ref", "HEAD"
    )

    assert ran.returncode == 1, ran.text
    assert ran.verdict("forbid-skipped-tests") == "Failed", ran.text
    output = ran.output("forbid-skipped-tests")
    assert (
        "tests/test_version_info.py:21: tests/test_version_info.py::TestVersionInfo"
        "::test_suffix_is_preserved is newly switched off by "
        "@pytest.mark.skip(reason='flaky')" in output
    ), ran.text
    tip, parent = git("rev-parse", "HEAD", "HEAD~1").split()
    assert range_line("forbid-skipped-tests", parent, tip) in output, ran.text
    for hook_id in ("forbid-test-deletion", "forbid-mock-data", "protect-guardrails"):
        assert ran.verdict(hook_id) == "Passed", ran.text


def test_a_commit_growing_collect_ignore_is_rejected(consumer_factory):
    attrs = consumer_factory("attrs")
    replace_once(
        "conftest.py",
        "collect_ignore = []\n",
        'collect_ignore = ["tests/test_funcs.py"]\n',
    )
    add("conftest.py")

    ran = attrs.commit("ignore the funcs tests")

    assert ran.returncode == 1, ran.text
    assert ran.verdict("forbid-skipped-tests") == "Failed", ran.text
    assert "conftest.py" in ran.output("forbid-skipped-tests"), ran.text
    assert "collect_ignore" in ran.output("forbid-skipped-tests"), ran.text


def test_a_commit_lowering_the_coverage_threshold_is_rejected(consumer_factory):
    attrs = consumer_factory("attrs")
    replace_once(
        ".github/workflows/ci.yml",
        "coverage report --fail-under=100",
        "coverage report --fail-under=90",
    )
    add(".github/workflows/ci.yml")

    ran = attrs.commit("relax the coverage gate")

    assert ran.returncode == 1, ran.text
    assert ran.verdict("protect-guardrails") == "Failed", ran.text
    output = ran.output("protect-guardrails")
    assert ".github/workflows/ci.yml:154:" in output, ran.text
    assert "100 -> 90" in output, ran.text
    assert "protect-guardrails: the staged change weakens 1 guardrail(s)" in output
    for hook_id in ("forbid-test-deletion", "forbid-skipped-tests", "forbid-mock-data"):
        assert ran.verdict(hook_id) == "Passed", ran.text
