from __future__ import annotations

import os
import subprocess
import textwrap

import pytest

from hooks import config, forbid_weakened_tests
from hooks import git as gitlayer
from tests.change_modes_test import manifest_config, pre_commit
from tests.helpers import add, commit, git, write

HEADER = """\
import contextlib
import logging
import math
import unittest
from contextlib import suppress

import numpy
import pandas.testing
import pytest
import pytest as pt

from pkg import parse, render
"""


def check(capsys, *argv: str) -> tuple[int, str]:
    exit_code = forbid_weakened_tests.main(list(argv))
    captured = capsys.readouterr()
    return exit_code, captured.out + captured.err


def staged(files: dict[str, str]) -> None:
    for path, text in files.items():
        write(path, textwrap.dedent(text))
    add(".")


def committed(files: dict[str, str], message: str = "base") -> str:
    staged(files)
    return commit(message)


def module_source(body: str) -> str:
    return HEADER + "\n\n" + textwrap.dedent(body)


def change(capsys, before: str, after: str, *extra: str) -> tuple[int, str]:
    """Commit BEFORE as tests/test_core.py, stage AFTER, run the hook on the commit."""
    committed({"tests/test_core.py": module_source(before), "pkg/__init__.py": ""})
    staged({"tests/test_core.py": module_source(after)})
    return check(capsys, *extra)


