"""mutation-gate running real tox, pytest and coverage on a small project that
tox installs as a wheel (the default), so the tests import the installed copy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hooks import check, mutation_gate
from hooks.mutants import mutants_of_file
from tests.helpers import add, commit, write
from tests.subprocess_pytest import TEST_RUNNING_PYTEST

TOX_INI = """\
[tox]
env_list = py

[testenv]
deps =
    pytest
    coverage
commands = coverage run -m pytest {posargs:tests}
"""
PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "calc"
version = "0"

[tool.setuptools]
packages = ["calc"]
"""
OPS = "def add(a, b):\n    return a + b\n"
TEST_OPS = "from calc.ops import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"
NARROW = '\n\ndef narrow(width):\n    if width < 40:\n        return "narrow"\n    return "wide"\n'
WEAK_TEST = (
    "from calc.ops import narrow\n\n\ndef test_narrow():\n"
    '    assert narrow(10) == "narrow"\n    assert narrow(50) == "wide"\n'
)
CHECKING_TEST = (
    WEAK_TEST + '    assert narrow(40) == "wide"\n    assert narrow(39) == "narrow"\n'
)
SURVIVOR = (
    "calc/ops.py:6: mutant survived: `width < 40` -> `width <= 40` (ran 1 test: "
    "tests/test_narrow.py::test_narrow); add a test that fails when this line is wrong"
)


@pytest.fixture
def project(repo, use_tox) -> Path:
    files = {
        "tox.ini": TOX_INI,
        "pyproject.toml": PYPROJECT,
        "calc/__init__.py": "",
        "calc/ops.py": OPS,
        "tests/test_ops.py": TEST_OPS,
        # imported before pytest_configure, as a real project's conftest does
        "tests/conftest.py": "import calc.ops  # noqa: F401\n",
    }
    for path, text in files.items():
        write(path, text)
    add(".")
    commit("project")
    return repo


def stage(files: dict[str, str]) -> None:
    for path, text in files.items():
        write(path, text)
        add(path)


def test_weak_test_is_blocked_with_the_surviving_mutant(project, capfd, tmp_path):
    stage({"calc/ops.py": OPS + NARROW, "tests/test_narrow.py": WEAK_TEST})

    assert mutation_gate.main(["--json", str(tmp_path / "results.json")]) == 1

    output = capfd.readouterr().out
    assert SURVIVOR in output
    assert (
        "mutation score: 66.67% of the staged change: 2 of 3 mutants killed" in output
    )
    assert "(fail-under 80%) TOO LOW" in output
    verdicts = {
        entry["line"]: entry["verdict"]
        for entry in json.loads((tmp_path / "results.json").read_text())["mutants"]
    }
    assert verdicts == {6: "survived", 7: "killed", 8: "killed"}


def test_check_mutate_reports_survivors_of_a_range_as_findings(project, capsys):
    base = commit("nothing yet")
    stage({"calc/ops.py": OPS + NARROW, "tests/test_narrow.py": WEAK_TEST})
    commit("narrow, weakly tested")

    weak = check.main(["--from-ref", base, "--mutate", "--format", "json"])

    captured = capsys.readouterr()
    findings = [json.loads(line) for line in captured.out.splitlines()]
    assert weak == 1
    assert [(f["rule"], f["path"], f["line"]) for f in findings] == [
        ("mutant-survived", "calc/ops.py", 6),
        ("score-too-low", "", None),
    ]
    assert findings[0]["message"] == SURVIVOR.partition("calc/ops.py:6: ")[2]
    assert "mutation score: 66.67%" in captured.err  # progress goes to stderr

    stage({"tests/test_narrow.py": CHECKING_TEST})
    commit("narrow, checked at its boundary")

    assert check.main(["--from-ref", base, "--mutate"]) == 0
    assert capsys.readouterr().out == "testwarden check: nothing blocks\n"


