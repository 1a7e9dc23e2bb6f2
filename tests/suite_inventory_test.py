"""What parse() finds in a test file, checked on sources that exercise pytest's rules."""

from __future__ import annotations

import textwrap

import pytest

from hooks.config import Exemption
from hooks.python_source import NotPython
from hooks.suite_inventory import (
    display_path,
    empty_inventory,
    exemption_for,
    parse,
)


def inventory(source: str, path: str = "tests/test_x.py"):
    return parse(textwrap.dedent(source).encode(), path)


def test_tests_in_blocks_nested_classes_and_unittest_cases_are_collected():
    found = inventory("""\
        import sys
        import unittest as ut

        if sys.platform == "linux":
            def test_linux():
                pass
        else:
            def test_other():
                pass

        try:
            import yaml
        except ImportError:
            def test_without_yaml():
                pass
        finally:
            def test_always():
                pass

        match sys.platform:
            case "win32":
                def test_windows():
                    pass

        class TestOuter:
            class TestInner:
                def test_deep(self):
                    pass

            class Helper:
                def test_hidden(self):
                    pass

        class Legacy(ut.TestCase):
            def testOldStyle(self):
                pass

        class TestWithInit:
            def __init__(self):
                pass

            def test_never(self):
                pass
        """)

    assert sorted(found.tests) == [
        "Legacy::testOldStyle",
        "TestOuter::TestInner::test_deep",
        "test_always",
        "test_linux",
        "test_other",
        "test_windows",
        "test_without_yaml",
    ]
    assert {"TestOuter::Helper::test_hidden", "TestWithInit::test_never"} <= set(
        found.uncollected
    )


def test_inherited_methods_follow_same_module_bases_and_survive_cycles():
    found = inventory("""\
        class Mixin(Mixin):
            def test_mixed(self):
                pass

        class Base(Mixin, Unknown):
            def test_base(self):
                pass

        class TestChild(Base, object):
            def test_base(self):
                pass
        """)

    assert sorted(found.tests) == ["TestChild::test_base", "TestChild::test_mixed"]
    assert found.tests["TestChild::test_base"].line == 10


def test_case_counts_multiply_and_unknown_tables_are_none():
    found = inventory("""\
        import pytest
        from pytest import mark as m

        ROWS = (1, 2, 3)

        @pytest.mark.parametrize("x", ROWS)
        class TestTable:
            @m.parametrize(argnames="y", argvalues=[pytest.param(1, id="one"), 2])
            def test_product(self, x, y):
                pass

        @pytest.mark.parametrize("x", [*ROWS])
        def test_starred(x):
            pass

        @pytest.mark.parametrize("x", NOT_A_LITERAL)
        def test_unknown(x):
            pass

        @pytest.mark.parametrize("x")
        def test_incomplete(x):
            pass

        @pytest.fixture(params=[1, 2])
        def test_fixture_like(request):
            pass
        """)

    assert found.tests["TestTable::test_product"].case_count == 6
    assert found.tests["test_starred"].case_count is None
    assert found.tests["test_unknown"].case_count is None
    assert found.tests["test_incomplete"].parametrizations[0].argnames == "'x'"
    assert found.tests["test_fixture_like"].case_count == 1


def test_skips_are_found_through_aliases_and_setup():
    found = inventory("""\
        import pytest as pt
        from unittest import SkipTest

        def setup_module():
            raise SkipTest("no network")

        class TestA:
            def test_a(self):
                raise ValueError("not a skip")
                skip_it = "skipTest"
        """)

    [marker] = found.tests["TestA::test_a"].skips
    assert (marker.kind, marker.line) == ("raise unittest.SkipTest", 5)
    assert marker.describe() == "raise SkipTest('no network')"


def test_annotated_and_augmented_assignments_are_read():
    found = inventory(
        """\
        import pytest

        pytestmark: list = [pytest.mark.xfail]
        collect_ignore: list
        collect_ignore_glob += ["build/*"]
        print("not a filter")

        def pytest_configure(config):
            pass

        def test_x():
            pass
        """,
        path="conftest.py",
    )

    assert [marker.kind for marker in found.tests["test_x"].skips] == [
        "@pytest.mark.xfail"
    ]
    assert [(item.kind, item.detail) for item in found.filters] == [
        ("collect_ignore_glob", "'build/*'")
    ]


