"""coverage-gate running real tox, coverage.py and diff-cover on small projects."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import coverage
import pytest

from hooks import check, coverage_gate
from hooks.errors import UserError
from hooks.import_graph import module_names
from hooks.tox_runner import checkout_files, load_coverage
from tests.helpers import add, commit, git, stage, write

TOX_INI = """\
[tox]
env_list = py

[testenv]
skip_install = true
deps =
    pytest
    coverage
commands = coverage run -m pytest {posargs:tests}
"""
PYPROJECT = """\
[tool.pytest.ini_options]
pythonpath = ["."]

[tool.coverage.run]
branch = true
"""
OPS = "def add(a, b):\n    return a + b\n"
TEST_OPS = "from calc.ops import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"
SUB = "\n\ndef sub(a, b):\n    if a > b:\n        return a - b\n    return 0\n"
TEST_SUB = (
    "from calc.ops import sub\n\n\ndef test_sub():\n"
    "    assert sub(3, 1) == 2\n    assert sub(1, 3) == 0\n"
)


@pytest.fixture
def project(repo, use_tox) -> Path:
    files = {
        "tox.ini": TOX_INI,
        "pyproject.toml": PYPROJECT,
        "calc/__init__.py": "",
        "calc/ops.py": OPS,
        "tests/test_ops.py": TEST_OPS,
    }
    for path, text in files.items():
        write(path, text)
    add(".")
    commit("project")
    return repo


def test_uncovered_new_code_is_rejected_with_its_lines(project, capfd):
    stage({"calc/ops.py": OPS + SUB})

    assert coverage_gate.main([]) == 1

    output = capfd.readouterr().out
    assert (
        "changed lines covered: 25.00% of the staged change (threshold 87%) TOO LOW"
        in output
    )
    assert (
        "calc/ops.py:6: changed lines 6-8 are not covered; "
        "the file is below threshold (25% of its changed lines covered, "
        "87% needed): add a test that executes them"
    ) in output
    assert "To fix: add tests that execute the changed lines" in output


def test_new_code_with_its_tests_passes(project, capfd):
    stage({"calc/ops.py": OPS + SUB, "tests/test_sub.py": TEST_SUB})

    assert coverage_gate.main([]) == 0

    output = capfd.readouterr().out
    assert "changed lines covered: 100.00%" in output
    assert "total coverage" not in output  # only the affected tests ran


def test_stale_coverage_data_is_not_trusted(project, capfd):
    stage({"calc/ops.py": OPS + SUB, "tests/test_sub.py": TEST_SUB})
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", "-m", "pytest", "-q", "tests"],
        check=True,
        capture_output=True,
    )
    assert Path(".coverage").is_file()
    git("rm", "--quiet", "--cached", "tests/test_sub.py")

    assert coverage_gate.main([]) == 1

    assert "calc/ops.py:6: changed lines 6-8 are not covered" in capfd.readouterr().out


def test_one_uncovered_file_cannot_hide_behind_covered_ones(project, capfd):
    covered = "".join(f"VALUE_{n} = {n}\n" for n in range(30))
    stage(
        {
            "calc/constants.py": covered,
            "tests/test_constants.py": "from calc import constants\n\n\n"
            "def test_constants():\n    assert constants.VALUE_3 == 3\n",
            "calc/ops.py": OPS + "\n\ndef unused():\n    return 1\n",
        }
    )

    assert coverage_gate.main([]) == 1

    output = capfd.readouterr().out
    assert (
        "changed lines covered: 97.00% of the staged change (threshold 87%) ok"
        in output
    )
    assert (
        "calc/ops.py:6: changed line 6 is not covered; "
        "the file is below threshold (50% of its changed lines covered, "
        "87% needed): add a test that executes it"
    ) in output


def test_changed_file_no_test_executes_is_not_measured(project, capfd):
    stage(
        {"calc/orphan.py": "def orphan():\n    return 1\n", "README.md": "# readme\n"}
    )

    assert coverage_gate.main([]) == 1

    output = capfd.readouterr().out
    assert "no test is affected by the staged change" in output
    assert "calc/orphan.py: not measured: no test executed this changed file" in output


def test_omitted_files_need_no_measurement(project, capfd):
    write("pyproject.toml", PYPROJECT + 'omit = ["calc/generated.py"]\n')
    add("pyproject.toml")
    commit("omit generated code")
    stage({"calc/generated.py": "TABLE = [1, 2, 3]\n"})

    assert coverage_gate.main([]) == 0


def test_files_outside_source_or_include_need_no_measurement(project, capfd):
    write(
        "pyproject.toml",
        PYPROJECT
        + 'source = ["calc"]\n\n[tool.coverage.report]\ninclude = ["*/calc/*"]\n',
    )
    add("pyproject.toml")
    commit("measure calc only")
    stage({"scripts/release.py": "print('release')\n", "calc/extra/more.py": "X = 1\n"})

    assert coverage_gate.main([]) == 1

    output = capfd.readouterr().out
    assert "calc/extra/more.py: not measured" in output
    assert "scripts/release.py" not in output


def test_parallel_coverage_data_is_combined(project, capfd):
    write("pyproject.toml", PYPROJECT + "parallel = true\n")
    add("pyproject.toml")
    commit("parallel data")
    stage({"calc/ops.py": OPS + SUB, "tests/test_sub.py": TEST_SUB})

    assert coverage_gate.main([]) == 0

    assert "changed lines covered: 100.00%" in capfd.readouterr().out


def test_range_without_measured_changes_reports_no_changed_lines(project, capfd):
    base = git("rev-parse", "HEAD").strip()
    stage({"docs/index.md": "# docs\n"})
    commit("docs")

    assert coverage_gate.main(["--from-ref", base]) == 0

    output = capfd.readouterr().out
    assert "total coverage: 100.00%" in output
    assert "changed lines" not in output


def test_untracked_module_executed_by_the_tests_is_an_error(project, capsys):
    write("calc/helper.py", "def helper():\n    return 1\n")
    stage({"tests/test_ops.py": TEST_OPS + "\nfrom calc.helper import helper\n"})

    assert coverage_gate.main([]) == 2

    assert capsys.readouterr().err.startswith(
        "testwarden: calc/helper.py: the tests executed this file but git does not track it"
    )


def test_unstaged_edits_to_executed_files_are_an_error(project, capsys):
    stage({"calc/ops.py": OPS + SUB, "tests/test_sub.py": TEST_SUB})
    write("calc/ops.py", OPS + SUB + "\nEXTRA = 1\n")

    assert coverage_gate.main([]) == 2

    assert "calc/ops.py: the tests executed this file as it is in the working tree" in (
        capsys.readouterr().err
    )


def test_whole_suite_total_against_the_threshold_in_a_range(project, capfd):
    base = git("rev-parse", "HEAD").strip()
    stage({"calc/ops.py": OPS + SUB})
    commit("uncovered sub")

    assert coverage_gate.main(["--compare-ref", base, "--diff-fail-under", "0"]) == 1

    output = capfd.readouterr().out
    assert "total coverage: 54.55% (threshold 87%) TOO LOW" in output
    assert "calc/ops.py:6-8: uncovered (25% of its changed lines)" in output
    assert "To fix: add tests for the least covered files" in output


def test_stricter_consumer_threshold_wins(project, capfd):
    write("pyproject.toml", PYPROJECT + "\n[tool.coverage.report]\nfail_under = 99\n")
    add("pyproject.toml")
    commit("strict")

    assert coverage_gate.main(["--all-files", "--fail-under", "50"]) == 0

    assert "total coverage: 100.00% (threshold 99%) ok" in capfd.readouterr().out


def test_range_from_pre_commit_variables_and_markdown(
    project, capfd, monkeypatch, tmp_path
):
    base = git("rev-parse", "HEAD").strip()
    stage({"calc/ops.py": OPS + SUB, "tests/test_sub.py": TEST_SUB})
    commit("covered sub")
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", base)
    monkeypatch.setenv("PRE_COMMIT_TO_REF", "HEAD")
    markdown = tmp_path / "coverage.md"

    assert coverage_gate.main(["--markdown", str(markdown)]) == 0

    assert "total coverage: 100.00% (threshold 87%) ok" in capfd.readouterr().out
    report = markdown.read_text()
    assert "| total | 100.00% | 87% |" in report
    assert "| changed lines | 100.00% | 87% |" in report
    assert "**passed**" in report


def test_markdown_lists_uncovered_files(project, capfd, tmp_path):
    stage({"calc/ops.py": OPS + SUB, "calc/orphan.py": "X = 1\n"})
    markdown = tmp_path / "coverage.md"

    assert coverage_gate.main(["--markdown", str(markdown)]) == 1

    report = markdown.read_text()
    assert "| `calc/ops.py` | 6-8 |" in report
    assert "| `calc/orphan.py` | not measured |" in report
    assert "**failed**" in report


def test_failing_tests_fail_the_gate(project, capfd):
    stage({"calc/ops.py": OPS.replace("a + b", "a - b")})

    assert coverage_gate.main([]) == 1

    assert "the tests failed; coverage is only measured on a passing run" in (
        capfd.readouterr().out
    )


def test_environment_without_coverage_says_what_to_add(project, capsys):
    write("tox.ini", TOX_INI.replace("coverage run -m pytest", "pytest"))
    add("tox.ini")

    assert coverage_gate.main([]) == 2

    error = capsys.readouterr().err
    assert "produced no coverage data" in error
    assert "commands = coverage run -m pytest {posargs}" in error


def test_unknown_compare_ref_is_a_one_line_error(project, capsys):
    assert coverage_gate.main(["--compare-ref", "origin/nowhere"]) == 2

    assert "cannot find the revision 'origin/nowhere'" in capsys.readouterr().err


def test_nothing_to_measure(project, capfd):
    stage({"README.md": "# readme\n"})

    assert coverage_gate.main([]) == 0

    assert "no test is affected by the staged change" in capfd.readouterr().out


@pytest.mark.parametrize(
    ("lines", "expected"),
    [([], ""), ([7], "7"), ([3, 4, 5, 9], "3-5, 9"), ([9, 1, 2], "1-2, 9")],
)
def test_line_ranges(lines, expected):
    assert coverage_gate.line_ranges(lines) == expected


def test_testwarden_check_runs_the_gate_on_the_range(project, capfd):
    base = git("rev-parse", "HEAD").strip()
    stage({"calc/ops.py": OPS + SUB})
    commit("uncovered sub")

    assert check.main(["--from-ref", base, "--run-tests", "--format", "json"]) == 1

    captured = capfd.readouterr()
    findings = [json.loads(line) for line in captured.out.splitlines()]
    assert [
        (finding["rule"], finding["path"], finding["line"]) for finding in findings
    ] == [("total-coverage", "", None), ("uncovered-lines", "calc/ops.py", 6)]
    assert {finding["hook"] for finding in findings} == {"coverage-gate"}
    assert findings[0]["message"] == (
        "total coverage 54.55% is below the threshold of 87%; add tests for the "
        "least covered files (`coverage report --sort=cover` lists them)"
    )
    assert findings[1]["message"].startswith("changed lines 6-8 are not covered;")
    assert "total coverage: 54.55% (threshold 87%) TOO LOW" in captured.err


MUL = "\n\ndef mul(a, b):\n    return a * b\n"


def test_github_annotations_point_at_each_uncovered_range(project, capfd):
    stage({"calc/ops.py": OPS + SUB + MUL, "calc/orphan.py": "X = 1\n"})

    assert coverage_gate.main(["--format", "github"]) == 1

    captured = capfd.readouterr()
    assert captured.out == (
        "::error file=calc/ops.py,line=6,title=coverage-gate%3A uncovered-lines::"
        "changed lines 6-8 are not covered; the file is below threshold (33%25 of "
        "its changed lines covered, 87%25 needed): add a test that executes them\n"
        "::error file=calc/ops.py,line=12,title=coverage-gate%3A uncovered-lines::"
        "changed line 12 is not covered; the file is below threshold (33%25 of "
        "its changed lines covered, 87%25 needed): add a test that executes it\n"
        "::error file=calc/orphan.py,title=coverage-gate%3A not-measured::"
        "not measured: no test executed this changed file; add a test that imports it\n"
    )
    # What the run did, and its totals, go to stderr.
    assert "coverage-gate: checking the staged change" in captured.err
    assert "changed lines covered: 33.00% of the staged change" in captured.err


def test_failed_tests_are_a_finding_about_the_whole_change(project, capfd):
    stage({"calc/ops.py": OPS.replace("a + b", "a - b")})

    assert coverage_gate.main(["--format", "json"]) == 1

    [finding] = [json.loads(line) for line in capfd.readouterr().out.splitlines()]
    assert finding == {
        "hook": "coverage-gate",
        "rule": "tests-failed",
        "path": "",
        "line": None,
        "message": "the tests failed; coverage is only measured on a passing run",
        "commit": None,
    }


POETRY_PYPROJECT = """\
[tool.poetry]
name = "calc"
version = "0.1.0"
description = "a consumer project"
authors = ["Test Author <test@example.org>"]
package-mode = false