def test_the_same_change_with_a_checking_test_passes(project, capfd):
    stage({"calc/ops.py": OPS + NARROW, "tests/test_narrow.py": CHECKING_TEST})

    assert mutation_gate.main([]) == 0

    output = capfd.readouterr().out
    assert "mutant survived" not in output
    assert "100.00% of the staged change: 3 of 3 mutants killed" in output


XDIST_ENV = """
[testenv:xdist]
deps =
    pytest
    pytest-xdist
commands = pytest -n 2 {posargs:tests}
"""


def test_a_tox_command_running_xdist_workers_is_judged_in_one_session(project, capfd):
    stage(
        {
            "tox.ini": TOX_INI + XDIST_ENV,
            "calc/ops.py": OPS + NARROW,
            "tests/test_narrow.py": WEAK_TEST,
        }
    )

    assert mutation_gate.main(["-e", "xdist"]) == 1

    output = capfd.readouterr().out
    assert SURVIVOR in output
    assert "66.67% of the staged change: 2 of 3 mutants killed" in output


def test_a_test_running_pytest_in_a_subprocess_gets_no_mutation_plugin(project, capfd):
    stage(
        {
            "calc/ops.py": OPS + NARROW,
            "tests/test_narrow.py": CHECKING_TEST,
            "tests/test_subprocess.py": TEST_RUNNING_PYTEST,
        }
    )

    assert mutation_gate.main([]) == 0

    assert "3 of 3 mutants killed" in capfd.readouterr().out


def test_an_equivalent_mutant_is_accepted_with_its_comment(project, capfd):
    allowed = NARROW.replace(
        "if width < 40:",
        'if width < 40:  # testwarden: allow-survivor reason="40 never occurs"',
    )
    stage({"calc/ops.py": OPS + allowed, "tests/test_narrow.py": WEAK_TEST})

    assert mutation_gate.main([]) == 0

    output = capfd.readouterr().out
    assert (
        "calc/ops.py:6: mutant accepted as equivalent: `width < 40` -> `width <= 40` "
        "(40 never occurs)" in output
    )
    assert "2 of 2 mutants killed" in output


LOOP = "\n\ndef count(n):\n    i = 0\n    while i < n:\n        i += 1\n    return i\n"
IMPORT_TIME = '\n\nLIMITS = {"narrow": 40}\nNARROW = LIMITS["narrow"]\n'


def test_a_looping_mutant_times_out_and_a_broken_import_is_killed(project, capfd):
    stage(
        {
            "calc/ops.py": OPS + LOOP + IMPORT_TIME,
            "tests/test_count.py": "from calc import ops\n\n\ndef test_count():\n"
            "    assert ops.count(3) == 3\n    assert ops.count(0) == 0\n"
            "    assert ops.NARROW == 40\n",
        }
    )

    assert mutation_gate.main([]) == 0

    output = capfd.readouterr().out
    assert "mutant survived" not in output, output
    assert "6 of 6 mutants killed, 1 by timeout, 2 by a broken import" in output


# A reload of kinds alone breaks test_default (its Kind is the old class),
# though nothing checks LIMIT; TABLE is computed at import by a function of
# ops, which a reload of ops does not compute again.
KINDS = "class Kind:\n    pass\n\n\nDEFAULT = Kind()\nLIMIT = 40\n"
LIMIT = "\n\ndef limit():\n    return 40\n"
TABLE = "from calc.ops import limit\n\nTABLE = [limit()]\n"
IMPORT_TIME_TESTS = (
    "from calc import kinds\nfrom calc.kinds import Kind\nfrom calc.table import TABLE"
    "\n\n\ndef test_default():\n    assert isinstance(kinds.DEFAULT, Kind)\n"
    "\n\ndef test_table():\n    assert TABLE == [40]\n"
)