# (before, after, rule that blocks) for each weakening the issue names.
WEAKENINGS = {
    "an-assertion-no-row-of-the-loop-makes-removed": (
        """
        def test_parse():
            value = parse("x")
            assert value is not True
            others = (None, 0)
            for other in others:
                assert value is not other
        """,
        """
        def test_parse():
            value = parse("x")
            others = (None, 0)
            for other in others:
                assert value is not other
        """,
        "assertions-removed",
    ),
    "assert-removed": (
        """
        def test_parse():
            assert parse("1") == 1
            assert parse("2") == 2
        """,
        """
        def test_parse():
            assert parse("1") == 1
            parse("2")
        """,
        "assertions-removed",
    ),
    "raises-removed": (
        """
        def test_parse():
            with pytest.raises(ValueError):
                parse("x")
        """,
        """
        def test_parse():
            parse("x")
        """,
        "assertions-removed",
    ),
    "warns-removed": (
        """
        def test_parse():
            with pytest.warns(UserWarning):
                parse("x")
            with pytest.deprecated_call():
                parse("y")
        """,
        """
        def test_parse():
            parse("x")
            with pytest.deprecated_call():
                parse("y")
        """,
        "assertions-removed",
    ),
    "unittest-assert-removed": (
        """
        class TestParse(unittest.TestCase):
            def test_parse(self):
                self.assertEqual(parse("1"), 1)
                self.assertTrue(parse("2"))
        """,
        """
        class TestParse(unittest.TestCase):
            def test_parse(self):
                self.assertEqual(parse("1"), 1)
        """,
        "assertions-removed",
    ),
    "unittest-fail-removed": (
        """
        class TestParse(unittest.TestCase):
            def test_parse(self):
                if parse("1") != 1:
                    self.fail("wrong")
        """,
        """
        class TestParse(unittest.TestCase):
            def test_parse(self):
                parse("1")
        """,
        "assertions-removed",
    ),
    "helper-loses-its-assertion": (
        """
        def check_parsed(text, expected):
            assert parse(text) == expected

        def test_parse():
            check_parsed("1", 1)
        """,
        """
        def check_parsed(text, expected):
            parse(text)

        def test_parse():
            check_parsed("1", 1)
        """,
        "assertions-removed",
    ),
    "assert-true": (
        """
        def test_parse():
            assert parse("1") == 1
        """,
        """
        def test_parse():
            parse("1")
            assert True
        """,
        "vacuous-assertion",
    ),
    "assert-one": (
        """
        def test_parse():
            assert parse("1") == 1
        """,
        """
        def test_parse():
            assert 1, parse("1")
        """,
        "vacuous-assertion",
    ),
    "tautology": (
        """
        def test_parse():
            result = parse("1")
            assert result == 1
        """,
        """
        def test_parse():
            result = parse("1")
            assert result == result
        """,
        "vacuous-assertion",
    ),
    "assert-a-tuple": (
        """
        def test_parse():
            assert parse("1") == 1, "parses"
        """,
        """
        def test_parse():
            assert (parse("1") == 1, "parses")
        """,
        "vacuous-assertion",
    ),
    "unittest-tautology": (
        """
        class TestParse(unittest.TestCase):
            def test_parse(self):
                self.assertEqual(parse("1"), 1)
        """,
        """
        class TestParse(unittest.TestCase):
            def test_parse(self):
                self.assertEqual(parse("1"), parse("1"))
        """,
        "vacuous-assertion",
    ),
    "to-expression": (
        """
        def test_parse():
            assert parse("1") == 1
        """,
        """
        def test_parse():
            parse("1") == 1
        """,
        "assertion-to-expression",
    ),
    "to-print": (
        """
        def test_parse():
            assert parse("1") == 1
        """,
        """
        def test_parse():
            print(parse("1") == 1)
        """,
        "assertion-to-expression",
    ),
    "to-log": (
        """
        def test_parse():
            assert parse("1") == 1
        """,
        """
        def test_parse():
            logging.info(parse("1") == 1)
        """,
        "assertion-to-expression",
    ),
    "body-pass": (
        """
        def test_parse():
            assert parse("1") == 1
        """,
        """
        def test_parse():
            pass
        """,
        "body-replaced",
    ),
    "body-docstring": (
        """
        def test_parse():
            assert parse("1") == 1
        """,
        '''
        def test_parse():
            """Parses one."""
            ...
        ''',
        "body-replaced",
    ),
    "early-return": (
        """
        def test_parse():
            result = parse("1")
            assert result == 1
        """,
        """
        def test_parse():
            result = parse("1")
            return
            assert result == 1
        """,
        "early-return",
    ),
    "except-assertion-error": (
        """
        def test_parse():
            assert parse("1") == 1
        """,
        """
        def test_parse():
            try:
                assert parse("1") == 1
            except AssertionError:
                pass
        """,
        "swallowed-assertion",
    ),
    "bare-except": (
        """
        def test_parse():
            assert parse("1") == 1
        """,
        """
        def test_parse():
            try:
                assert parse("1") == 1
            except:
                logging.exception("ignored")
        """,
        "swallowed-assertion",
    ),
    "except-exception-tuple": (
        """
        def test_parse():
            assert parse("1") == 1
        """,
        """
        def test_parse():
            try:
                assert parse("1") == 1
            except (ValueError, Exception):
                pass
        """,
        "swallowed-assertion",
    ),
    "suppress-imported": (
        """
        def test_parse():
            assert parse("1") == 1
        """,
        """
        def test_parse():
            with suppress(AssertionError):
                assert parse("1") == 1
        """,
        "swallowed-assertion",
    ),
    "suppress-base-exception": (
        """
        def test_parse():
            assert parse("1") == 1
        """,
        """
        def test_parse():
            with contextlib.suppress(BaseException):
                assert parse("1") == 1
        """,
        "swallowed-assertion",
    ),
    "raises-to-exception": (
        """
        def test_parse():
            with pytest.raises(ValueError):
                parse("x")
        """,
        """
        def test_parse():
            with pt.raises(Exception):
                parse("x")
        """,
        "raises-broadened",
    ),
    "raises-to-builtin-base": (
        """
        def test_parse():
            with pytest.raises(KeyError):
                parse("x")
        """,
        """
        def test_parse():
            with pytest.raises(LookupError):
                parse("x")
        """,
        "raises-broadened",
    ),
    "raises-match-dropped": (
        """
        def test_parse():
            with pytest.raises(ValueError, match="not a number"):
                parse("x")
        """,
        """
        def test_parse():
            with pytest.raises(ValueError):
                parse("x")
        """,
        "raises-match-dropped",
    ),
    "assert-raises-broadened": (
        """
        class TestParse(unittest.TestCase):
            def test_parse(self):
                with self.assertRaises(ValueError):
                    parse("x")
        """,
        """
        class TestParse(unittest.TestCase):
            def test_parse(self):
                with self.assertRaises(BaseException):
                    parse("x")
        """,
        "raises-broadened",
    ),
    "assert-raises-regex-dropped": (
        """
        class TestParse(unittest.TestCase):
            def test_parse(self):
                with self.assertRaisesRegex(ValueError, "not a number"):
                    parse("x")
        """,
        """
        class TestParse(unittest.TestCase):
            def test_parse(self):
                with self.assertRaises(ValueError):
                    parse("x")
        """,
        "raises-match-dropped",
    ),
    "approx-rel": (
        """
        def test_parse():
            assert parse("0.1") == pytest.approx(0.1, rel=1e-9)
        """,
        """
        def test_parse():
            assert parse("0.1") == pytest.approx(0.1, rel=1e-3)
        """,
        "tolerance-loosened",
    ),
    "approx-abs-added": (
        """
        def test_parse():
            assert parse("0.1") == pytest.approx(0.1)
        """,
        """
        def test_parse():
            assert parse("0.1") == pytest.approx(0.1, abs=0.5)
        """,
        "tolerance-loosened",
    ),
    "isclose": (
        """
        def test_parse():
            assert math.isclose(parse("0.1"), 0.1)
        """,
        """
        def test_parse():
            assert math.isclose(parse("0.1"), 0.1, rel_tol=0.2)
        """,
        "tolerance-loosened",
    ),
    "almost-equal-places": (
        """
        class TestParse(unittest.TestCase):
            def test_parse(self):
                self.assertAlmostEqual(parse("0.1"), 0.1, places=7)
        """,
        """
        class TestParse(unittest.TestCase):
            def test_parse(self):
                self.assertAlmostEqual(parse("0.1"), 0.1, places=1)
        """,
        "tolerance-loosened",
    ),
    "almost-equal-delta": (
        """
        class TestParse(unittest.TestCase):
            def test_parse(self):
                self.assertAlmostEqual(parse("0.1"), 0.1, delta=0.001)
        """,
        """
        class TestParse(unittest.TestCase):
            def test_parse(self):
                self.assertAlmostEqual(parse("0.1"), 0.1, delta=1)
        """,
        "tolerance-loosened",
    ),
    "numpy-rtol": (
        """
        def test_parse():
            numpy.testing.assert_allclose(parse("0.1"), 0.1)
        """,
        """
        def test_parse():
            numpy.testing.assert_allclose(parse("0.1"), 0.1, atol=1)
        """,
        "tolerance-loosened",
    ),
    "removed-beside-an-expression-still-asserted": (
        """
        def test_parse():
            assert parse("1") == 1
            assert parse("2") == 2
        """,
        """
        def test_parse():
            parse("1") == 1
            assert parse("1") == 1
        """,
        "assertions-removed",
    ),
    "raises-gains-an-exception": (
        """
        def test_parse():
            with pytest.raises((ValueError,)):
                parse("x")
        """,
        """
        def test_parse():
            with pytest.raises((ValueError, TypeError)):
                parse("x")
        """,
        "raises-broadened",
    ),
    "vacuous-beside-an-old-one": (
        """
        def test_parse():
            assert True
            assert parse("1") == 1
        """,
        """
        def test_parse():
            assert True
            assert True
        """,
        "vacuous-assertion",
    ),
    "pandas-check-flag": (
        """
        def test_parse():
            pandas.testing.assert_frame_equal(parse("a"), render("a"))
        """,
        """
        def test_parse():
            pandas.testing.assert_frame_equal(parse("a"), render("a"), check_dtype=False)
        """,
        "tolerance-loosened",
    ),
}