[tool.poetry.dependencies]
python = ">=3.11"
"""


def test_poetry_project_is_measured_through_poetry_run_tox(
    project, capfd, monkeypatch, tmp_path
):
    monkeypatch.setenv("POETRY_VIRTUALENVS_PATH", str(tmp_path / "poetry-venvs"))
    monkeypatch.setenv("POETRY_CACHE_DIR", str(tmp_path / "poetry-cache"))
    write("pyproject.toml", POETRY_PYPROJECT + PYPROJECT)
    add("pyproject.toml")
    commit("poetry project")
    stage({"calc/ops.py": OPS + SUB})

    assert coverage_gate.main([]) == 1

    assert (
        "calc/ops.py:6: changed lines 6-8 are not covered; "
        "the file is below threshold (25% of its changed lines covered, "
        "87% needed): add a test that executes them"
    ) in capfd.readouterr().out
    assert (tmp_path / "poetry-venvs").is_dir()  # poetry really ran


INSTALLING_TOX_INI = """\
[tox]
env_list = installed

[testenv:installed]
deps =
    pytest
    coverage
commands = coverage run -m pytest {posargs:tests}
"""
INSTALLED_PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "calc"
version = "0.1.0"

[tool.coverage.run]
branch = true
"""
CLICK_COVERAGE = """\
source = ["calc", "tests"]

[tool.coverage.paths]
source = ["src", "*/site-packages"]
"""
ATTRS_COVERAGE = """\
source_pkgs = ["calc", "calcs"]

[tool.coverage.paths]
source = ["src", ".tox/py*/**/site-packages"]
"""