def test_mutants_of_import_time_code_are_judged_in_a_pytest_process_of_their_own(
    project, capfd
):
    stage(
        {
            "calc/ops.py": OPS + LIMIT,
            "calc/kinds.py": KINDS,
            "calc/table.py": TABLE,
            "tests/test_import_time.py": IMPORT_TIME_TESTS,
        }
    )

    assert mutation_gate.main([]) == 1

    output = capfd.readouterr().out
    survivors = [line for line in output.splitlines() if "mutant survived" in line]
    assert [line.split(":")[0:2] for line in survivors] == [["calc/kinds.py", "6"]]
    assert "`40` -> `41`" in survivors[0], output


# The module's environment (same deps: tox reuses it), another command.
NO_CACHE_TOX_INI = TOX_INI.replace(
    "commands = coverage run -m pytest {posargs:tests}",
    "commands = pytest -p no:cacheprovider -W error::pytest.PytestConfigWarning "
    "{posargs:tests}",
)


def test_import_time_mutants_are_judged_in_a_session_without_pytests_cache(
    project, capfd
):
    stage(
        {
            "tox.ini": NO_CACHE_TOX_INI,
            "calc/ops.py": OPS + LIMIT,
            "calc/kinds.py": KINDS,
            "calc/table.py": TABLE,
            "tests/test_import_time.py": IMPORT_TIME_TESTS,
        }
    )

    assert NO_CACHE_TOX_INI != TOX_INI
    assert mutation_gate.main([]) == 1

    output = capfd.readouterr().out
    survivors = [line for line in output.splitlines() if "mutant survived" in line]
    assert [line.split(":")[0:2] for line in survivors] == [["calc/kinds.py", "6"]]
    assert "not judged" not in output, output


# The tox idiom `--basetemp={envtmpdir}`: every pytest process started with
# it empties that directory when a test first asks for tmp_path.
BASETEMP_TOX_INI = TOX_INI.replace(
    "commands = coverage run -m pytest {posargs:tests}",
    "commands = pytest --basetemp={envtmpdir}/basetemp {posargs:tests}",
)
SIZES = "WIDTH = 40\nHEIGHT = 20\n"
# Nothing checks the sizes: both mutants must survive. In a mutant's own
# process (a size is not as written), the test keeps a file in tmp_path until
# the other mutant's process has its tmp_path too (each marks its arrival in
# ARRIVED), then reads the file back.
KEEPS_ITS_TMP_PATH = """\
import time
from pathlib import Path

from calc import sizes


def test_a_file_in_tmp_path_stays(tmp_path):
    mine = f"{sizes.WIDTH}x{sizes.HEIGHT}"
    kept = tmp_path / "kept.txt"
    kept.write_text(mine)
    if mine != "40x20":  # a mutant's own process
        arrived = Path(ARRIVED)
        arrived.mkdir(exist_ok=True)
        (arrived / mine).touch()
        deadline = time.monotonic() + 20
        while len(list(arrived.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert kept.read_text() == mine
"""


def test_import_time_mutants_judged_at_once_keep_their_own_tmp_path(
    project, capfd, tmp_path
):
    arrived = tmp_path / "arrived"
    test = f"ARRIVED = {str(arrived)!r}\n{KEEPS_ITS_TMP_PATH}"
    stage(
        {
            "tox.ini": BASETEMP_TOX_INI,
            "calc/sizes.py": SIZES,
            "tests/test_sizes.py": test,
        }
    )

    assert BASETEMP_TOX_INI != TOX_INI
    assert mutation_gate.main(["--jobs", "2"]) == 1

    output = capfd.readouterr().out
    survivors = [line for line in output.splitlines() if "mutant survived" in line]
    assert [line.split(":")[0:2] for line in survivors] == [
        ["calc/sizes.py", "1"],
        ["calc/sizes.py", "2"],
    ], output
    assert len(list(arrived.iterdir())) == 2  # both ran in a process of their own


