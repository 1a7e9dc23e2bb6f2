"""Fixtures of the conformance suite: testwarden installed into real pre-commit
exactly as a user installs it, and real projects' sdists made into consumer
repositories with their own configuration.

Costly things happen once: the hook repository (a one-commit copy of this
checkout) and pre-commit's hook environment (PRE_COMMIT_HOME) once per run,
shared by every xdist worker; the unpacked sdists and the tox environment of
the project the tox hooks run on once per worker.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import sdists

GUARD_HOOKS = (
    "forbid-test-deletion",
    "forbid-skipped-tests",
    "forbid-mock-data",
    "protect-guardrails",
)
TOX_HOOKS = ("tox-changed-tests", "coverage-gate")
# The names pre-commit prints for each hook id (the manifest's `name`).
HOOK_NAMES = {
    "isort-black": "isort-black",
    "tox-changed-tests": "tox-changed-tests",
    "coverage-gate": "coverage-gate",
    "mutation-gate": "mutation-gate",
    "forbid-test-deletion": "forbid test deletion",
    "forbid-skipped-tests": "forbid skipped tests",
    "forbid-mock-data": "forbid mock data",
    "protect-guardrails": "protect guardrails",
}
HOOKS_BY_PROJECT = {
    "click": (*GUARD_HOOKS, *TOX_HOOKS, "mutation-gate"),
    "attrs": GUARD_HOOKS,
    "httpx": ("isort-black", *GUARD_HOOKS),
}
# click's own tox.ini runs pytest without coverage; a user adopting
# coverage-gate adds an environment that measures (and names it for both hooks).
CLICK_TOX_ENV = """
[testenv:testwarden]
deps =
    -r requirements/tests.txt
    coverage
commands = coverage run -m pytest --basetemp={envtmpdir} {posargs}
"""
CLICK_TESTWARDEN_SETTINGS = """
[tool.testwarden.tox-changed-tests]
env = "testwarden"

[tool.testwarden.coverage-gate]
env = "testwarden"
# click 8.1.8's own total is 85.98%: adopting starts at the current total.
fail-under = 85

[tool.testwarden.mutation-gate]
env = "testwarden"
"""
# Fixed identity and dates: the hook repository's commit id depends on its files only.
SESSION_GIT_ENVIRONMENT = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "test@example.org",
    "GIT_AUTHOR_DATE": "2025-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2025-01-01T00:00:00Z",
}
VERDICT_LINE = re.compile(
    r"^(?P<name>[^\n]*?)\.{3,}(?:\(no files to check\))?"
    r"(?P<verdict>Passed|Failed|Skipped)$"
)


def all_files_line(hook_id: str) -> str:
    """The line a hook prints when pre-commit passed it every tracked file."""
    return (
        f"{hook_id}: checking all tracked files "
        "(pre-commit passed every tracked file: --all-files)"
    )


def named_files_line(hook_id: str, count: int) -> str:
    """The line a hook prints for `pre-commit run --files` with COUNT files."""
    return (
        f"{hook_id}: checking {count} named file(s) "
        "(pre-commit passed files outside the staged change: --files)"
    )


def staged_line(hook_id: str) -> str:
    """The start of the line a hook prints in a commit."""
    return f"{hook_id}: checking the staged change ("


def range_line(hook_id: str, before: str, after: str) -> str:
    """The line a hook prints for a range pre-commit sets (pre-push, --from-ref)."""
    return (
        f"{hook_id}: checking {before[:12]}..{after[:12]} "
        "(PRE_COMMIT_FROM_REF: a push or a range)"
    )


def session_git(*args: str, cwd: Path) -> str:
    completed = subprocess.run(
        ("git", *args),
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **SESSION_GIT_ENVIRONMENT},
    )
    assert completed.returncode == 0, f"git {' '.join(args)}: {completed.stderr}"
    return completed.stdout


@dataclass(frozen=True)
class HookRepository:
    path: Path
    rev: str


@pytest.fixture(scope="session")
def run_directory(tmp_path_factory) -> Path:
    """A directory every xdist worker of this run shares (each worker's own
    base temporary directory sits in it); the run's own one without xdist."""
    worker_base = tmp_path_factory.getbasetemp()
    return worker_base.parent if "PYTEST_XDIST_WORKER" in os.environ else worker_base