def installed_project(coverage_settings: str) -> None:
    """A src-layout project that tox installs as a wheel (its default), so the
    tests run, and coverage measures, the copy in the environment's site-packages."""
    files = {
        "tox.ini": INSTALLING_TOX_INI,
        "pyproject.toml": INSTALLED_PYPROJECT + coverage_settings,
        "src/calc/__init__.py": "",
        "src/calc/ops.py": OPS,
        "src/calcs/__init__.py": "from calc.ops import add\n",
        "tests/test_ops.py": TEST_OPS,
    }
    for path, text in files.items():
        write(path, text)
    add(".")
    commit("installed project")


@pytest.fixture
def installed_with_paths(repo, use_tox) -> Path:
    installed_project(CLICK_COVERAGE)
    return repo


@pytest.fixture
def installed_without_paths(repo, use_tox) -> Path:
    installed_project('source = ["calc", "tests"]\n')
    return repo


@pytest.fixture
def installed_with_source_pkgs(repo, use_tox) -> Path:
    installed_project(ATTRS_COVERAGE)
    return repo


def test_installed_copy_is_mapped_by_the_paths_setting(installed_with_paths, capfd):
    stage({"src/calc/ops.py": OPS + SUB, "tests/test_sub.py": TEST_SUB})

    assert coverage_gate.main([]) == 0

    output = capfd.readouterr().out
    assert "changed lines covered: 100.00%" in output
    assert "not measured" not in output