REFUSES_EXITFIRST = (
    "import calc.ops  # noqa: F401\n\n\n"
    "def pytest_sessionstart(session):\n"
    "    if session.config.option.maxfail == 1:\n"
    "        raise RuntimeError('this suite does not run with --exitfirst')\n"
)


def test_a_mutant_that_cannot_be_judged_fails_the_gate(project, capfd):
    # its own pytest process stops at the first failure: this suite refuses
    base = commit("nothing yet")
    stage(
        {
            "calc/kinds.py": KINDS,
            "tests/conftest.py": REFUSES_EXITFIRST,
            "tests/test_kinds.py": "from calc import kinds\n\n\ndef test_limit():\n"
            "    assert kinds.LIMIT == 40\n",
        }
    )

    assert mutation_gate.main([]) == 1

    output = capfd.readouterr().out
    assert (
        "calc/kinds.py:6: mutant not judged: running `41` failed outside the tests"
        in output
    )
    assert (
        "mutation-gate: 1 mutant(s) not judged: the gate cannot vouch for their lines"
        in output
    )

    commit("a constant, under a suite that refuses --exitfirst")
    assert check.main(["--from-ref", base, "--mutate", "--format", "json"]) == 1
    findings = [json.loads(line) for line in capfd.readouterr().out.splitlines()]
    assert [(f["rule"], f["path"], f["line"]) for f in findings] == [
        ("mutant-not-judged", "calc/kinds.py", 6)
    ]


def test_a_change_no_test_executes_mutates_nothing(project, capfd):
    stage({"calc/ops.py": OPS + NARROW})

    assert mutation_gate.main([]) == 0

    output = capfd.readouterr().out
    assert "3 line(s) no test executed, not mutated: calc/ops.py:6" in output
    assert "no mutant to judge in the staged change" in output


def test_all_files_names_the_lines_no_test_executes_without_calling_them_changed(
    project, capfd
):
    stage({"calc/ops.py": OPS + NARROW})
    commit("narrow, untested")

    assert mutation_gate.main(["--all-files"]) == 0

    output = capfd.readouterr().out
    assert "3 line(s) no test executed, not mutated: calc/ops.py:6" in output
    assert "changed line" not in output


def test_failing_tests_fail_the_gate_before_any_mutant(project, capfd):
    stage(
        {
            "calc/ops.py": OPS + NARROW,
            "tests/test_narrow.py": WEAK_TEST.replace('== "wide"', '== "narrow"'),
        }
    )

    assert mutation_gate.main([]) == 1

    assert "the tests fail without any mutant; fix them first" in capfd.readouterr().out

    failing = commit("the failing test, past the hooks")
    assert (
        check.main(["--from-ref", f"{failing}~1", "--mutate", "--format", "json"]) == 1
    )
    [finding] = [json.loads(line) for line in capfd.readouterr().out.splitlines()]
    assert (finding["rule"], finding["path"]) == ("tests-failed", "")


def test_list_prints_the_mutants_and_runs_nothing(project, capfd):
    stage({"calc/ops.py": OPS + NARROW})

    assert mutation_gate.main(["--list"]) == 0

    assert capfd.readouterr().out.splitlines()[1:] == [
        "calc/ops.py:6: comparison-boundary: `width < 40` -> `width <= 40`",
        'calc/ops.py:7: return-none: `return "narrow"` -> `return None`',
        'calc/ops.py:8: return-none: `return "wide"` -> `return None`',
        "mutation-gate: 3 mutant(s); none run (--list)",
    ]


def test_shards_split_the_mutants_and_their_results_merge(project, capfd, tmp_path):
    stage({"calc/ops.py": OPS + NARROW, "tests/test_narrow.py": WEAK_TEST})
    shards = [tmp_path / f"shard{k}.json" for k in (1, 2)]
    listed = []
    for k, shard in enumerate(shards, start=1):
        mutation_gate.main(["--shard", f"{k}/2", "--json", str(shard)])
        listed.append(
            {entry["key"] for entry in json.loads(shard.read_text())["mutants"]}
        )
    capfd.readouterr()

    assert not listed[0] & listed[1]
    assert len(listed[0] | listed[1]) == 3
    assert mutation_gate.main(["--merge", *map(str, shards)]) == 1
    output = capfd.readouterr().out
    assert SURVIVOR in output
    assert "2 of 3 mutants killed" in output


