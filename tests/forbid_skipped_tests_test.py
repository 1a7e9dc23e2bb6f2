from __future__ import annotations

import pytest

from hooks import forbid_skipped_tests
from tests.helpers import add, commit, committed, git, stage, write

BASE = """\
import unittest

import pytest


def test_parse():
    assert parse("1") == 1


def test_render():
    assert render(1) == "1"


class TestClient:
    def test_get(self):
        assert get()
"""


def check(capsys, *argv: str) -> tuple[int, str]:
    exit_code = forbid_skipped_tests.main(list(argv))
    captured = capsys.readouterr()
    return exit_code, captured.out + captured.err


def test_exemption_words_inside_a_string_are_not_an_exemption(repo, capsys):
    committed({"tests/test_core.py": BASE})
    stage(
        {
            "tests/test_core.py": BASE.replace(
                "def test_parse",
                "@pytest.mark.skip(reason=\"# testwarden: allow-skip reason='sneaky'\")\n"
                "def test_parse",
            )
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert "test_core.py::test_parse is newly switched off" in out


def test_a_new_skip_marker_on_an_existing_test_is_rejected(repo, capsys):
    committed({"tests/test_core.py": BASE})
    stage(
        {
            "tests/test_core.py": BASE.replace(
                "def test_parse", '@pytest.mark.skip(reason="flaky")\ndef test_parse'
            )
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert (
        "tests/test_core.py:6: tests/test_core.py::test_parse is newly switched off "
        "by @pytest.mark.skip(reason='flaky')" in out
    )
    assert (
        "tests/test_core.py: 1 test case(s) switched off, 0 new unskipped test case(s) "
        "added in their place: add 1 more in this file or in a new test file" in out
    )
    assert "if you skip a test, you must create a replacement test in its place" in out
    assert "To fix:" in out and "# testwarden: allow-skip" in out


def test_a_skip_with_its_replacement_in_the_same_file_passes(repo, capsys):
    committed({"tests/test_core.py": BASE})
    stage(
        {
            "tests/test_core.py": BASE.replace(
                "def test_parse", "@pytest.mark.xfail\ndef test_parse"
            )
            + "\n\ndef test_parse_replacement():\n    assert parse('2') == 2\n"
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 0
    assert (
        "tests/test_core.py:6: note: tests/test_core.py::test_parse is newly switched "
        "off by @pytest.mark.xfail; new tests replace it" in out
    )
    assert (
        "tests/test_core.py: 1 test case(s) switched off, 1 new unskipped test case(s) "
        "added in their place: accepted, as the guideline asks" in out
    )


def test_a_replacement_can_live_in_a_new_test_file(repo, capsys):
    committed({"tests/test_core.py": BASE})
    stage(
        {
            "tests/test_core.py": BASE.replace(
                "def test_parse", "@unittest.skip('later')\ndef test_parse"
            ),
            "tests/test_parser.py": "def test_parse_again():\n    pass\n",
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 0
    assert "1 new unskipped test case(s) added in their place: accepted" in out


def test_a_new_test_that_is_itself_skipped_replaces_nothing(repo, capsys):
    committed({"tests/test_core.py": BASE})
    stage(
        {
            "tests/test_core.py": BASE.replace(
                "def test_parse", "@pytest.mark.skip\ndef test_parse"
            )
            + "\n\n@pytest.mark.skip\ndef test_parse_replacement():\n    pass\n",
            "tests/test_new.py": "import pytest\npytestmark = pytest.mark.xfail\n"
            "def test_new():\n    pass\n",
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert "1 test case(s) switched off, 0 new unskipped" in out


@pytest.mark.parametrize(
    "edit, line, marker",
    [
        (
            ("    assert parse", '    pytest.skip("slow")\n    assert parse'),
            7,
            "pytest.skip('slow')",
        ),
        (
            ("    assert parse", "    pytest.importorskip('yaml')\n    assert parse"),
            7,
            "pytest.importorskip('yaml')",
        ),
        (
            ("class TestClient:", "@unittest.skipIf(True, 'no')\nclass TestClient:"),
            14,
            "",
        ),
        (
            (
                "class TestClient:",
                "class TestClient:\n    def setUp(self):\n"
                "        self.skipTest('no server')\n",
            ),
            16,
            "self.skipTest('no server')",
        ),
        (
            (
                "class TestClient:",
                "class TestClient:\n    pytestmark = [pytest.mark.skipif(True, reason='x')]\n",
            ),
            15,
            "@pytest.mark.skipif(True, reason='x')",
        ),
        (
            ("    assert get()", "    raise unittest.SkipTest('later')"),
            16,
            "raise unittest.SkipTest('later')",
        ),
    ],
    ids=[
        "pytest.skip",
        "importorskip",
        "class decorator",
        "setUp",
        "pytestmark",
        "raise",
    ],
)
def test_every_way_of_skipping_is_recognised(repo, capsys, edit, line, marker):
    committed({"tests/test_core.py": BASE})
    stage({"tests/test_core.py": BASE.replace(*edit)})

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert f"tests/test_core.py:{line}: tests/test_core.py::" in out
    assert f"is newly switched off by {marker}" in out


def test_module_level_skips_switch_off_every_test(repo, capsys):
    committed({"tests/test_core.py": BASE})
    stage(
        {
            "tests/test_core.py": BASE.replace(
                "import pytest\n",
                "import pytest\nfrom unittest import skip as later\n\n"
                "yaml = pytest.importorskip('yaml')\n"
                "requires_db = pytest.mark.skipif(True, reason='no db')\n",
            ).replace("def test_render", "@later('x')\n@requires_db\ndef test_render")
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert out.count("pytest.importorskip('yaml')") == 1
    assert (
        "tests/test_core.py:6: pytest.importorskip('yaml') newly switches off 3 tests "
        "of tests/test_core.py: test_parse, test_render, TestClient::test_get\n" in out
    )
    assert "test_render is newly switched off by @later('x')" in out
    assert "test_render is newly switched off by @requires_db" in out
    assert "tests/test_core.py: 5 test case(s) switched off" in out


def test_a_module_pytestmark_is_one_finding_naming_how_many_tests(repo, capsys):
    many = "import pytest\n\n" + "".join(
        f"\ndef test_{n}():\n    assert {n} == {n}\n" for n in range(27)
    )
    committed({"tests/test_many.py": many})
    stage(
        {
            "tests/test_many.py": many.replace(
                "import pytest\n", "import pytest\n\npytestmark = pytest.mark.skip\n"
            )
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 1
    [finding] = [line for line in out.splitlines() if "switches off" in line]
    assert finding == (
        "tests/test_many.py:3: @pytest.mark.skip newly switches off 27 tests of "
        "tests/test_many.py: test_0, test_1, test_2 and 24 more"
    )


def test_the_allow_example_names_the_blocked_test_and_works(repo, capsys):
    committed({"tests/test_core.py": BASE})
    stage(
        {
            "tests/test_core.py": BASE.replace(
                "    def test_get", "    @pytest.mark.skip\n    def test_get"
            )
        }
    )
    exit_code, out = check(capsys)
    assert exit_code == 1
    [example] = [line.strip() for line in out.splitlines() if "allow = " in line]
    assert example == (
        'allow = [{ test = "tests/test_core.py::TestClient::test_get", reason = "why" }]'
    )

    write("pyproject.toml", f"[tool.testwarden.forbid-skipped-tests]\n{example}\n")
    add("pyproject.toml")

    assert check(capsys)[0] == 0


def test_one_skipped_parametrize_case_counts_as_one(repo, capsys):
    table = """\
    import pytest

    @pytest.mark.parametrize("n", [1, 2, 3])
    def test_n(n):
        assert n
    """
    committed({"tests/test_table.py": table})
    stage(
        {
            "tests/test_table.py": table.replace(
                "2, 3]", "pytest.param(2, marks=pytest.mark.xfail), 3]"
            )
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert (
        "tests/test_table.py:3: tests/test_table.py::test_n is newly switched " in out
    )
    assert "1 test case(s) switched off" in out


def test_changing_the_condition_of_an_existing_skip_passes(repo, capsys):
    skipped = BASE.replace(
        "def test_parse", "@pytest.mark.skipif(OLD, reason='x')\ndef test_parse"
    )
    committed({"tests/test_core.py": skipped})
    stage({"tests/test_core.py": skipped.replace("OLD", "NEW")})

    assert check(capsys) == (0, "")


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ("def test_render", "def _test_render", "test_render is now _test_render"),
        ("def test_render", "def disabled_test_render", "now disabled_test_render"),
        (
            "class TestClient",
            "class _TestClient",
            "TestClient::test_get is now _TestClient::test_get",
        ),
        ("def test_render", "# def test_render", "test_render is commented out"),
    ],
    ids=["underscore", "disabled", "class", "commented"],
)
def test_renaming_or_commenting_out_a_test_is_rejected(
    repo, capsys, old, new, expected
):
    committed({"tests/test_core.py": BASE})
    stage({"tests/test_core.py": BASE.replace(old, new)})

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert expected in out
    assert "which pytest does not collect" in out or "commented out" in out


def test_a_deleted_test_is_left_to_forbid_test_deletion(repo, capsys):
    committed({"tests/test_core.py": BASE, "tests/test_gone.py": BASE})
    git("rm", "--quiet", "tests/test_gone.py")
    stage(
        {
            "tests/test_core.py": BASE.replace(
                'def test_render():\n    assert render(1) == "1"\n', ""
            )
        }
    )

    assert check(capsys) == (0, "")


def test_a_skip_added_while_moving_a_test_is_caught(repo, capsys):
    committed({"tests/test_core.py": BASE, "tests/test_other.py": "x = 1\n"})
    git("rm", "--quiet", "tests/test_core.py")
    stage(
        {
            "tests/test_other.py": BASE.replace(
                "def test_parse", "@pytest.mark.skip\ndef test_parse"
            )
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert (
        "tests/test_other.py:6: tests/test_other.py::test_parse is newly switched"
        in out
    )


CONFTEST = """\
collect_ignore = ["setup.py"]


def pytest_collection_modifyitems(config, items):
    items.sort(key=str)
"""


def test_new_collection_filters_in_a_conftest_are_rejected(repo, capsys):
    committed({"conftest.py": CONFTEST, "tests/test_core.py": BASE})
    stage(
        {
            "conftest.py": CONFTEST.replace(
                '"setup.py"]', '"setup.py", "tests/test_core.py"]'
            )
            + "    selected = [item for item in items if 'slow' not in item.name]\n"
            "    config.hook.pytest_deselected(items=items)\n"
            "    items[:] = selected\n"
            "    items[0].add_marker(pytest.mark.skip)\n"
            "\n\ncollect_ignore_glob = []\ncollect_ignore_glob.append('tests/*_slow.py')\n"
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert (
        "conftest.py:1: collect_ignore gains 'tests/test_core.py': pytest stops "
        "collecting it" in out
    )
    assert "conftest.py:13: collect_ignore_glob gains 'tests/*_slow.py'" in out
    assert (
        "conftest.py:7: pytest_collection_modifyitems now deselects or skips tests: "
        "config.hook.pytest_deselected(items=items)" in out
    )
    assert "conftest.py:8: pytest_collection_modifyitems now deselects" in out
    assert "items[0].add_marker(pytest.mark.skip)" in out
    assert "collect_ignore gains 'setup.py'" not in out
    assert "add 0 more" not in out


def test_existing_filters_and_the_first_commit_pass(repo, capsys):
    stage({"conftest.py": CONFTEST + "    del items[0]\n", "tests/test_core.py": BASE})
    assert check(capsys) == (0, "")
    commit("first")
    stage({"conftest.py": CONFTEST + "    del items[0]\n\nx = 1\n"})
    assert check(capsys) == (0, "")


def test_inline_allow_skip_with_a_reason_is_an_exemption(repo, capsys):
    committed({"tests/test_core.py": BASE})
    stage(
        {
            "tests/test_core.py": BASE.replace(
                "def test_parse",
                "@pytest.mark.skipif(\n    WINDOWS,  # testwarden: allow-skip "
                "reason='no fork on Windows'\n)\ndef test_parse",
            )
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 0
    assert (
        "tests/test_core.py:6: exempt: tests/test_core.py::test_parse is newly "
        "switched off by @pytest.mark.skipif(WINDOWS); reason: no fork on Windows "
        "(inline allow-skip)" in out
    )
    assert "forbid-skipped-tests: 1 exemption(s) used" in out


def test_inline_allow_skip_without_a_reason_is_rejected(repo, capsys):
    committed({"tests/test_core.py": BASE})
    stage(
        {
            "tests/test_core.py": BASE.replace(
                "def test_parse",
                '@pytest.mark.skip  # testwarden: allow-skip reason=""\ndef test_parse',
            )
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert "tests/test_core.py:6: `# testwarden: allow-skip` needs a reason" in out
    assert "test_parse is newly switched off" in out


def test_a_configured_exemption_lets_a_skip_and_a_filter_through(repo, capsys):
    committed(
        {
            "tests/test_core.py": BASE,
            "vendor/test_vendored.py": "def test_vendored():\n    assert True\n",
            "pyproject.toml": """\
            [tool.testwarden.forbid-skipped-tests]
            allow = [
                { test = "tests/test_core.py::TestClient", reason = "server retired" },
                { test = "conftest.py", reason = "vendored tests" },
            ]
            """,
        }
    )
    stage(
        {
            "tests/test_core.py": BASE.replace(
                "class TestClient", "@pytest.mark.skip\nclass TestClient"
            ),
            "conftest.py": 'collect_ignore = ["vendor"]\n',
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 0
    assert "tests/test_core.py::TestClient::test_get is newly switched off" in out
    assert "reason: server retired" in out and "reason: vendored tests" in out
    assert "2 exemption(s) used" in out


def test_unparsable_files_are_reported_after_and_noted_before(repo, capsys):
    committed({"tests/test_a.py": "def test_a(:\n", "tests/test_b.py": BASE})
    stage({"tests/test_a.py": "def test_a():\n    pass\n", "tests/test_b.py": "if\n"})

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert "tests/test_a.py:1: note: did not parse before the change" in out
    assert "tests/test_b.py:1: cannot parse this test file (index)" in out


def test_all_files_takes_existing_skips_as_the_baseline(repo, capsys):
    committed(
        {
            "tests/test_core.py": BASE.replace(
                "def test_parse", "@pytest.mark.skip\ndef test_parse"
            ),
            "conftest.py": CONFTEST,
        }
    )

    exit_code, out = check(capsys, "--all-files")

    assert exit_code == 0
    assert "existing skips are taken as the baseline; checked that the 2 test " in out


def test_all_files_still_rejects_an_allow_skip_without_a_reason(repo, capsys):
    committed(
        {
            "tests/test_core.py": BASE.replace(
                "def test_parse",
                "@pytest.mark.skip  # testwarden: allow-skip\ndef test_parse",
            )
        }
    )

    exit_code, out = check(capsys, "--all-files")

    assert exit_code == 1
    assert "tests/test_core.py:6: `# testwarden: allow-skip` needs a reason" in out


def test_range_mode_from_the_command_line_and_from_pre_commit(
    repo, capsys, monkeypatch
):
    base = committed({"tests/test_core.py": BASE})
    committed(
        {
            "tests/test_core.py": BASE.replace(
                "def test_parse", "@pytest.mark.skip\ndef test_parse"
            )
        },
        "skip",
    )

    assert check(capsys, "--from-ref", base)[0] == 1
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", "HEAD")
    monkeypatch.setenv("PRE_COMMIT_TO_REF", "HEAD")
    assert check(capsys) == (0, "")
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", "nowhere")
    exit_code, out = check(capsys)
    assert exit_code == 2 and "cannot find the revision 'nowhere'" in out


def test_renaming_a_test_to_a_name_pytest_still_collects_passes(repo, capsys):
    committed({"tests/test_core.py": BASE})
    stage({"tests/test_core.py": BASE.replace("test_render", "test_render_output")})

    assert check(capsys) == (0, "")


def test_a_collect_ignore_entry_that_hides_no_test_that_ran_passes(repo, capsys):
    """attrs 61e8179545: the root conftest.py moves into tests/ with its
    entry, and ignores a test file the same change adds (on old Pythons)."""
    committed(
        {
            "conftest.py": 'collect_ignore = ["tests/test_match.py"]\n',
            "tests/test_match.py": BASE,
            "tests/test_core.py": BASE,
        }
    )
    git("mv", "conftest.py", "tests/conftest.py")
    stage(
        {
            "tests/conftest.py": 'collect_ignore = ["test_match.py"]\n'
            "if OLD_PYTHON:\n"
            '    collect_ignore.append("test_forward.py")\n',
            "tests/test_forward.py": BASE,
        }
    )

    assert check(capsys) == (0, "")

    commit("moved")
    stage(
        {
            "tests/conftest.py": 'collect_ignore = ["test_match.py", "test_core.py"]\n'
            "if OLD_PYTHON:\n"
            '    collect_ignore.append("test_forward.py")\n'
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert "tests/conftest.py:1: collect_ignore gains 'test_core.py'" in out