def test_uncovered_change_of_an_installed_copy_names_checkout_lines(
    installed_with_paths, capfd
):
    stage({"src/calc/ops.py": OPS + SUB})

    assert coverage_gate.main([]) == 1

    output = capfd.readouterr().out
    assert "changed lines covered: 25.00%" in output
    assert (
        "src/calc/ops.py:6: changed lines 6-8 are not covered; "
        "the file is below threshold (25% of its changed lines covered, "
        "87% needed): add a test that executes them"
    ) in output
    assert "not measured" not in output


def test_installed_copy_without_paths_is_mapped_to_the_checkout(
    installed_without_paths, capfd
):
    base = git("rev-parse", "HEAD").strip()
    stage({"src/calc/ops.py": OPS + SUB, "tests/test_sub.py": TEST_SUB})
    commit("covered sub")

    assert coverage_gate.main(["--from-ref", base]) == 0

    output = capfd.readouterr().out
    assert "total coverage: 100.00%" in output
    assert "changed lines covered: 100.00%" in output
    assert "not measured" not in output


def test_uncovered_change_without_paths_is_reported_on_the_checkout(
    installed_without_paths, capfd
):
    base = git("rev-parse", "HEAD").strip()
    stage({"src/calc/ops.py": OPS + SUB})
    commit("uncovered sub")

    assert coverage_gate.main(["--compare-ref", base, "--diff-fail-under", "0"]) == 1

    output = capfd.readouterr().out
    assert "total coverage: 54.55% (threshold 87%) TOO LOW" in output
    assert "src/calc/ops.py:6-8: uncovered (25% of its changed lines)" in output
    assert "not measured" not in output


