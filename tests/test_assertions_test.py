"""The facts hooks/test_assertions.py reads from a test, one module at a time."""

from __future__ import annotations

import ast
import textwrap

import pytest

from hooks.test_assertions import ParsedModule, read_test

PREAMBLE = """\
import contextlib
import logging
import unittest

import pytest

log = logging.getLogger(__name__)
"""


def facts(source: str, name: str = "test_it"):
    module = ast.parse(PREAMBLE + textwrap.dedent(source))
    function = next(
        node
        for node in ast.walk(module)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.name == name
    )
    return read_test(function, ParsedModule(module))


def weaknesses(source: str) -> list[tuple[str, str | None]]:
    return [(check.kind, check.weakness) for check in facts(source).checks]


@pytest.mark.parametrize(
    "body, expected",
    [
        ("assert f'{x}'", [("assert", "vacuous-assertion")]),
        ("assert f''", [("assert", None)]),
        ("assert {}", [("assert", None)]),
        ("assert x or 1", [("assert", "vacuous-assertion")]),
        ("assert x or y", [("assert", None)]),
        ("assert not None", [("assert", "vacuous-assertion")]),
        ("assert not x", [("assert", None)]),
        ("assert False", [("assert", None)]),
        ("assert x != x", [("assert", None)]),
        ("self.assertFalse(0)", [("unittest", "vacuous-assertion")]),
        ("self.assertFalse(x)", [("unittest", None)]),
        ("self.assertIsNone(None)", [("unittest", "vacuous-assertion")]),
        ("self.assertIsNone(x)", [("unittest", None)]),
        ("self.assertIsNotNone('x')", [("unittest", "vacuous-assertion")]),
        ("self.assertIsNotNone(x)", [("unittest", None)]),
        ("self.assertTrue(1)", [("unittest", "vacuous-assertion")]),
        ("self.fail('no')", [("unittest", None)]),
        ("self.helper()", []),
        ("mock.assert_called_once_with(1)", [("call", None)]),
    ],
)
def test_what_a_check_is_and_whether_it_can_fail(body, expected):
    source = (
        f"class TestIt(unittest.TestCase):\n    def test_it(self):\n        {body}\n"
    )

    assert weaknesses(source) == expected


def test_a_check_both_swallowed_and_after_a_return_keeps_the_first_reason():
    source = """
    def test_it():
        return
        try:
            assert x
        except Exception:
            pass
    """

    (check,) = facts(source).checks

    assert check.weakness == "early-return"
    assert check.why == "after the return on line 10"


def test_a_return_inside_a_with_block_ends_the_test():
    source = """
    def test_it():
        with open("f") as handle:
            return
        assert handle
    """

    assert weaknesses(source) == [("assert", "early-return")]


@pytest.mark.parametrize(
    "handler",
    [
        "except Exception:\n        raise",
        "except Exception:\n        assert False, 'raised'",
        "except Exception as error:\n        pytest.fail(str(error))",
        "except KeyError:\n        pass",
    ],
)
def test_a_handler_that_fails_or_catches_narrowly_swallows_nothing(handler):
    source = f"def test_it():\n    try:\n        assert x\n    {handler}\n"

    assert facts(source).checks[0].weakness is None


def test_checks_in_while_match_nested_functions_and_else_blocks_count():
    source = """
    def test_it():
        while x:
            assert x
        match x:
            case 1:
                assert x == 1
        def callback():
            assert y
        try:
            pass
        except ValueError:
            pass
        else:
            assert z
        class Local:
            kind = "local"

            def method(self):
                assert w
        import os
        value = [assert_valid(v) for v in values]
    """

    assert facts(source).strength == 5


def test_prints_logs_and_bare_expressions_are_kept_as_expressions():
    source = """
    def test_it():
        print(a == 1)
        log.info(b == 2)
        logging.warning(c)
        c == 3
        compute(d)
        "text"
    """

    assert [source for _, source in facts(source).expressions] == [
        "a == 1",
        "b == 2",
        "c",
        "c == 3",
    ]


def test_a_loop_over_a_literal_table_checks_once_per_row():
    source = """
    def test_it():
        for value in (1, 2, 3):
            assert f(value)
        for value in values:
            assert g(value)
        for value in [*values]:
            assert h(value)
    """

    assert facts(source).strength == 5


def test_helpers_count_their_checks_and_stop_at_recursion_and_depth():
    source = """
    def recursive(n):
        assert n
        recursive(n - 1)

    def level1():
        level2()
        assert 1 == one()

    def level2():
        level3()
        assert 2 == two()

    def level3():
        level4()
        assert 3 == three()

    def level4():
        assert 4 == four()

    def test_it():
        recursive(3)
        level1()
    """

    assert facts(source).strength == 1 + 3


def test_expected_raises_read_their_exceptions_and_pattern():
    source = """
    class TestIt(unittest.TestCase):
        def test_it(self):
            pytest.raises(expected_exception=(ValueError, KeyError), match="x")
            self.assertRaisesRegex(ValueError, "pattern", f)
            pytest.raises(errors[0], f)
            pytest.warns(UserWarning)
            pytest.deprecated_call()
    """

    expected = facts(source).raises

    assert [(item.exceptions, item.match) for item in expected] == [
        (frozenset({"ValueError", "KeyError"}), "'x'"),
        (frozenset({"ValueError"}), "'pattern'"),
        (None, None),
        (frozenset({"UserWarning"}), None),
        (None, None),
    ]
    assert expected[1].callee == "assertRaisesRegex"


def test_tolerances_read_keywords_positions_and_computed_values():
    source = """
    import math
    import numpy as np
    import pandas._testing as tm

    def test_it():
        assert x == pytest.approx(1.0, 1e-3)
        assert math.isclose(x, y, rel_tol=compute())
        np.testing.assert_allclose(x, y, 1e-3, 1e-4)
        tm.assert_series_equal(x, y, check_names=False, obj="s", **extra)
    """

    tolerances = facts(source).tolerances

    assert [(item.callee, item.settings) for item in tolerances] == [
        ("pytest.approx", (("rel", 1e-3),)),
        ("math.isclose", (("rel_tol", None),)),
        ("numpy.testing.assert_allclose", (("rtol", 1e-3), ("atol", 1e-4))),
        ("pandas._testing.assert_series_equal", (("check_names", False),)),
    ]
