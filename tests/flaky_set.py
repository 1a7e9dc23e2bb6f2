"""Real flaky tests, one per cause of issue 18, each with a stable twin.

Every flaky file passes when pytest runs it alone in file order (so a first
run lets it in) and fails in some other run: another order, a second run,
another second of the clock, another random draw or another PYTHONHASHSEED.
Its twin tests the same thing without the dependency and passes every time.
Used by tests/stress_new_test.py and bench/stress_new.py.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cause:
    name: str
    flaky_path: str
    flaky_source: str
    flaky_test: str  # the node id that must be reported
    stable_path: str
    stable_source: str
    # Fails in a share of runs whatever their order: detection is a matter of luck.
    by_chance: bool = False


CAUSES = (
    Cause(
        "module state, order dependence",
        "tests/test_registry.py",
        "REGISTRY = {}\n\n\n"
        "def register(name):\n    REGISTRY[name] = True\n\n\n"
        "def test_registry_starts_empty():\n    assert REGISTRY == {}\n\n\n"
        "def test_register_adds_the_name():\n"
        "    register('plugin')\n    assert REGISTRY == {'plugin': True}\n",
        "tests/test_registry.py::test_registry_starts_empty",
        "tests/test_registry_stable.py",
        "import pytest\n\nREGISTRY = {}\n\n\n"
        "def register(name):\n    REGISTRY[name] = True\n\n\n"
        "@pytest.fixture(autouse=True)\ndef empty_registry():\n"
        "    REGISTRY.clear()\n    yield\n    REGISTRY.clear()\n\n\n"
        "def test_registry_starts_empty():\n    assert REGISTRY == {}\n\n\n"
        "def test_register_adds_the_name():\n"
        "    register('plugin')\n    assert REGISTRY == {'plugin': True}\n",
    ),
    Cause(
        "leftover file in a shared directory",
        "tests/test_export.py",
        "from pathlib import Path\n\n"
        "SHARED = Path(__file__).resolve().parent.parent / 'build'\n\n\n"
        "def test_export_writes_a_new_report():\n"
        "    SHARED.mkdir(exist_ok=True)\n"
        "    report = SHARED / 'report.txt'\n"
        "    assert not report.exists()\n"
        "    report.write_text('total: 3\\n')\n",
        "tests/test_export.py::test_export_writes_a_new_report",
        "tests/test_export_stable.py",
        "def test_export_writes_a_new_report(tmp_path):\n"
        "    report = tmp_path / 'report.txt'\n"
        "    assert not report.exists()\n"
        "    report.write_text('total: 3\\n')\n",
    ),
    Cause(
        "time.time() boundary",
        "tests/test_token.py",
        "import time\n\n\n"
        "def expires_at(issued):\n    return int(issued) + 1\n\n\n"
        "def test_token_lives_at_least_half_a_second():\n"
        "    issued = time.time()\n"
        "    assert expires_at(issued) - issued > 0.5\n",
        "tests/test_token.py::test_token_lives_at_least_half_a_second",
        "tests/test_token_stable.py",
        "def expires_at(issued):\n    return int(issued) + 1\n\n\n"
        "def test_token_lives_at_least_half_a_second():\n"
        "    issued = 1_700_000_000.25\n"
        "    assert expires_at(issued) - issued > 0.5\n",
        by_chance=True,
    ),
    Cause(
        "unseeded randomness",
        "tests/test_draw.py",
        "import random\n\n\n"
        "def pick_winner(names):\n    return random.choice(names)\n\n\n"
        "def test_pick_winner():\n"
        "    assert pick_winner(['ada', 'bob']) == 'ada'\n",
        "tests/test_draw.py::test_pick_winner",
        "tests/test_draw_stable.py",
        "import random\n\n\n"
        "def pick_winner(names, draw):\n    return draw.choice(names)\n\n\n"
        "def test_pick_winner():\n"
        "    expected = random.Random(7).choice(['ada', 'bob'])\n"
        "    assert pick_winner(['ada', 'bob'], random.Random(7)) == expected\n",
        by_chance=True,
    ),
    Cause(
        "set order across processes (PYTHONHASHSEED)",
        "tests/test_tags.py",
        "def tags(text):\n    return set(text.split())\n\n\n"
        "def test_tags_keep_their_order():\n"
        "    assert list(tags('red green')) == ['red', 'green']\n",
        "tests/test_tags.py::test_tags_keep_their_order",
        "tests/test_tags_stable.py",
        "def tags(text):\n    return set(text.split())\n\n\n"
        "def test_tags_keep_their_order():\n"
        "    assert sorted(tags('red green')) == ['green', 'red']\n",
    ),
    Cause(
        "passes only after another test ran",
        "tests/test_settings.py",
        "_CACHE = {}\n\n\n"
        "def load_settings():\n"
        "    return _CACHE.setdefault('settings', {'debug': False})\n\n\n"
        "def test_load_settings():\n"
        "    assert load_settings() == {'debug': False}\n\n\n"
        "def test_settings_are_cached():\n"
        "    assert _CACHE['settings']['debug'] is False\n",
        "tests/test_settings.py::test_settings_are_cached",
        "tests/test_settings_stable.py",
        "_CACHE = {}\n\n\n"
        "def load_settings():\n"
        "    return _CACHE.setdefault('settings', {'debug': False})\n\n\n"
        "def test_load_settings():\n"
        "    assert load_settings() == {'debug': False}\n\n\n"
        "def test_settings_are_cached():\n"
        "    assert load_settings() is load_settings()\n",
    ),
)
