"""Which tests tox-changed-tests selects, seen through `tox-changed-tests --list`."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from hooks import affected_tests, config, tox_changed_tests
from hooks.pytest_collection import collected_files_of
from tests.helpers import add, commit, git, write

FLAT_PROJECT = {
    "pkg/__init__.py": "",
    "pkg/core.py": "from pkg import util\n\ndef run():\n    return util.value()\n",
    "pkg/util.py": "def value():\n    return 1\n",
    "pkg/other.py": "def other():\n    return 2\n",
    "tests/helpers.py": "from pkg.other import other\n",
    "tests/test_core.py": "from pkg.core import run\n\ndef test_run():\n    assert run() == 1\n",
    "tests/test_other.py": "import helpers\n\ndef test_other():\n    assert helpers.other() == 2\n",
    "tests/api/conftest.py": "",
    "tests/api/test_api.py": "def test_api():\n    pass\n",
    "README.md": "# project\n",
    "tox.ini": "[tox]\n",
}


def project(files: dict[str, str]) -> None:
    for path, text in files.items():
        write(path, text)
    add(".")
    commit("project")


def selection_after(
    capsys, *argv: str, made_with: str = "import graph (no test map recorded yet)"
) -> dict[str, str]:
    """The --list lines as path -> reason; the line saying how the selection was
    made (absent when the whole suite runs) must say MADE_WITH."""
    assert tox_changed_tests.main(["--list", *argv]) == 0
    lines = capsys.readouterr().out.splitlines()
    selection = dict(line.split(": ", 1) for line in lines)
    # The first line says which change the hook looks at, and why.
    assert selection.pop("tox-changed-tests").startswith("checking ")
    assert selection.pop("selected with", made_with) == made_with
    return selection


def change(path: str, text: str = "# changed\n") -> None:
    write(path, text)
    add(path)


def test_changed_test_file_is_selected(repo, capsys):
    project(FLAT_PROJECT)
    change("tests/test_core.py", FLAT_PROJECT["tests/test_core.py"] + "\n")

    assert selection_after(capsys) == {"tests/test_core.py": "changed"}


def test_changed_module_selects_tests_that_import_it_directly_or_not(repo, capsys):
    project(FLAT_PROJECT)
    change("pkg/util.py", "def value():\n    return 2\n")

    assert selection_after(capsys) == {"tests/test_core.py": "imports pkg/util.py"}


def test_changed_helper_selects_tests_through_it(repo, capsys):
    project(FLAT_PROJECT)
    change("pkg/other.py", "def other():\n    return 3\n")

    assert selection_after(capsys) == {"tests/test_other.py": "imports pkg/other.py"}


def test_package_init_reexports_reach_every_importer(repo, capsys):
    project({**FLAT_PROJECT, "pkg/__init__.py": "from pkg.other import other\n"})
    change("pkg/other.py", "def other():\n    return 3\n")

    assert selection_after(capsys) == {
        "tests/test_core.py": "imports pkg/other.py",
        "tests/test_other.py": "imports pkg/other.py",
    }


def test_src_layout(repo, capsys):
    project(
        {
            "src/app/__init__.py": "",
            "src/app/models.py": "from .db import connect\n",
            "src/app/db.py": "def connect():\n    pass\n",
            "tests/test_models.py": "from app.models import connect\n",
            "tests/test_plain.py": "def test_plain():\n    pass\n",
        }
    )
    change("src/app/db.py", "def connect():\n    return 1\n")

    assert selection_after(capsys) == {"tests/test_models.py": "imports src/app/db.py"}


def test_changed_conftest_selects_the_tests_below_it(repo, capsys):
    project(FLAT_PROJECT)
    change("tests/api/conftest.py", "import pytest\n")

    assert selection_after(capsys) == {
        "tests/api/test_api.py": "below the changed tests/api/conftest.py"
    }


def test_module_imported_by_a_conftest_selects_the_tests_below_it(repo, capsys):
    project({**FLAT_PROJECT, "tests/api/conftest.py": "from pkg import other\n"})
    change("pkg/other.py", "def other():\n    return 3\n")

    assert selection_after(capsys) == {
        "tests/api/test_api.py": "imports pkg/other.py",
        "tests/test_other.py": "imports pkg/other.py",
    }


def test_deleted_module_selects_its_importers(repo, capsys):
    project(FLAT_PROJECT)
    git("rm", "--quiet", "pkg/util.py")

    assert selection_after(capsys) == {
        "tests/test_core.py": "imports pkg/util.py",
    }


def test_test_reaching_a_computed_import_is_selected_for_any_source_change(
    repo, capsys
):
    project(
        {
            **FLAT_PROJECT,
            "pkg/plugins.py": "import importlib\n\ndef load(name):\n    return importlib.import_module(name)\n",
            "tests/test_plugins.py": "from pkg.plugins import load\n",
        }
    )
    change("pkg/other.py", "def other():\n    return 3\n")

    assert selection_after(capsys) == {
        "tests/test_other.py": "imports pkg/other.py",
        "tests/test_plugins.py": "reaches pkg/plugins.py:4: imports a computed module name",
    }


@pytest.mark.parametrize(
    "path",
    [
        "tox.ini",
        "pyproject.toml",
        "setup.cfg",
        "poetry.lock",
        "requirements-dev.txt",
        "conftest.py",
    ],
)
def test_configuration_and_dependencies_run_everything(repo, capsys, path):
    project(FLAT_PROJECT)
    change(path, "\n")

    assert selection_after(capsys) == {
        "whole suite": f"{path} changed: it configures how tests run"
    }


def test_unknown_file_runs_everything_and_says_how_to_narrow(repo, capsys):
    project(FLAT_PROJECT)
    change("tests/data/input.json", "{}\n")

    [reason] = selection_after(capsys).values()
    assert reason.startswith("tests/data/input.json changed: tests may read it")
    assert "`ignore`" in reason


def test_ignored_file_selects_nothing_and_tox_is_not_started(repo, capsys):
    project(FLAT_PROJECT)
    change("README.md", "# new title\n")

    # A runner that does not exist: starting tox would fail with exit 2.
    assert tox_changed_tests.main(["--runner", "/nonexistent/tox"]) == 0

    assert capsys.readouterr().out == (
        "tox-changed-tests: checking the staged change (no file names passed)\n"
        "tox-changed-tests: no tests affected by the staged change\n"
    )


def test_module_no_test_imports_is_reported(repo, capsys):
    project({**FLAT_PROJECT, "scripts/release.py": "print('release')\n"})
    change("scripts/release.py", "print('released')\n")

    assert selection_after(capsys) == {
        "scripts/release.py": "selects nothing: no test imports it"
    }


def test_user_globs_extend_run_everything_and_replace_ignore(repo, capsys):
    project(
        {
            **FLAT_PROJECT,
            "pyproject.toml": "[tool.testwarden.tox-changed-tests]\n"
            'run-all-on = ["fixtures/**"]\nignore = ["tests/data/**"]\n',
        }
    )
    change("fixtures/users.csv", "name\n")
    assert list(selection_after(capsys)) == ["whole suite"]

    git("reset", "--quiet", "--hard")
    change("tests/data/input.json", "{}\n")
    assert selection_after(capsys) == {}

    change("README.md", "# now relevant\n")
    assert list(selection_after(capsys)) == ["whole suite"]


def test_range_mode_selects_what_the_range_changed(repo, capsys):
    project(FLAT_PROJECT)
    base = git("rev-parse", "HEAD").strip()
    change("pkg/other.py", "def other():\n    return 3\n")
    commit("change other")
    change("pkg/util.py", "def value():\n    return 3\n")

    assert selection_after(capsys, "--from-ref", base, "--to-ref", "HEAD") == {
        "tests/test_other.py": "imports pkg/other.py"
    }


def test_renamed_test_file_runs_under_its_new_name(repo, capsys):
    project(FLAT_PROJECT)
    git("mv", "tests/test_core.py", "tests/test_engine.py")

    assert selection_after(capsys) == {"tests/test_engine.py": "changed"}


def test_deleted_file_nothing_imports_is_reported(repo, capsys):
    project({**FLAT_PROJECT, "scripts/release.py": "print('release')\n"})
    git("rm", "--quiet", "scripts/release.py", "tests/api/test_api.py")

    assert selection_after(capsys) == {
        "scripts/release.py": "selects nothing: deleted, and no test imports it",
        "tests/api/test_api.py": "selects nothing: deleted, and no test imports it",
    }


@pytest.mark.parametrize(
    "pyproject, baseline",
    [
        ("", ".testwarden-mock-data-baseline.json"),
        (
            '[tool.testwarden.tox-changed-tests]\nignore = ["*.md"]\n'
            '[tool.testwarden.forbid-mock-data]\nbaseline = "ci/mock-baseline.json"\n',
            "ci/mock-baseline.json",
        ),
        (
            '[tool.testwarden.mock-data]\nbaseline = "ci/mock-baseline.json"\n',
            "ci/mock-baseline.json",
        ),
    ],
    ids=["default", "configured", "configured-under-the-old-name"],
)
def test_the_mock_data_baseline_affects_no_test(repo, capsys, pyproject, baseline):
    project({**FLAT_PROJECT, "pyproject.toml": pyproject, baseline: "{}\n"})
    change(baseline, '{"version": 1}\n')

    assert selection_after(capsys) == {}
    # Nor does it make a recorded test map stale.
    settings = config.load(repo)
    assert affected_tests.test_environment(
        {baseline: "1", "data.csv": "2"}, settings
    ) == {"data.csv": "2"}


# attrs' shape: tests outside testpaths with a configuration of their own, and
# tests the conftest.py keeps from collection.
COLLECTION_RULES_PROJECT = {
    "pyproject.toml": '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n',
    "tox.ini": "[tox]\n",
    "conftest.py": 'collect_ignore = ["tests/test_typing_example.py"]\n',
    "tests/conftest.py": 'collect_ignore_glob = ["*_mypy.py"]\n',
    "src/attr/__init__.py": "",
    "src/attr/converters.py": "def convert(value):\n    return value\n",
    "tests/test_converters.py": (
        "from attr.converters import convert\n\n"
        "def test_convert():\n    assert convert(1) == 1\n"
    ),
    "tests/test_typing_example.py": (
        "from attr.converters import convert\n\n"
        "def test_typed():\n    assert convert(2) == 2\n"
    ),
    "tests/test_plugin_mypy.py": (
        "from attr import converters\n\ndef test_mypy():\n    assert converters\n"
    ),
    "bench/pytest.ini": "[pytest]\nmarkers = only_here\n",
    "bench/test_benchmarks.py": (
        "import pytest\nfrom attr.converters import convert\n\n"
        "@pytest.mark.only_here\ndef test_speed():\n    assert convert(3) == 3\n"
    ),
}


def test_selects_only_what_pytest_collects(repo, capsys):
    project(COLLECTION_RULES_PROJECT)
    change("src/attr/converters.py", "def convert(value):\n    return value * 1\n")

    assert selection_after(capsys) == {
        "tests/test_converters.py": "imports src/attr/converters.py"
    }


def test_the_collected_files_are_the_files_real_pytest_collects(repo):
    project(COLLECTION_RULES_PROJECT)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": "src"},
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    by_pytest = {
        line.partition("::")[0]
        for line in completed.stdout.splitlines()
        if "::" in line
    }

    collected = collected_files_of(config.load(repo), repo, None)

    assert by_pytest == {"tests/test_converters.py"}
    assert {
        path for path in git("ls-files").split() if collected.collects(path)
    } == by_pytest


def test_a_changed_test_file_pytest_does_not_collect_says_why(repo, capsys):
    project(COLLECTION_RULES_PROJECT)
    change("bench/test_benchmarks.py", "def test_speed():\n    pass\n")
    change("tests/test_typing_example.py", "def test_typed():\n    pass\n")

    assert selection_after(capsys) == {
        "bench/test_benchmarks.py": "selects nothing: pytest does not collect it: "
        "bench/test_benchmarks.py is outside testpaths = tests "
        "(pyproject.toml [tool.pytest.ini_options])",
        "tests/test_typing_example.py": "selects nothing: pytest does not collect it: "
        "tests/test_typing_example.py is excluded by collect_ignore in conftest.py:1",
    }


def test_a_computed_collect_ignore_is_named_in_a_note(repo, capsys):
    project(
        {
            **COLLECTION_RULES_PROJECT,
            "tests/conftest.py": (
                "import sys\n\ncollect_ignore_glob = "
                '["*_mypy.py"] if sys.platform else []\n'
            ),
        }
    )
    change("src/attr/converters.py", "def convert(value):\n    return value * 1\n")

    assert selection_after(capsys) == {
        "tests/test_converters.py": "imports src/attr/converters.py",
        "tests/test_plugin_mypy.py": "imports src/attr/converters.py",
        "note": "tests/conftest.py:3: collect_ignore_glob is computed "
        "(['*_mypy.py'] if sys.platform else []); the selection cannot read it and "
        "may name a file it excludes: write it as a list of strings",
    }


def test_test_files_when_set_replace_pytest_rules(repo, capsys):
    project(
        {
            **COLLECTION_RULES_PROJECT,
            "pyproject.toml": COLLECTION_RULES_PROJECT["pyproject.toml"]
            + '\n[tool.testwarden]\ntest-files = ["bench/**"]\n',
        }
    )
    change("src/attr/converters.py", "def convert(value):\n    return value * 1\n")

    assert selection_after(capsys) == {
        "bench/test_benchmarks.py": "imports src/attr/converters.py"
    }