def test_a_bad_shard_is_a_one_line_error(project, capsys):
    with pytest.raises(SystemExit):
        mutation_gate.main(["--shard", "3/2"])

    assert "'3/2' is not a shard; write K/N" in capsys.readouterr().err


@pytest.mark.parametrize(
    "source",
    [
        "import logging\nlogger = logging.getLogger()\nlogger.info('a %s', 1 + 2)\n",
        "print(1 < 2)\n",
        "import warnings\nwarnings.warn('x' * 2)\n",
        "def f(x: int) -> int:\n    '''doc'''\n    raise NotImplementedError\n",
        "class A:\n    def __repr__(self):\n        return 'A' + str(1)\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    X = 1 + 2\n",
        "__all__ = ['f']\n__version__ = '1'\n",
        "def f():  # pragma: no cover\n    return 1 + 2\n",
    ],
)
def test_arid_code_gets_no_mutant(source):
    mutants = mutants_of_file(
        "a.py", source, None, [r"#\s*(pragma|PRAGMA)[:\s]?\s*(no|NO)\s*(cover|COVER)"]
    )

    assert [mutant.describe() for mutant in mutants] == []


def test_all_files_lists_every_line_within_the_budget(project, capfd):
    write(
        "pyproject.toml",
        PYPROJECT + "\n[tool.testwarden.mutation-gate]\nmax-mutants = 2\n",
    )
    write("calc/ops.py", OPS + NARROW)
    add(".")
    commit("narrow")

    assert mutation_gate.main(["--all-files", "--list"]) == 0

    output = capfd.readouterr().out
    assert "mutation-gate: 2 mutant(s); none run (--list)" in output
    assert "checking all tracked files" in output


def test_a_changed_file_that_does_not_parse_is_a_one_line_error(project, capsys):
    stage({"calc/ops.py": OPS + "def broken(:\n"})

    assert mutation_gate.main(["--list"]) == 2

    assert "calc/ops.py:3: does not parse" in capsys.readouterr().err


def test_results_that_are_not_ours_do_not_merge(tmp_path, capsys):
    stray = tmp_path / "stray.json"
    stray.write_text('{"format": 99}')

    assert mutation_gate.main(["--merge", str(stray)]) == 2

    assert "stray.json: not mutation-gate results" in capsys.readouterr().err


def test_merged_results_take_the_fail_under_given(tmp_path, capsys):
    results = {
        "format": 1,
        "compared_with": "the staged change",
        "fail_under": 80,
        "mutants": [
            {
                "key": "calc/ops.py:6:7:comparison-boundary",
                "path": "calc/ops.py",
                "line": 6,
                "operator": "comparison-boundary",
                "original": "width < 40",
                "mutated": "width <= 40",
                "verdict": "survived",
                "tests": ["tests/test_narrow.py::test_narrow"],
                "allowed": None,
            },
            {
                "key": "calc/ops.py:7:8:return-none",
                "path": "calc/ops.py",
                "line": 7,
                "operator": "return-none",
                "original": 'return "narrow"',
                "mutated": "return None",
                "verdict": "timeout",
                "tests": ["tests/test_narrow.py::test_narrow"],
                "allowed": None,
            },
        ],
    }
    shard = tmp_path / "shard.json"
    shard.write_text(json.dumps(results))

    assert mutation_gate.main(["--merge", str(shard), "--fail-under", "50"]) == 0

    output = capsys.readouterr().out
    assert "50.00% of the staged change: 1 of 2 mutants killed, 1 by timeout" in output
    assert "(fail-under 50%) ok" in output