@pytest.mark.parametrize("name", sorted(WEAKENINGS))
def test_each_weakening_is_blocked(repo, capsys, name):
    before, after, rule = WEAKENINGS[name]

    exit_code, out = change(capsys, before, after)
    report = forbid_weakened_tests.check(gitlayer.staged_changes(), config.load(repo))

    assert exit_code == 1, out
    assert "::test_parse is weakened: " in out
    assert "To fix:" in out
    assert [finding.rule for finding in report.findings] == [rule], out


# (before, after) of each legitimate twin: the change keeps or adds teeth.
TWINS = {
    # click bbe1eb6d41: the same assertion written twice; one copy goes.
    # click bbe1eb6d41 as it was: the dropped assertion is one row of a loop.
    "an-assertion-a-loop-over-a-table-still-makes-dropped": (
        """
        def test_parse():
            value = parse("x")
            assert value is not True
            others = (None, True, 0)
            for other in others:
                assert value is not other
        """,
        """
        def test_parse():
            value = parse("x")
            others = (None, True, 0)
            for other in others:
                assert value is not other
        """,
    ),
    "a-repeated-assertion-dropped": (
        """
        def test_flag():
            value = parse("1")
            assert value is not True
            assert value == 1
            assert value is not True
        """,
        """
        def test_flag():
            value = parse("1")
            assert value is not True
            assert value == 1
        """,
    ),
    "assertions-moved-into-a-helper": (
        """
        def test_parse():
            assert parse("1") == 1
            assert parse("2") == 2
        """,
        """
        def check_parsed(text, expected):
            assert parse(text) == expected
            assert render(expected) == text

        def test_parse():
            check_parsed("1", 1)
        """,
    ),
    "assertions-moved-into-a-method": (
        """
        class TestParse(unittest.TestCase):
            def test_parse(self):
                self.assertEqual(parse("1"), 1)
                self.assertEqual(parse("2"), 2)

        """,
        """
        class TestParse(unittest.TestCase):
            def assertParses(self, text, expected):
                self.assertEqual(parse(text), expected)

            def test_parse(self):
                self.assertParses("1", 1)
                self.assertParses("2", 2)
        """,
    ),
    "stricter": (
        """
        def test_render():
            out = render(1)
            assert "1" in out
        """,
        """
        def test_render():
            out = render(1)
            assert out == "1\\n"
        """,
    ),
    "added": (
        """
        def test_parse():
            assert parse("1") == 1
        """,
        """
        def test_parse():
            assert parse("1") == 1
            assert parse("2") == 2
        """,
    ),
    "reordered": (
        """
        def test_parse():
            assert parse("1") == 1
        """,
        """
        def test_parse():
            assert 1 == parse("1")
        """,
    ),
    "unittest-to-plain-assert": (
        """
        class TestParse(unittest.TestCase):
            def test_parse(self):
                self.assertEqual(parse("1"), 1)
        """,
        """
        class TestParse(unittest.TestCase):
            def test_parse(self):
                assert parse("1") == 1
        """,
    ),
    "asserts-into-a-growing-parametrize-table": (
        """
        def test_parse():
            assert parse("1") == 1
            assert parse("2") == 2
        """,
        """
        @pytest.mark.parametrize("text, expected", [("1", 1), ("2", 2), ("3", 3)])
        def test_parse(text, expected):
            assert parse(text) == expected
        """,
    ),
    "asserts-into-a-loop-over-a-table": (
        """
        def test_parse():
            assert parse("1") == 1
            assert parse("2") == 2
        """,
        """
        def test_parse():
            for text, expected in [("1", 1), ("2", 2)]:
                assert parse(text) == expected
        """,
    ),
    "try-except-that-fails": (
        """
        def test_parse():
            assert parse("1") == 1
        """,
        """
        def test_parse():
            try:
                assert parse("1") == 1
            except Exception as error:
                pytest.fail(f"parse raised {error}")
        """,
    ),
    "try-except-narrow": (
        """
        def test_parse():
            assert parse("1") == 1
        """,
        """
        def test_parse():
            try:
                assert parse("1") == 1
            except ValueError:
                pass
        """,
    ),
    "raises-narrowed-with-match": (
        """
        def test_parse():
            with pytest.raises(Exception):
                parse("x")
        """,
        """
        def test_parse():
            with pt.raises(ValueError, match="not a number"):
                parse("x")
        """,
    ),
    "raises-as-assert-raises": (
        """
        class TestParse(unittest.TestCase):
            def test_parse(self):
                with self.assertRaisesRegex(ValueError, "number"):
                    parse("x")
        """,
        """
        class TestParse(unittest.TestCase):
            def test_parse(self):
                with pytest.raises(ValueError, match="number"):
                    parse("x")
        """,
    ),
    "tolerance-tightened": (
        """
        def test_parse():
            assert parse("0.1") == pytest.approx(0.1, rel=1e-3)
            assert math.isclose(parse("0.2"), 0.2, abs_tol=0.1)
            numpy.testing.assert_allclose(parse("0.3"), 0.3, rtol=1e-3)
        """,
        """
        def test_parse():
            assert parse("0.1") == pytest.approx(0.1)
            assert math.isclose(parse("0.2"), 0.2, abs_tol=0.01)
            numpy.testing.assert_allclose(parse("0.3"), 0.3, rtol=1e-9)
        """,
    ),
    "raises-changed-to-another-project-exception": (
        """
        def test_parse():
            with pytest.raises(ParseError):
                parse("x")
            with pytest.raises(errors[kind]):
                parse("y")
        """,
        """
        def test_parse():
            with pytest.raises(SyntaxProblem):
                parse("x")
            with pytest.raises(errors[other]):
                parse("y")
        """,
    ),
    "tolerance-computed": (
        """
        def test_parse():
            assert parse("0.1") == pytest.approx(0.1, rel=1e-9)
        """,
        """
        def test_parse():
            assert parse("0.1") == pytest.approx(0.1, rel=TOLERANCE)
        """,
    ),
    "a-skip-is-another-hooks-concern": (
        """
        def test_parse():
            assert parse("1") == 1
        """,
        """
        def test_parse():
            pytest.skip("later")
            assert parse("1") == 1
        """,
    ),
}


