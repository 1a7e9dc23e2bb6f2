from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.helpers import git

# The modules that take longest, slowest first: seconds on 2 cores with --cov,
# from an empty .cache (pytest --durations=0). xdist hands whole modules to its
# workers in collection order (--no-loadscope-reorder in pyproject.toml; its
# default order, most tests first, sent these few-test modules out last, to run
# alone at the end). A module missing here runs after them, in file order;
# the order only decides when a test runs, never what it checks.
SLOWEST_MODULES = (
    "tests/coverage_gate_test.py",  # 116 s
    "tests/conformance/click_tox_hooks_test.py",  # 106 s
    "tests/test_map_test.py",  # 89 s
    "tests/stress_new_test.py",  # 63 s
    "tests/conformance/attrs_guards_test.py",  # 63 s
    "tests/demo_test.py",  # 45 s
    "tests/mutation_gate_test.py",  # 41 s
    "tests/tox_changed_tests_test.py",  # 39 s
    "tests/pre_commit_test.py",  # 33 s
    "tests/change_modes_test.py",  # 33 s
    "tests/conformance/real_trees_test.py",  # 27 s
    "tests/isort_black_test.py",  # 22 s
    "tests/self_check_test.py",  # 20 s
    "tests/pytest_collection_test.py",  # 16 s
)


def pytest_collection_modifyitems(items) -> None:
    """The slowest modules first, so that both workers finish together."""
    place = {module: rank for rank, module in enumerate(SLOWEST_MODULES)}
    items.sort(key=lambda item: place.get(item.nodeid.split("::")[0], len(place)))


@pytest.fixture(scope="session")
def download_cache(project_root) -> Path:
    """pip's and virtualenv's caches, shared by every test and worker of a run
    (and kept between runs): a tox or pre-commit environment a test creates
    installs from wheels already downloaded or built, not from PyPI again.
    Only downloads live here; every environment is still created afresh."""
    return project_root / ".cache" / "downloads"


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch, tmp_path_factory, download_cache):
    """Every test gets git with a known identity and no user configuration,
    and a cache of its own; nothing a test does reaches the developer's files.
    Downloads are the exception: pip and virtualenv share `download_cache`."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("PIP_CACHE_DIR", str(download_cache / "pip"))
    monkeypatch.setenv(
        "VIRTUALENV_OVERRIDE_APP_DATA", str(download_cache / "virtualenv")
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("TESTWARDEN_CACHE_DIR", str(home / "testwarden-cache"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    for variable in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{variable}_NAME", "Test Author")
        monkeypatch.setenv(f"GIT_{variable}_EMAIL", "test@example.org")
    for variable in (
        "PRE_COMMIT_FROM_REF",
        "PRE_COMMIT_TO_REF",
        "GIT_DIR",
        "GIT_INDEX_FILE",
        # set by our own tox-changed-tests for its selection run: a test's
        # `coverage run` would write there, not into the test's directory
        "COVERAGE_FILE",
        # set when the suite runs inside tox (our own hook) or an activated
        # venv: `poetry run` would use that venv instead of the project's own
        "VIRTUAL_ENV",
    ):
        monkeypatch.delenv(variable, raising=False)
    (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n")


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    """A fresh git repository as the current directory, with no commits."""
    path = tmp_path / "repo"
    path.mkdir()
    monkeypatch.chdir(path)
    git("init", "--quiet")
    return path


@pytest.fixture(scope="session")
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def tox_work_dir(tmp_path_factory) -> Path:
    """One tox work directory per test module: the environment its tox.ini
    describes is created once and reused by the module's tests."""
    return tmp_path_factory.mktemp("tox-work")


@pytest.fixture
def use_tox(tox_work_dir, monkeypatch) -> None:
    """tox and the hooks' console scripts from this interpreter, working in the
    module's tox work directory."""
    monkeypatch.setenv("TOX_WORK_DIR", str(tox_work_dir))
    scripts = Path(sys.executable).parent
    monkeypatch.setenv("PATH", f"{scripts}{os.pathsep}{os.environ['PATH']}")
