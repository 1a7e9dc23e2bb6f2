"""bench/doubles_accuracy.py: which units it labels, and how it scores the hook on them."""

from __future__ import annotations

import ast
import runpy
from pathlib import Path

import pytest

from tests.helpers import write

BENCH = Path(__file__).resolve().parent.parent / "bench" / "doubles_accuracy.py"
# The script's own globals, as `python bench/doubles_accuracy.py` would have them.
bench = runpy.run_path(str(BENCH), run_name="doubles_accuracy")

TEST_FILE = """\
import sys

import pytest

from tool import clock


@pytest.fixture
def entered_password(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: 5)


def build_archive(path):
    return path / "a.tar"


class FakeShelf(dict):
    def close(self):
        pass


shelf = FakeShelf()


class Patcher:
    def __init__(self, monkeypatch):
        monkeypatch.setattr(clock, "now", lambda: 7)


class TestThing:
    def setup_method(self):
        self.value = 1

    def test_one(self, monkeypatch):
        class Keyring:
            def get_password(self, system, user):
                return None

        if True:
            with open(__file__):
                monkeypatch.setitem(sys.modules, "keyring", Keyring())
        sys.modules["other"] = Keyring()
        fake = Keyring()
        monkeypatch.setattr(clock, "now", fake)
"""


def _items(source: str) -> list[str]:
    return [unit.item for unit in bench["units"](ast.parse(source), "t.py")]


def test_units_are_fixtures_helpers_classes_doubles_and_patch_sites():
    assert _items(TEST_FILE) == [
        "fixture:entered_password",
        "patch:entered_password:monkeypatch.setattr(clock, 'now')",
        "helper:build_archive",
        "class:FakeShelf",
        "double:shelf",
        "class:Patcher",
        "patch:Patcher.__init__:monkeypatch.setattr(clock, 'now')",
        "helper:TestThing.setup_method",
        "class:TestThing.test_one.Keyring",
        "patch:TestThing.test_one:monkeypatch.setitem(sys.modules, 'keyring')",
        "patch:TestThing.test_one:sys.modules['other'] =",
        "patch:TestThing.test_one:monkeypatch.setattr(clock, 'now')",
    ]


def test_a_patch_site_holds_the_lines_that_bind_the_value_it_patches_in():
    lines = TEST_FILE.splitlines()
    site = bench["units"](ast.parse(TEST_FILE), "t.py")[-1]
    binding = lines.index("        fake = Keyring()") + 1
    keyring_class = lines.index("        class Keyring:") + 1
    assert site.holds(binding) and site.holds(site.line)
    assert not site.holds(keyring_class)


def test_a_repeated_name_gets_a_number():
    source = "def helper():\n    pass\n\n\ndef helper():\n    pass\n"
    assert _items(source) == ["helper:helper", "helper:helper#2"]


def test_the_hook_run_as_users_do_scores_a_flagged_stub_and_a_missed_class(
    tmp_path: Path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    write("tool/__init__.py", "")
    write("tool/clock.py", "def now():\n    return 0\n")
    write("tests/test_thing.py", TEST_FILE)
    source = (tmp_path / "tests/test_thing.py").read_bytes()
    unit_list = bench["units"](ast.parse(source), "tests/test_thing.py")
    findings = bench["hook_findings"](tmp_path)
    verdicts = {
        unit.item: category
        for unit, category in bench["predictions"](unit_list, findings).items()
    }
    # monkeypatch-stub and hand-written-double are the hand-written-double
    # category; the fixture and the class that hold a patch site are flagged
    # with it, and so are the canned Keyring and the sys.modules injections.
    # FakeShelf, whose only method does nothing, is missed.
    assert verdicts == {
        "fixture:entered_password": bench["DOUBLE"],
        "patch:entered_password:monkeypatch.setattr(clock, 'now')": bench["DOUBLE"],
        "class:Patcher": bench["DOUBLE"],
        "patch:Patcher.__init__:monkeypatch.setattr(clock, 'now')": bench["DOUBLE"],
        "class:TestThing.test_one.Keyring": bench["DOUBLE"],
        "patch:TestThing.test_one:monkeypatch.setitem(sys.modules, 'keyring')": bench[
            "DOUBLE"
        ],
        "patch:TestThing.test_one:sys.modules['other'] =": bench["DOUBLE"],
    }
    labels = {
        ("p", "tests/test_thing.py", "fixture:entered_password"): bench["DOUBLE"],
        ("p", "tests/test_thing.py", "class:FakeShelf"): bench["DOUBLE"],
        ("p", "tests/test_thing.py", "helper:build_archive"): bench["PASS"],
    }
    predicted = {
        ("p", "tests/test_thing.py", item): category
        for item, category in verdicts.items()
    }
    strict, detection = bench["score"](labels, predicted)[bench["DOUBLE"]]
    assert (strict.tp, strict.fp, strict.fn) == (1, 0, 1)
    assert strict.recall() == 0.5 and strict.precision() == 1.0
    assert (detection.tp, detection.fp, detection.fn) == (1, 0, 1)


def test_strict_scoring_counts_the_wrong_category_against_both():
    key = ("p", "f.py", "fixture:x")
    labels = {key: bench["DOUBLE"]}
    predicted = {key: bench["LITERAL"]}
    scores = bench["score"](labels, predicted)
    double_strict, double_detection = scores[bench["DOUBLE"]]
    literal_strict, literal_detection = scores[bench["LITERAL"]]
    assert (double_strict.tp, double_strict.fn) == (0, 1)
    assert literal_strict.fp == 1
    # Detection only asks whether the hook flagged a fabricated unit at all.
    assert double_detection.tp == 1 and literal_detection.fp == 0
    overall_strict, overall_detection = scores["overall"]
    assert (overall_strict.tp, overall_strict.fp, overall_strict.fn) == (0, 1, 1)
    assert (overall_detection.tp, overall_detection.fp, overall_detection.fn) == (
        1,
        0,
        0,
    )


def test_fixture_findings_take_their_category_from_the_evidence():
    output = (
        "tests/a.py:3: fabricated-fixture: fixture `x` fabricates its value with a "
        "mock object; use instead: y\n"
        "tests/a.py:9: fabricated-fixture: fixture `z` returns a literal dict of "
        "placeholder values; use instead: w\n"
        "tests/a.py:12: mocked-service: `responses` ...; use instead: v\n"
        "forbid-mock-data: 3 findings\n"
    )
    categories = [
        (finding.line, finding.category())
        for finding in bench["parse_findings"](output)
    ]
    assert categories == [
        (3, bench["MOCK_OBJECT"]),
        (9, bench["LITERAL"]),
        (12, bench["FAKE_LIBRARY"]),
    ]


def test_a_hook_run_that_fails_stops_the_bench_instead_of_scoring_misses(
    tmp_path: Path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    write("tests/test_thing.py", TEST_FILE)
    write("pyproject.toml", "[tool.testwarden.forbid-mock-data]\nno-such-key = 1\n")

    with pytest.raises(SystemExit) as stopped:
        bench["hook_findings"](tmp_path)

    assert f"{tmp_path.name}: forbid-mock-data failed:" in str(stopped.value)
