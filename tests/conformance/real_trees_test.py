"""The guard hooks on each project's unmodified tip, through `pre-commit run
--all-files`: no false blocks on real trees. click and attrs use
unittest.mock and monkeypatch stubs in their own tests; forbid-mock-data
finds exactly those, and the documented adoption (a baseline, committed with
its exemption) makes the whole tree pass."""

from __future__ import annotations

import sys

import pytest

from tests.conformance.conftest import GUARD_HOOKS, HOOKS_BY_PROJECT, all_files_line
from tests.helpers import add

# The first findings forbid-mock-data prints for each tip, and how many.
EXISTING_MOCK_DATA = {
    "click": (
        25,
        "tests/test_arguments.py:2: mock-object: imports `unittest.mock`",
    ),
    "attrs": (
        3,
        "tests/test_slots.py:11: mock-object: imports `unittest.mock`",
    ),
    # Its tests answer requests with MockTransport handlers (issue 15).
    "httpx": (
        30,
        "tests/client/test_async_client.py:94: hand-written-double: function "
        "`hello_world` answers requests with canned responses in place of a server",
    ),
}
BASELINE_EXEMPTION = """
[tool.testwarden.protect-guardrails]
allow = [{ guardrail = "mock-data.baseline", reason = "adopting testwarden: the mock data this project has today" }]
"""


def other_hooks(name: str) -> tuple[str, ...]:
    return tuple(hook for hook in HOOKS_BY_PROJECT[name] if hook not in GUARD_HOOKS)


@pytest.mark.parametrize("name", sorted(EXISTING_MOCK_DATA))
def test_tip_with_mock_data_is_adopted_with_a_baseline(consumer_factory, name):
    project = consumer_factory(name)
    skip = other_hooks(name)
    finding_count, first_finding = EXISTING_MOCK_DATA[name]

    tip = project.pre_commit("--all-files", skip=skip)

    assert tip.returncode == 1, tip.text
    assert tip.verdict("forbid-mock-data") == "Failed", tip.text
    assert first_finding in tip.output("forbid-mock-data"), tip.text
    assert (
        f"forbid-mock-data: {finding_count} finding(s) in all tracked files"
        in tip.output("forbid-mock-data")
    ), tip.text
    for hook_id in set(GUARD_HOOKS) - {"forbid-mock-data"}:
        assert tip.verdict(hook_id) == "Passed", tip.text
        assert all_files_line(hook_id) in tip.output(hook_id), tip.text

    recorded = project.run([sys.executable, "-m", "hooks", "baseline"], skip=())
    assert recorded.returncode == 0, recorded.text
    with open("pyproject.toml", "a") as pyproject:
        pyproject.write(BASELINE_EXEMPTION)
    add(".testwarden-mock-data-baseline.json", "pyproject.toml")
    adopted = project.commit("record the existing mock data", skip=skip)

    assert adopted.returncode == 0, adopted.text
    for hook_id in GUARD_HOOKS:
        assert adopted.verdict(hook_id) == "Passed", adopted.text

    after = project.pre_commit("--all-files", skip=skip)

    assert after.returncode == 0, after.text
    for hook_id in GUARD_HOOKS:
        assert after.verdict(hook_id) == "Passed", after.text
