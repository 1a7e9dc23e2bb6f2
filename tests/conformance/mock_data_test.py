"""forbid-mock-data through real pre-commit on httpx (flat layout, no tox.ini)."""

from __future__ import annotations

from tests.conformance.conftest import GUARD_HOOKS, all_files_line, named_files_line
from tests.helpers import add, commit, write

MOCKED_TEST = """\
from unittest.mock import patch

import httpx


def test_get_is_patched():
    with patch.object(httpx, "get", return_value="stub"):
        assert httpx.get("https://example.org") == "stub"
"""
REAL_TEST = """\
import httpx


def test_url_keeps_its_host():
    assert httpx.URL("https://example.org/path").host == "example.org"
"""


def test_a_mock_committed_without_verification_is_found_by_every_way_of_asking(
    consumer_factory,
):
    httpx = consumer_factory("httpx")
    write("tests/test_mocked.py", MOCKED_TEST)
    add("tests/test_mocked.py")
    commit("a mock, past the hooks")

    every_file = httpx.pre_commit("--all-files", "forbid-mock-data")
    named_file = httpx.pre_commit(
        "--files", "tests/test_mocked.py", "tests/test_api.py", "forbid-mock-data"
    )

    for ran in (every_file, named_file):
        assert ran.returncode == 1, ran.text
        assert ran.verdict("forbid-mock-data") == "Failed", ran.text
        output = ran.output("forbid-mock-data")
        assert (
            "tests/test_mocked.py:1: mock-object: imports `unittest.mock.patch`"
            in output
        ), ran.text
        assert (
            "tests/test_mocked.py:7: mock-object: `patch.object(...)`" in output
        ), ran.text
    assert all_files_line("forbid-mock-data") in every_file.output(
        "forbid-mock-data"
    ), every_file.text
    assert named_files_line("forbid-mock-data", 2) in named_file.output(
        "forbid-mock-data"
    ), named_file.text
    assert "tests/test_api.py" not in named_file.output("forbid-mock-data")


def test_a_clean_commit_passes_every_hook(consumer_factory):
    httpx = consumer_factory("httpx")
    write("tests/test_real_url.py", REAL_TEST)
    add("tests/test_real_url.py")

    ran = httpx.commit("a real test")

    assert ran.returncode == 0, ran.text
    for hook_id in ("isort-black", *GUARD_HOOKS):
        assert ran.verdict(hook_id) == "Passed", ran.text