@pytest.mark.parametrize("name", sorted(TWINS))
def test_each_legitimate_twin_passes(repo, capsys, name):
    before, after = TWINS[name]

    exit_code, out = change(capsys, before, after)

    assert exit_code == 0, out
    assert out == ""


def test_an_expected_value_edited_with_the_code_is_a_note(repo, capsys):
    committed(
        {
            "pkg/__init__.py": "def parse(text):\n    return int(text)\n",
            "tests/test_core.py": module_source("""
                def test_parse():
                    assert parse("1") == 1
                """),
        }
    )
    staged(
        {
            "pkg/__init__.py": "def parse(text):\n    return int(text) + 1\n",
            "tests/test_core.py": module_source("""
                def test_parse():
                    assert parse("1") == 2
                """),
        }
    )

    exit_code, out = check(capsys)

    assert exit_code == 0
    assert (
        "tests/test_core.py:17: note: tests/test_core.py::test_parse: expected value "
        "edited in the same change as code: `assert parse('1') == 1` -> "
        "`assert parse('1') == 2`; for the reviewer, not a block"
    ) in out


def test_assertions_moved_into_a_helper_module_still_count(repo, capsys):
    committed(
        {
            "pkg/__init__.py": "",
            "tests/__init__.py": "",
            "tests/test_core.py": module_source("""
                def test_parse():
                    assert parse("1") == 1
                    assert parse("2") == 2
                """),
        }
    )
    staged(
        {
            "tests/helpers.py": """\
                from pkg import parse


                def check_parsed(*texts):
                    for text in texts:
                        assert parse(text) == int(text)
                    assert parse(texts[0]) is not None
                """,
            "tests/test_core.py": module_source("""
                from tests.helpers import check_parsed

                def test_parse():
                    check_parsed("1", "2")
                """),
        }
    )

    assert check(capsys) == (0, "")

    staged({"tests/helpers.py": "def check_parsed(:\n"})
    assert check(capsys)[0] == 1  # a helper that does not parse checks nothing

    staged({"tests/helpers.py": """\
                def check_parsed(*texts):
                    return texts
                """})
    exit_code, out = check(capsys)

    assert exit_code == 1
    assert (
        "tests/test_core.py:18: tests/test_core.py::test_parse is weakened: checks 0 cases "
        "where it checked 2 cases: assertions removed without a replacement "
        """(gone: `assert parse('1') == 1`, `assert parse('2') == 2`)"""
    ) in out