def test_files_outside_source_pkgs_need_no_measurement(
    installed_with_source_pkgs, capfd
):
    stage(
        {
            "src/calc/ops.py": OPS + SUB,
            "tests/test_sub.py": TEST_SUB,
            "tools/release.py": "print('release')\n",
        }
    )

    assert coverage_gate.main([]) == 0

    output = capfd.readouterr().out
    assert "changed lines covered: 100.00%" in output
    assert "not measured" not in output


def test_unexecuted_files_of_source_pkgs_are_reported_with_their_lines(
    installed_with_source_pkgs, capfd
):
    stage(
        {
            "src/calc/ops.py": OPS + SUB,
            "src/calc/extra.py": "def extra():\n    return 1\n",
            "src/calcs/more.py": "MORE = 1\n",
        }
    )

    assert coverage_gate.main([]) == 1

    output = capfd.readouterr().out
    assert (
        "src/calc/ops.py:6: changed lines 6-8 are not covered; "
        "the file is below threshold (25% of its changed lines covered, "
        "87% needed): add a test that executes them"
    ) in output
    # coverage lists the unexecuted files of the source packages the tests imported
    assert (
        "src/calc/extra.py:1: changed lines 1-2 are not covered; "
        "the file is below threshold (0% of its changed lines covered, "
        "87% needed): add a test that executes them"
    ) in output
    assert "src/calcs/more.py: not measured" in output  # calcs: never imported


PATHS_SETTINGS = {
    ".coveragerc": "[paths]\nsource =\n    src\n    */site-packages\n",
    "setup.cfg": "[coverage:paths]\nsource =\n    src\n    */site-packages\n",
    "tox.ini": "[coverage:paths]\nsource =\n    src\n    */site-packages\n",
    "pyproject.toml": '[tool.coverage.paths]\nsource = ["src", "*/site-packages"]\n',
}