def test_a_renamed_helper_that_existed_before_is_not_taken_for_the_test():
    before = inventory("def _test_x():\n    pass\n\ndef test_x():\n    pass\n")
    after = inventory("def _test_x():\n    pass\n")

    assert after.disabled_as("test_x", before) is None
    assert after.disabled_as("test_x", empty_inventory()) == (
        "now _test_x, which pytest does not collect",
        1,
    )


@pytest.mark.parametrize(
    "source, line",
    [
        (b"def test(:\n", 1),
        (b"x = " + b"-" * 50_000 + b"1\n", None),
        (b"x = " + b"-" * 5_000 + b"1\n", None),
    ],
    ids=["syntax", "memory", "recursion"],
)
def test_unparsable_sources_raise_with_a_line(source, line):
    with pytest.raises(NotPython) as raised:
        parse(source, "tests/test_x.py")

    assert raised.value.line == line


def test_allow_skip_comments_keep_their_reason():
    found = inventory("""\
        x = 1  # testwarden: allow-skip reason="vendor bug"
        y = 2  # testwarden: allow-skip reason='single quoted'
        z = 3  # testwarden: allow-skip
        """)

    assert found.allow_skip == {1: "vendor bug", 2: "single quoted", 3: ""}
    assert found.allow_skip_reason(1, 3) == "vendor bug"
    assert found.allow_skip_reason(3, 3) == ""
    assert found.allow_skip_reason(4, 9) is None


def test_exemptions_name_a_file_a_class_or_a_test():
    exemptions = [
        Exemption("tests/test_a.py::TestA", "class"),
        Exemption("tests/test_b.py", "file"),
    ]

    assert (
        exemption_for(exemptions, "tests/test_a.py", "TestA::test_x").reason == "class"
    )
    assert exemption_for(exemptions, "tests/test_a.py", "TestAB::test_x") is None
    assert exemption_for(exemptions, "tests/test_b.py").reason == "file"
    assert exemption_for(exemptions, "tests/test_b.pyc") is None


def test_display_path_keeps_readable_names_and_escapes_the_rest():
    assert display_path("tests/tést_ok.py") == "tests/tést_ok.py"
    assert display_path("tests/a\tb.py") == "tests/a\\tb.py"


def test_an_import_inside_a_test_binds_only_in_that_test():
    # The old rule read every import as module-wide, so the module's own
    # `skip` helper in test_two was taken for pytest.skip.
    found = inventory("""\
        def skip(reason):
            print(reason)

        def test_one():
            from pytest import skip
            skip("no network")

        def test_two():
            skip("only a log line")
        """)

    assert [marker.kind for marker in found.tests["test_one"].skips] == [
        "pytest.skip()"
    ]
    assert found.tests["test_two"].skips == ()


def test_a_parameter_hides_an_import_of_the_same_name():
    found = inventory("""\
        import pytest

        def test_x(pytest):
            pytest.skip("a fixture named pytest, not the module")

        def test_y():
            pytest.skip("the module")
        """)

    assert found.tests["test_x"].skips == ()
    assert [marker.line for marker in found.tests["test_y"].skips] == [7]


def test_a_relative_import_counts_like_its_absolute_twin():
    # `unittest` here is whatever the project's compat module binds, as with
    # `from tests.compat import unittest`; the old rule ignored relative
    # imports and read the name as the standard library's.
    relative = inventory("""\
        from .compat import unittest

        @unittest.skip("maybe")
        def test_x():
            pass
        """)
    absolute = inventory("""\
        from tests.compat import unittest

        @unittest.skip("maybe")
        def test_x():
            pass
        """)
    star = inventory("""\
        from tests.compat import *

        @unittest.skip("star imports hide what they bind: read as written")
        def test_x():
            pass
        """)

    assert relative.tests["test_x"].skips == absolute.tests["test_x"].skips == ()
    assert [marker.kind for marker in star.tests["test_x"].skips] == ["@unittest.skip"]