def test_asserts_in_the_library_a_test_calls_are_not_its_checks(repo, capsys):
    committed(
        {
            "pkg/__init__.py": "",
            "pkg/urls.py": "def urlparse(text):\n    assert text\n    return text\n",
            "tests/test_core.py": module_source("""
                from pkg.urls import urlparse

                def test_parse():
                    url = urlparse("x")
                    assert url == "x"
                """),
        }
    )
    staged({"tests/test_core.py": module_source("""
                def test_parse():
                    url = "x"
                    assert url == "x"
                """)})

    assert check(capsys) == (0, "")


def test_a_test_moved_to_another_file_is_compared_with_its_old_self(repo, capsys):
    committed(
        {
            "pkg/__init__.py": "",
            "tests/test_core.py": module_source("""
                def test_parse():
                    assert parse("1") == 1
                """),
        }
    )
    git("rm", "--quiet", "tests/test_core.py")
    staged({"tests/test_parsing.py": "def test_parse():\n    assert True\n"})

    exit_code, out = check(capsys)

    assert exit_code == 1
    assert (
        "tests/test_parsing.py:2: tests/test_parsing.py::test_parse is weakened: "
        "`assert True` checks nothing: a constant"
    ) in out


def test_a_range_is_checked_commit_against_commit(repo, capsys):
    base = committed(
        {
            "pkg/__init__.py": "",
            "tests/test_core.py": module_source("""
                def test_parse():
                    with pytest.raises(ValueError, match="number"):
                        parse("x")
                """),
        }
    )
    committed(
        {"tests/test_core.py": module_source("""
                def test_parse():
                    with pytest.raises(ValueError):
                        parse("x")
                """)},
        "drop the match",
    )
    head = committed({"pkg/__init__.py": "VERSION = 2\n"}, "unrelated")

    exit_code, out = check(capsys, "--from-ref", base, "--to-ref", head)
    later, later_out = check(capsys, "--from-ref", f"{head}^", "--to-ref", head)

    assert exit_code == 1
    assert (
        "tests/test_core.py:17: tests/test_core.py::test_parse is weakened: "
        "pytest.raises no longer checks the message: match='number' is gone"
    ) in out
    assert f"checking {base[:12]}..{head[:12]} (--from-ref)" in out
    assert (later, later_out) == (0, "")


