from __future__ import annotations

from hooks.allow_comments import allow_comments

SOURCE = """\
import pytest

a = 1  # testwarden: allow-skip reason="vendor bug"
b = 2  # testwarden: allow-skip reason='single quoted'
c = 3  # testwarden: allow-skip
d = 4  # testwarden: allow-skip reason="   "
e = 5  # noqa  # testwarden: allow-skip reason="second comment"
f = "# testwarden: allow-skip reason='inside a string'"
# each `# testwarden: allow-skip` comment needs a reason (prose, not a marker)
g = 7  # testwarden: allow-mock reason="another kind"
"""


def test_real_comments_of_one_kind_with_their_reasons():
    assert allow_comments(SOURCE, "skip") == {
        3: "vendor bug",
        4: "single quoted",
        5: "",
        6: "",
        7: "second comment",
    }
    assert allow_comments(SOURCE, "mock") == {10: "another kind"}


def test_bytes_are_read_in_their_declared_encoding():
    source = (
        b"# -*- coding: latin-1 -*-\nx = 1  # testwarden: allow-mock reason='caf\xe9'\n"
    )

    assert allow_comments(source, "mock") == {2: "caf\u00e9"}


def test_source_python_cannot_tokenize_has_none():
    assert (
        allow_comments('x = """never closed  # testwarden: allow-skip\n', "skip") == {}
    )
