"""pytest's collection rules read from git, checked against real pytest runs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hooks.errors import UserError
from hooks.pytest_collection import read_ignore_lists, rules_of_tree
from tests.helpers import add, commit, write

A_TEST = "def test_it():\n    pass\n"


def tree(files: dict[str, str]) -> None:
    for path, text in files.items():
        write(path, textwrap.dedent(text))
    add(".")
    commit("tree")


def hook_collects(root: Path) -> set[str]:
    rules = rules_of_tree(root, "HEAD")
    return {path for path in rules.paths if rules.collects(path)}


def pytest_collects(root: Path) -> set[str]:
    """The files real pytest collects from ROOT with no arguments."""
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "--import-mode=importlib",
        ],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert completed.returncode in (0, 5), completed.stdout + completed.stderr
    return {
        line.partition("::")[0]
        for line in completed.stdout.splitlines()
        if "::" in line
    }


SUITE = {
    "tests/check_a.py": A_TEST,
    "tests/test_b.py": A_TEST,
    "other/check_c.py": A_TEST,
    "other/test_d.py": A_TEST,
}
CONFIGURATIONS = {
    "pytest.ini": (
        "pytest.ini",
        "[pytest]\ntestpaths = tests\npython_files = check_*.py\n",
    ),
    ".pytest.ini": (
        ".pytest.ini",
        "[pytest]\ntestpaths = tests\npython_files = check_*.py\n",
    ),
    "pytest.toml": (
        "pytest.toml",
        '[pytest]\ntestpaths = ["tests"]\npython_files = ["check_*.py"]\n',
    ),
    "ini_options": (
        "pyproject.toml",
        '[tool.pytest.ini_options]\ntestpaths = ["tests"]\npython_files = "check_*.py"\n',
    ),
    "native [tool.pytest]": (
        "pyproject.toml",
        '[tool.pytest]\ntestpaths = ["tests"]\npython_files = ["check_*.py"]\n',
    ),
    "tox.ini": (
        "tox.ini",
        "[tox]\n\n[pytest]\ntestpaths = tests\npython_files = check_*.py\n",
    ),
    "setup.cfg": (
        "setup.cfg",
        "[metadata]\nname = x\n\n[tool:pytest]\ntestpaths = tests\npython_files =\n    check_*.py\n",
    ),
}


@pytest.mark.parametrize("place", CONFIGURATIONS)
def test_testpaths_and_python_files_from_each_configuration_file(repo, place):
    name, text = CONFIGURATIONS[place]
    tree({**SUITE, name: text})

    assert hook_collects(repo) == pytest_collects(repo) == {"tests/check_a.py"}
    rules = rules_of_tree(repo, "HEAD")
    assert rules.why_not_collected("other/check_c.py").reason.startswith(
        f"other/check_c.py is outside testpaths = tests ({name} ["
    )
    assert rules.why_not_collected("tests/test_b.py").reason.startswith(
        "tests/test_b.py does not match python_files = check_*.py"
    )


def test_without_configuration_pytest_defaults_apply(repo):
    tree({**SUITE, "pyproject.toml": "[project]\nname = 'x'\n"})

    assert (
        hook_collects(repo)
        == pytest_collects(repo)
        == {
            "tests/test_b.py",
            "other/test_d.py",
        }
    )
    reason = rules_of_tree(repo, "HEAD").why_not_collected("tests/check_a.py")
    assert reason.reason == (
        "tests/check_a.py does not match python_files = test_*.py *_test.py "
        "(pytest's default)"
    )
    assert "pytest.ini [pytest]" in reason.fix


@pytest.mark.parametrize(
    "files, source",
    [
        # pytest.ini wins over pyproject.toml, even with an empty [pytest].
        (
            {
                "pytest.ini": "[pytest]\n",
                "pyproject.toml": '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n',
            },
            "pytest.ini [pytest]",
        ),
        # A pytest.ini without [pytest] still is the configuration file.
        (
            {"pytest.ini": "[other]\n", "tox.ini": "[pytest]\ntestpaths = tests\n"},
            "pytest.ini",
        ),
        # tox.ini without [pytest] is passed over for setup.cfg.
        (
            {"tox.ini": "[tox]\n", "setup.cfg": "[tool:pytest]\ntestpaths = tests\n"},
            "setup.cfg [tool:pytest]",
        ),
        # pyproject.toml without pytest settings is passed over for tox.ini.
        (
            {
                "pyproject.toml": "[project]\nname = 'x'\n",
                "tox.ini": "[pytest]\ntestpaths = tests\n",
            },
            "tox.ini [pytest]",
        ),
        # An empty [tool.pytest.ini_options] configures pytest: tox.ini is not read.
        (
            {
                "pyproject.toml": "[tool.pytest.ini_options]\n",
                "tox.ini": "[pytest]\ntestpaths = tests\n",
            },
            "pyproject.toml [tool.pytest.ini_options]",
        ),
    ],
)
def test_the_first_file_that_configures_pytest_wins(repo, files, source):
    tree({**SUITE, **files})

    assert rules_of_tree(repo, "HEAD").settings.source == source
    assert hook_collects(repo) == pytest_collects(repo)


IGNORING_SUITE = {
    "pyproject.toml": """\
        [tool.pytest.ini_options]
        testpaths = ["tests"]
        norecursedirs = ["slow*", ".*"]
        addopts = "-ra --ignore=tests/test_by_option.py --ignore-glob=*/glob_option/*"
        """,
    "tests/conftest.py": """\
        collect_ignore = ["test_listed.py", "listed_dir"]
        collect_ignore_glob = ["*_py2.py"]
        """,
    "tests/test_kept.py": A_TEST,
    "tests/test_listed.py": A_TEST,
    "tests/listed_dir/test_in_dir.py": A_TEST,
    "tests/deep/test_old_py2.py": A_TEST,
    "tests/test_by_option.py": A_TEST,
    "tests/glob_option/test_g.py": A_TEST,
    "tests/slow_suite/test_slow.py": A_TEST,
    "tests/.hidden/test_hidden.py": A_TEST,
    "tests/env/pyvenv.cfg": "home = /usr\n",
    "tests/env/test_venv.py": A_TEST,
    # The nearest conftest.py that sets collect_ignore replaces the outer list.
    "tests/inner/conftest.py": 'collect_ignore = ["test_inner.py"]\n',
    "tests/inner/test_inner.py": A_TEST,
    "tests/inner/test_listed.py": A_TEST,
    "tests/inner/test_other_py2.py": A_TEST,
    "bench/test_bench.py": A_TEST,
}


def test_ignore_rules_match_pytest(repo):
    tree(IGNORING_SUITE)

    assert (
        hook_collects(repo)
        == pytest_collects(repo)
        == {
            "tests/test_kept.py",
            "tests/inner/test_listed.py",
        }
    )
    why = rules_of_tree(repo, "HEAD").why_not_collected
    assert why("tests/test_listed.py").reason == (
        "tests/test_listed.py is excluded by collect_ignore in tests/conftest.py:1"
    )
    assert why("tests/listed_dir/test_in_dir.py").reason == (
        "tests/listed_dir is excluded by collect_ignore in tests/conftest.py:1"
    )
    assert why("tests/inner/test_other_py2.py").reason == (
        "tests/inner/test_other_py2.py is excluded by collect_ignore_glob in "
        "tests/conftest.py:2 ('*_py2.py')"
    )
    assert why("tests/test_by_option.py").reason == (
        "tests/test_by_option.py is excluded by --ignore=tests/test_by_option.py "
        "in addopts (pyproject.toml [tool.pytest.ini_options])"
    )
    assert "--ignore-glob=*/glob_option/*" in why("tests/glob_option/test_g.py").reason
    assert why("tests/slow_suite/test_slow.py").reason.startswith(
        "tests/slow_suite/ matches 'slow*' of norecursedirs = slow* .*"
    )
    assert why("tests/env/test_venv.py").reason == (
        "tests/env/ is a virtualenv (tests/env/pyvenv.cfg)"
    )


def test_without_the_ignore_rules_everything_is_collected(repo):
    suite = {
        path: text
        for path, text in IGNORING_SUITE.items()
        if path
        not in ("pyproject.toml", "tests/conftest.py", "tests/inner/conftest.py")
    }
    tree(
        {
            **suite,
            "pyproject.toml": '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n',
        }
    )

    assert hook_collects(repo) == pytest_collects(repo)
    assert {"tests/test_listed.py", "tests/slow_suite/test_slow.py"} <= hook_collects(
        repo
    )


def test_testpaths_globs_and_files(repo):
    tree(
        {
            "pytest.ini": "[pytest]\ntestpaths = pkg*/tests tests/special.py missing\n",
            "pkg1/tests/test_one.py": A_TEST,
            "pkg2/tests/test_two.py": A_TEST,
            "pkg1/test_top.py": A_TEST,
            "tests/special.py": A_TEST,
            "tests/test_other.py": A_TEST,
        }
    )

    assert (
        hook_collects(repo)
        == pytest_collects(repo)
        == {
            "pkg1/tests/test_one.py",
            "pkg2/tests/test_two.py",
            "tests/special.py",
        }
    )


def test_testpaths_matching_nothing_collect_from_the_root(repo):
    tree({"pytest.ini": "[pytest]\ntestpaths = nowhere\n", "test_root.py": A_TEST})

    assert hook_collects(repo) == pytest_collects(repo) == {"test_root.py"}


def test_conftest_files_pytest_loads(repo):
    tree(
        {
            "pytest.ini": "[pytest]\ntestpaths = tests\n",
            "conftest.py": "",
            "tests/conftest.py": "",
            "tests/unit/conftest.py": "",
            "tests/build/conftest.py": "",
            "bench/conftest.py": "",
            "tests/unit/test_u.py": A_TEST,
        }
    )
    rules = rules_of_tree(repo, "HEAD")

    assert [path for path in sorted(rules.paths) if rules.is_test_file(path)] == [
        "conftest.py",
        "tests/conftest.py",
        "tests/unit/conftest.py",
        "tests/unit/test_u.py",
    ]


def test_ignore_lists_are_read_from_literal_statements_only():
    source = textwrap.dedent("""\
        import sys
        from pathlib import Path

        collect_ignore = ["a.py"]
        collect_ignore += ["b.py"]
        collect_ignore.append("c.py")
        collect_ignore.extend(("d.py", str(Path("e.py"))))
        if sys.version_info < (3, 12):
            collect_ignore.insert(0, "f.py")
        collect_ignore_glob: list[str] = sorted(Path().glob("*.py"))
        def helper():
            collect_ignore.append("not module level")
        """).encode()

    plain, computed = read_ignore_lists("tests/conftest.py", source)

    assert (plain.name, plain.line) == ("collect_ignore", 4)
    assert plain.entries == ("a.py", "b.py", "c.py", "d.py", "f.py")
    assert plain.computed == ("str(Path('e.py'))",)
    assert plain.guarded == {"f.py"}
    assert computed.entries == ()
    assert computed.computed == ("sorted(Path().glob('*.py'))",)
    assert read_ignore_lists("conftest.py", b"def broken(:\n") == ()


def test_an_entry_under_a_condition_counts_and_says_so(repo):
    tree(
        {
            "tests/conftest.py": (
                "import sys\n\nif sys.version_info < (3, 11):\n"
                '    collect_ignore_glob = ["*_py311.py"]\n'
            ),
            "tests/test_new_py311.py": A_TEST,
        }
    )

    reason = rules_of_tree(repo, "HEAD").why_not_collected("tests/test_new_py311.py")
    assert reason.reason == (
        "tests/test_new_py311.py is excluded by collect_ignore_glob in "
        "tests/conftest.py:4 ('*_py311.py') (under a condition: in some environments)"
    )


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("pytest.ini", "[pytest]\n  indented = x\n", "pytest.ini:2: "),
        ("pytest.toml", "[pytest\n", "pytest.toml: invalid TOML: "),
        (
            "pyproject.toml",
            '[tool.pytest]\naddopts = ["-ra"]\n[tool.pytest.ini_options]\naddopts = "-ra"\n',
            "pyproject.toml: [tool.pytest] and [tool.pytest.ini_options] both set",
        ),
        (
            "setup.cfg",
            "[pytest]\ntestpaths = tests\n",
            "setup.cfg: pytest no longer reads",
        ),
        (
            "tox.ini",
            '[pytest]\naddopts = "-ra\n',
            "tox.ini [pytest]: addopts: No closing quotation",
        ),
        (
            "pytest.toml",
            "[pytest]\ntestpaths = 3\n",
            "pytest.toml [pytest]: testpaths must be",
        ),
        ("pytest.ini", b"[pytest]\ntestpaths = \xff\n", "pytest.ini: not UTF-8"),
    ],
)
def test_a_configuration_pytest_cannot_read_is_one_line(repo, name, text, message):
    tree({name: text} if isinstance(text, str) else {})
    if isinstance(text, bytes):
        write(name, text)
        add(name)
        commit("bytes")

    with pytest.raises(UserError) as raised:
        rules_of_tree(repo, "HEAD")

    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_path_patterns_recursive_globs_and_spaced_options_match_pytest(repo):
    tree(
        {
            "pytest.ini": textwrap.dedent("""\
                [pytest]
                testpaths = src/**/tests
                norecursedirs = src/pkg/tests/legacy
                python_files = test_*.py */checks/*.py
                addopts = --ignore src/pkg/tests/test_spaced.py -p no:warnings
                """),
            "src/pkg/tests/test_a.py": A_TEST,
            "src/pkg/tests/checks/anything.py": A_TEST,
            "src/pkg/tests/legacy/test_old.py": A_TEST,
            "src/pkg/tests/test_spaced.py": A_TEST,
            "src/pkg/tests/__pycache__/test_cached.py": A_TEST,
            "src/.hidden/tests/test_hidden.py": A_TEST,
            "src/deep/er/tests/test_deep.py": A_TEST,
            "src/pkg/tests/conftest.py": (
                "import contextlib\n\nwith contextlib.suppress(Exception):\n"
                '    collect_ignore = ["test_nothing.py"]\n'
            ),
        }
    )

    assert (
        hook_collects(repo)
        == pytest_collects(repo)
        == {
            "src/pkg/tests/test_a.py",
            "src/pkg/tests/checks/anything.py",
            "src/deep/er/tests/test_deep.py",
        }
    )
    rules = rules_of_tree(repo, "HEAD")
    assert rules.why_not_collected(
        "src/pkg/tests/__pycache__/test_cached.py"
    ).reason == ("src/pkg/tests/__pycache__ is in __pycache__")
    assert (
        rules.ignore_lists[("src/pkg/tests", "collect_ignore")].guarded == frozenset()
    )


def test_an_absolute_norecursedirs_pattern_and_ignores_set_in_except(repo):
    tree(
        {
            "pytest.ini": f"[pytest]\nnorecursedirs = {repo}/skipped\n",
            "skipped/test_s.py": A_TEST,
            "kept/test_k.py": A_TEST,
            "kept/test_gone.py": A_TEST,
            "kept/conftest.py": (
                "try:\n    import nothing_here\nexcept ImportError:\n"
                '    collect_ignore = ["test_gone.py"]\n'
            ),
        }
    )

    assert hook_collects(repo) == pytest_collects(repo) == {"kept/test_k.py"}