def test_an_inline_allow_weaken_with_a_reason_exempts_the_test(repo, capsys):
    exit_code, out = change(
        capsys,
        """
        def test_parse():
            assert parse("1") == 1
        """,
        """
        def test_parse():  # testwarden: allow-weaken reason="parse is gone, see #12"
            pass
        """,
    )

    assert exit_code == 0, out
    assert (
        "tests/test_core.py:16: exempt: tests/test_core.py::test_parse: the body is "
        "replaced by pass, ... or a docstring: it checked 1 case and now checks nothing; "
        "reason: parse is gone, see #12 (inline allow-weaken)"
    ) in out
    assert "forbid-weakened-tests: 1 exemption(s) used" in out


def test_an_inline_allow_weaken_on_the_weakened_line_exempts_it(repo, capsys):
    exit_code, out = change(
        capsys,
        """
        def test_parse():
            with pytest.raises(KeyError):
                parse("x")
        """,
        """
        def test_parse():
            with pytest.raises(Exception):  # testwarden: allow-weaken reason='varies'
                parse("x")
        """,
    )

    assert exit_code == 0, out
    assert "reason: varies (inline allow-weaken)" in out


def test_an_inline_allow_weaken_without_a_reason_blocks(repo, capsys):
    exit_code, out = change(
        capsys,
        """
        def test_parse():
            assert parse("1") == 1
        """,
        """
        def test_parse():  # testwarden: allow-weaken
            pass
        """,
    )

    assert exit_code == 1
    assert (
        "tests/test_core.py:16: `# testwarden: allow-weaken` needs a reason: "
        'write reason="why this test may check less"'
    ) in out
    assert "tests/test_core.py::test_parse is weakened: the body is replaced" in out


