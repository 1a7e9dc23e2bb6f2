"""The one rule for what a name in Python source refers to, and the one parse error."""

from __future__ import annotations

import ast
import textwrap

import pytest

from hooks.python_source import NotPython, module_names, own_nodes, parse, walk


def module(source: str) -> ast.Module:
    return parse("t.py", textwrap.dedent(source))


def expression(text: str) -> ast.expr:
    return ast.parse(text, mode="eval").body


def resolved(source: str, text: str, package: str | None = None) -> str | None:
    return module_names(module(source), package).resolve(expression(text))


@pytest.mark.parametrize(
    ("source", "text", "dotted"),
    [
        ("from unittest import mock", "mock.patch", "unittest.mock.patch"),
        ("import unittest.mock as m", "m.MagicMock", "unittest.mock.MagicMock"),
        ("import unittest.mock", "unittest.mock.patch", "unittest.mock.patch"),
        ("import pytest", "pytest.mark.skip", "pytest.mark.skip"),
        ("from pytest import mark as m", "m.skip", "pytest.mark.skip"),
        ("import a.b as c, d", "c.x", "a.b.x"),
        (
            "try:\n    import simplejson as json\nexcept ImportError:\n    pass",
            "json.loads",
            "simplejson.loads",
        ),
        ("import pytest", "unittest.skip", None),
        ("from faker import *", "Faker", None),
        ("", "dict", "dict"),
        ("dict = 1", "dict", "dict"),
    ],
    ids=[
        "from-import",
        "import-as",
        "import-dotted",
        "module",
        "from-import-as",
        "several",
        "inside-try",
        "not-imported",
        "star",
        "builtin",
        "module-level-assignments-not-followed",
    ],
)
def test_names_resolve_through_the_module_imports(source, text, dotted):
    assert resolved(source, text) == dotted


@pytest.mark.parametrize(
    ("statement", "package", "dotted"),
    [
        ("from .x import y", None, ".x.y"),
        ("from . import y", None, ".y"),
        ("from .x import y", "tests.unit", "tests.unit.x.y"),
        ("from ..x import y", "tests.unit", "tests.x.y"),
        ("from . import y", "tests", "tests.y"),
        ("from ...x import y", "tests.unit", "...x.y"),
        ("from .x import y", "", ".x.y"),
    ],
    ids=[
        "unknown-package",
        "unknown-package-bare",
        "package",
        "parent",
        "bare",
        "past-the-top",
        "top-level-module",
    ],
)
def test_relative_imports_resolve_against_the_package(statement, package, dotted):
    assert resolved(statement, "y", package) == dotted


def test_a_function_import_binds_in_that_function_only():
    tree = module("""\
        def skip(reason):
            print(reason)

        def test_one():
            from pytest import skip
            skip("no network")

        def test_two():
            skip("only a log line")
        """)
    names = module_names(tree)
    _, one, two = tree.body
    call = expression("skip")

    assert names.inner(one).resolve(call) == "pytest.skip"
    assert names.inner(two).resolve(call) is None
    assert names.resolve(call) is None


def test_local_bindings_hide_outer_imports_and_nested_functions_see_outer_ones():
    tree = module("""\
        import mock

        def uses_parameter(mock):
            mock.patch

        def assigns(x):
            mock = x
            def nested():
                import mock
                mock.patch

        def reads():
            def nested():
                mock.patch
        """)
    names = module_names(tree)
    parameter, assigns, reads = tree.body[1:]
    patch = expression("mock.patch")

    assert names.inner(parameter).resolve(patch) is None
    assert names.inner(assigns).resolve(patch) is None
    nested = names.inner(assigns)
    assert nested.inner(assigns.body[1]).resolve(patch) == "mock.patch"
    assert names.inner(reads).inner(reads.body[0]).resolve(patch) == "mock.patch"
    assert names.inner(parameter).bind({"mock": "pytest_mock.mocker"}).resolve(
        patch
    ) == ("pytest_mock.mocker.patch")


def test_walk_gives_each_node_the_names_of_its_scope():
    tree = module("""\
        import pytest

        @pytest.mark.skip
        def test(pytest=None):
            pytest.skip()
            f = lambda pytest: pytest.skip()
        """)
    found = {
        ast.unparse(node): scope.resolve(node)
        for node, scope in walk(tree, module_names(tree))
        if isinstance(node, ast.Attribute) and ast.unparse(node).endswith("skip")
    }

    assert found == {"pytest.mark.skip": "pytest.mark.skip", "pytest.skip": None}
    order = [node for node, _ in walk(tree, module_names(tree))]
    assert order == list(ast.walk(tree))


def test_own_nodes_do_not_enter_nested_scopes():
    tree = module("""\
        import a
        if a:
            import b
        def f():
            import c
        class C:
            import d
        """)
    imports = [
        node.names[0].name
        for node in own_nodes(tree.body)
        if isinstance(node, ast.Import)
    ]

    assert imports == ["a", "b"]


@pytest.mark.parametrize(
    ("source", "line", "reason"),
    [
        (b"def broken(:\n", 1, "does not parse: invalid syntax"),
        (b"x = '\xff\xfe'\n", None, "cannot decode: (unicode error)"),
        (
            b"x = 1\x00\n",
            None,
            "does not parse: source code string cannot contain null",
        ),
        (b"x = " + b"-" * 5_000 + b"1\n", None, "does not parse"),
    ],
    ids=["syntax", "undecodable", "null-byte", "too-deep"],
)
def test_source_that_is_not_python_is_one_error_with_path_and_line(
    source, line, reason
):
    with pytest.raises(NotPython) as raised:
        parse("tests/test_x.py", source)

    assert raised.value.path == "tests/test_x.py"
    assert raised.value.line == line
    assert raised.value.reason.startswith(reason)
    where = f"tests/test_x.py:{line}" if line else "tests/test_x.py"
    assert raised.value.location() == where
    assert str(raised.value).startswith(f"{where}: cannot analyse: {reason}")


def test_resolve_or_written_reads_unbound_names_as_written_but_keeps_hiding():
    tree = module("""\
        from helpers import *
        import pytest

        def test(pytest):
            pass
        """)
    names = module_names(tree)
    inside = names.inner(tree.body[2])

    assert names.resolve(expression("unittest.skip")) is None
    assert names.resolve_or_written(expression("unittest.skip")) == "unittest.skip"
    assert names.resolve_or_written(expression("pytest.skip")) == "pytest.skip"
    assert inside.resolve_or_written(expression("pytest.skip")) is None
    assert names.resolve_or_written(expression("f().skip")) is None