def measure_copy(site_packages: Path, data_directory: Path) -> None:
    """Run the tests under coverage against the copy of calc in SITE_PACKAGES."""
    shutil.copytree("src/calc", site_packages / "calc")
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", "--source=calc"]
        + ["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        env={
            **os.environ,
            "PYTHONPATH": str(site_packages),
            "COVERAGE_FILE": str(data_directory / ".coverage"),
        },
        check=True,
        capture_output=True,
    )


@pytest.fixture
def two_packages_named_calc(repo) -> Path:
    """src/calc and legacy/calc: an installed calc/ops.py could be a copy of either."""
    for package in ("src/calc", "legacy/calc"):
        write(f"{package}/__init__.py", "")
        write(f"{package}/ops.py", OPS)
    write("tests/test_ops.py", TEST_OPS)
    add(".")
    commit("two packages named calc")
    return repo


@pytest.mark.parametrize("config_file", sorted(PATHS_SETTINGS))
def test_paths_setting_maps_from_every_coverage_config_file(
    two_packages_named_calc, tmp_path, config_file
):
    write(config_file, PATHS_SETTINGS[config_file])
    add(config_file)
    commit("paths")
    measure_copy(tmp_path / "env" / "site-packages", tmp_path / "data")

    measured = load_coverage(tmp_path / "data", two_packages_named_calc)

    assert sorted(checkout_files(measured.get_data(), two_packages_named_calc)) == [
        "src/calc/__init__.py",
        "src/calc/ops.py",
    ]


def test_copy_of_an_ambiguous_import_path_is_not_mapped(
    two_packages_named_calc, tmp_path
):
    measure_copy(tmp_path / "env" / "site-packages", tmp_path / "data")

    measured = load_coverage(tmp_path / "data", two_packages_named_calc)

    assert checkout_files(measured.get_data(), two_packages_named_calc) == {}
    assert any("site-packages" in path for path in measured.get_data().measured_files())


def test_copy_under_the_tox_directory_is_mapped_by_import_path(repo, tmp_path):
    write("src/calc/__init__.py", "")
    write("src/calc/ops.py", OPS)
    write("tests/test_ops.py", TEST_OPS)
    add(".")
    commit("src layout")
    measure_copy(repo / ".tox" / "py" / "site-packages", tmp_path / "data")

    measured = load_coverage(tmp_path / "data", repo)

    assert sorted(checkout_files(measured.get_data(), repo)) == [
        "src/calc/__init__.py",
        "src/calc/ops.py",
    ]


@pytest.mark.parametrize(
    ("settings", "path", "in_scope"),
    [
        ("[run]\ninclude = calc/*\n", "calc/ops.py", True),
        ("[run]\ninclude = calc/*\n", "scripts/release.py", False),
        ("[report]\ninclude = calc/*\n", "scripts/release.py", False),
        ("[run]\nsource_pkgs = calc\n", "src/calc/ops.py", True),
        ("[run]\nsource_pkgs = calc\n", "src/tools/gen.py", False),
        ("[run]\nsource = calc\n", "src/calc/ops.py", True),  # a package: no calc/
        ("[run]\nsource = src\n", "src/calc/ops.py", True),  # a directory
        ("[run]\nsource = src\n", "tools/gen.py", False),
        ("[run]\nomit = */gen.py\n", "src/tools/gen.py", False),
        ("[report]\nomit = */gen.py\n", "src/tools/gen.py", False),
    ],
)
def test_coverage_decides_which_files_must_be_measured(repo, settings, path, in_scope):
    write(".coveragerc", settings)
    write(path, "X = 1\n")
    configuration = coverage.Coverage(data_file=None).config
    importable_as = module_names(path, {"src/calc"})

    assert coverage_gate.in_coverage_scope(configuration, path, importable_as) is (
        in_scope
    )


def test_data_that_measured_nothing_says_what_to_add(repo, tmp_path):
    write("nothing.py", "pass\n")
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", "--source=absent", "nothing.py"],
        env={**os.environ, "COVERAGE_FILE": str(tmp_path / "data" / ".coverage")},
        check=True,
        capture_output=True,
    )

    with pytest.raises(UserError, match="produced no coverage data"):
        load_coverage(tmp_path / "data", repo)