def built_once(target: Path, build: Callable[[Path], None]) -> Path:
    """TARGET, built by BUILD in the first worker that asks for it; the others
    wait on a file lock for it to be complete, then use it as it is."""
    with open(target.with_name(f"{target.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            partial = target.with_name(f"{target.name}.partial")
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir()
            build(partial)
            partial.rename(target)
    return target


def commit_working_tree(project_root: Path, copy: Path) -> None:
    """The checkout's tracked files, as they are in the working tree, committed
    in COPY: fixed identity and dates make the commit id the same in every run."""
    listing = session_git("ls-files", "-z", cwd=project_root)
    for relative in filter(None, listing.split("\0")):
        source = project_root / relative
        if source.is_file():
            target = copy / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    session_git("init", "--quiet", cwd=copy)
    session_git("add", "--all", cwd=copy)
    session_git("commit", "--quiet", "--no-verify", "-m", "testwarden", cwd=copy)


@pytest.fixture(scope="session")
def hook_repository(project_root, run_directory) -> HookRepository:
    """This checkout committed once in a repository of its own: what pre-commit
    clones and installs. One path for every worker, so that pre-commit, which
    keys its environments on repository and rev, builds one for the run."""
    copy = built_once(
        run_directory / "testwarden-hook-repo",
        lambda partial: commit_working_tree(project_root, partial),
    )
    return HookRepository(copy, session_git("rev-parse", "HEAD", cwd=copy).strip())


@pytest.fixture(scope="session")
def pre_commit_home(run_directory) -> Path:
    """One pre-commit home for the run, shared by every worker: the hook
    environment is built once. pre-commit locks its store while it clones and
    installs, so a worker that asks meanwhile waits for the environment."""
    home = run_directory / "pre-commit-home"
    home.mkdir(exist_ok=True)
    return home


@pytest.fixture(scope="session")
def session_tox_work_dir(tmp_path_factory) -> Path:
    """One tox work directory for the session: click's environment is created once."""
    return tmp_path_factory.mktemp("conformance-tox-work")


@pytest.fixture(scope="session")
def sdist_trees(project_root, tmp_path_factory) -> dict[str, Path]:
    """Each project's sdist, unpacked once; tests copy the tree they change."""
    cache = sdists.cache_directory(project_root)
    unpacked = tmp_path_factory.mktemp("sdists")
    return {
        name: sdists.unpack(sdists.sdist_archive(name, cache), unpacked)
        for name in sdists.SDIST_VERSIONS
    }


@dataclass(frozen=True)
class HookResult:
    verdict: str
    output: str


NOT_RUN = HookResult("not run", "")


def hook_results(stdout: str) -> dict[str, HookResult]:
    """pre-commit's report: hook name -> verdict and what the hook printed."""
    results: dict[str, HookResult] = {}
    name = None
    verdict = ""
    collected: list[str] = []
    for line in stdout.splitlines():
        match = VERDICT_LINE.match(line)
        if match:
            if name is not None:
                results[name] = HookResult(verdict, "\n".join(collected))
            name, verdict, collected = match["name"], match["verdict"], []
        elif name is not None:
            collected.append(line)
    if name is not None:
        results[name] = HookResult(verdict, "\n".join(collected))
    return results


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def results(self) -> dict[str, HookResult]:
        # git runs its hooks with their stdout sent to stderr.
        return hook_results(f"{self.stdout}\n{self.stderr}")

    def verdict(self, hook_id: str) -> str:
        return self.results.get(HOOK_NAMES[hook_id], NOT_RUN).verdict

    def output(self, hook_id: str) -> str:
        return self.results.get(HOOK_NAMES[hook_id], NOT_RUN).output

    @property
    def text(self) -> str:
        """Everything the run printed, for a failing assertion's message."""
        return f"exit {self.returncode}\n{self.stdout}\n{self.stderr}"


@dataclass(frozen=True)
class Consumer:
    """A real project's tree as a git repository with testwarden's hooks installed."""

    root: Path
    pre_commit_home: Path
    tox_work_dir: Path

    def environment(self, skip: tuple[str, ...]) -> dict[str, str]:
        return {
            **os.environ,
            "PRE_COMMIT_HOME": str(self.pre_commit_home),
            "PRE_COMMIT_COLOR": "never",
            "TOX_WORK_DIR": str(self.tox_work_dir),
            "SKIP": ",".join(skip),
        }

    def run(self, command: list[str], skip: tuple[str, ...]) -> Run:
        completed = subprocess.run(
            command,
            cwd=self.root,
            capture_output=True,
            text=True,
            env=self.environment(skip),
        )
        return Run(completed.returncode, completed.stdout, completed.stderr)

    def pre_commit(self, *args: str, skip: tuple[str, ...] = ()) -> Run:
        """`pre-commit run --verbose ARGS`: every hook's output, passed or not."""
        return self.run(
            [sys.executable, "-m", "pre_commit", "run", "--verbose", *args], skip
        )

    def commit(self, message: str, *, skip: tuple[str, ...] = ()) -> Run:
        """`git commit`, through the pre-commit hook `pre-commit install` wrote."""
        return self.run(["git", "commit", "--no-gpg-sign", "-m", message], skip)


@pytest.fixture
def consumer_factory(
    sdist_trees,
    hook_repository,
    pre_commit_home,
    session_tox_work_dir,
    tmp_path,
    monkeypatch,
):
    """make(name): a copy of that project's tree, committed, with a
    .pre-commit-config.yaml listing testwarden's hooks and `pre-commit install`
    done for the pre-commit and pre-push stages."""

    def make(name: str) -> Consumer:
        root = tmp_path / name
        shutil.copytree(sdist_trees[name], root, symlinks=True)
        monkeypatch.chdir(root)
        hooks = "".join(f"      - id: {hook}\n" for hook in HOOKS_BY_PROJECT[name])
        (root / ".pre-commit-config.yaml").write_text(
            "repos:\n"
            f"  - repo: {hook_repository.path}\n"
            f"    rev: {hook_repository.rev}\n"
            f"    hooks:\n{hooks}"
        )
        if name == "click":
            with open(root / "tox.ini", "a") as tox_ini:
                tox_ini.write(CLICK_TOX_ENV)
            with open(root / "pyproject.toml", "a") as pyproject:
                pyproject.write(CLICK_TESTWARDEN_SETTINGS)
        consumer = Consumer(root, pre_commit_home, session_tox_work_dir)
        for args in (
            ["git", "init", "--quiet"],
            ["git", "add", "--all"],
            ["git", "commit", "--quiet", "--no-verify", "-m", f"{name} sdist"],
            [sys.executable, "-m", "pre_commit", "install", "-t", "pre-commit"],
            [sys.executable, "-m", "pre_commit", "install", "-t", "pre-push"],
        ):
            ran = consumer.run(args, skip=())
            assert ran.returncode == 0, ran.text
        return consumer

    return make