def test_a_configured_exemption_with_a_reason_exempts_the_test(repo, capsys):
    write(
        "pyproject.toml",
        "[tool.testwarden.forbid-weakened-tests]\n"
        'allow = [{ test = "tests/test_core.py::test_parse", reason = "rewritten in #7" }]\n',
    )
    exit_code, out = change(
        capsys,
        """
        def test_parse():
            assert parse("1") == 1

        def test_render():
            assert render(1) == "1"
        """,
        """
        def test_parse():
            assert True

        def test_render():
            assert True
        """,
    )

    assert exit_code == 1
    assert "exempt: tests/test_core.py::test_parse: `assert True` checks nothing" in out
    assert "reason: rewritten in #7" in out
    assert "tests/test_core.py::test_render is weakened" in out
    assert (
        'allow = [{ test = "tests/test_core.py::test_render", reason = "why" }]' in out
    )


def test_a_configured_exemption_needs_a_reason(repo, capsys):
    write(
        "pyproject.toml",
        "[tool.testwarden.forbid-weakened-tests]\n"
        'allow = [{ test = "tests/test_core.py::test_parse" }]\n',
    )
    exit_code, out = change(
        capsys,
        "def test_parse():\n    assert parse('1') == 1\n",
        "def test_parse():\n    pass\n",
    )

    assert exit_code == 2
    assert "pyproject.toml:2:" in out and "reason" in out


def test_all_files_lists_assertions_that_check_nothing_without_blocking(repo, capsys):
    committed(
        {
            "pkg/__init__.py": "",
            "tests/test_core.py": module_source("""
                def test_parse():
                    assert parse("1") == 1

                def test_render():
                    assert True
                    with suppress(Exception):
                        assert render(1) == "1"
                """),
        }
    )

    exit_code, out = check(capsys, "--all-files")

    assert exit_code == 0
    assert (
        "tests/test_core.py:20: note: tests/test_core.py::test_render: `assert True` "
        "checks nothing: a constant"
    ) in out
    assert (
        "tests/test_core.py:22: note: tests/test_core.py::test_render: `assert render(1)"
        in out
    )
    assert "2 assertion(s) that check nothing today are listed, not blocked" in out
    assert "test_parse" not in out


def test_a_test_file_that_stops_parsing_blocks(repo, capsys):
    exit_code, out = change(
        capsys,
        "def test_parse():\n    assert parse('1') == 1\n",
        "def test_parse(:\n",
    )

    assert exit_code == 1
    assert "cannot parse this test file (index)" in out
    assert "its assertions cannot be checked" in out


def test_a_weakening_is_refused_at_commit_through_pre_commit(
    repo, project_root, tmp_path
):
    home = tmp_path / "pre-commit-home"
    write(
        ".pre-commit-config.yaml",
        manifest_config(project_root, ["forbid-weakened-tests"]),
    )
    committed(
        {
            "pkg/__init__.py": "",
            "tests/test_core.py": "def test_parse():\n    assert int('1') == 1\n",
        }
    )
    pre_commit(project_root, home, "install")
    staged({"tests/test_core.py": "def test_parse():\n    int('1') == 1\n"})
    environment = {
        **os.environ,
        "PRE_COMMIT_HOME": str(home),
        "PYTHONPATH": str(project_root),
    }

    refused = subprocess.run(
        ["git", "commit", "-m", "weaken"],
        capture_output=True,
        text=True,
        env=environment,
    )
    staged({"tests/test_core.py": "def test_parse():\n    assert 1 == int('1')\n"})
    accepted = subprocess.run(
        ["git", "commit", "-m", "reorder"],
        capture_output=True,
        text=True,
        env=environment,
    )
    everything = pre_commit(project_root, home, "run", "--all-files")

    output = refused.stdout + refused.stderr
    assert refused.returncode == 1, output
    assert (
        "tests/test_core.py:2: tests/test_core.py::test_parse is weakened: "
        "`assert int('1') == 1` became an expression that is computed, printed or "
        "logged but not asserted"
    ) in output
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert everything.returncode == 0, everything.stdout
