"""Run collected pytest items again, in forked children of the pytest process.

Shared by the two plugins testwarden loads into the consumer's tox env:
mutation-gate runs each mutant's tests in a child with the mutant switched
on; stress-new runs the new tests in children, alone and in other orders.
Standard library and pytest only: the env needs nothing new.

A child starts from the parent as it is when run_forked is called (modules
imported, fixtures the parent set up), runs its items with pytest's own
runtest protocol, silently (its output goes nowhere, nothing is reported to
the terminal), and ends with an exit code that says whether every item
passed. Its setup callback may instead start another program in the child's
place (os.execve: a new pytest process, which keeps the child's limits and
silence); the exit code is then that program's. Children run JOBS at a time;
one past its CPU or wall-clock limit is killed.
"""

from __future__ import annotations

import math
import os
import resource
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from _pytest.runner import runtestprotocol

# Exit codes of a child.
EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_ERROR = 4
POLL_SECONDS = 0.005


def stop_coverage() -> None:
    """The tox command may run pytest under coverage: the runs we make need
    none, and its tracer would slow every one of them down (and, for
    mutation-gate, take the place of ours)."""
    try:
        import coverage
    except ImportError:
        return
    current = coverage.Coverage.current()
    if current is not None:
        current.stop()


def this_pytest_command() -> list[str]:
    """How this process started pytest, to start it again the same way: the
    pytest script (its own directory first on sys.path) or `python -m pytest`
    (the working directory first, so a package in the checkout there is
    importable). Which copy of the project the tests import depends on it."""
    script = sys.argv[0] if sys.argv else ""
    if os.path.basename(script) in ("pytest", "py.test") and os.path.isfile(script):
        return [sys.executable, script]
    return [sys.executable, "-m", "pytest"]


# Environment variables that would make coverage measure a new process.
COVERAGE_STARTERS = ("COVERAGE_PROCESS_START", "COVERAGE_PROCESS_CONFIG")


def without_coverage(config) -> list[str]:
    """The option that turns pytest-cov off in a new pytest process (its data
    would land on the session's, its fail-under fail a run of a few tests)."""
    return ["--no-cov"] if hasattr(config.option, "no_cov") else []


def new_process_environment(loaded_with: dict[str, str]) -> dict[str, str]:
    """The environment of a new pytest process of ours: this one's, with what
    loaded the plugin back (LOADED_WITH, from leave_environment), and nothing
    that would make coverage measure it."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in COVERAGE_STARTERS
    }
    environment.update(loaded_with)
    return environment


def _nothing_to_prepare() -> None:
    return None


# What loads our plugins into the tox env's pytest (tox_runner.plugin_environment).
LOADING_VARIABLES = ("PYTHONPATH", "PYTEST_PLUGINS")


def leave_environment(plugin_module: str, plan_variable: str) -> dict[str, str]:
    """Take what loaded PLUGIN_MODULE (and its plan, PLAN_VARIABLE) out of
    this process's environment, so that the processes the tests start (a
    test running pytest in a subprocess, say) are the user's alone: another
    pytest would load the plugin and act on the plan too. Returns those
    variables as they were, for a pytest process that should load it."""
    loaded_with = {
        name: os.environ[name]
        for name in (*LOADING_VARIABLES, plan_variable)
        if name in os.environ
    }
    here = os.path.dirname(os.path.abspath(__file__))
    _drop_entries("PYTHONPATH", os.pathsep, lambda path: os.path.abspath(path) == here)
    _drop_entries("PYTEST_PLUGINS", ",", lambda name: name.strip() == plugin_module)
    os.environ.pop(plan_variable, None)
    return loaded_with


def _drop_entries(name: str, separator: str, ours: Callable[[str], bool]) -> None:
    """Remove our entries from the list in the environment variable NAME;
    the variable goes when nothing else is left in it."""
    entries = os.environ.get(name, "").split(separator)
    kept = [entry for entry in entries if entry.strip() and not ours(entry)]
    if kept:
        os.environ[name] = separator.join(kept)
    else:
        os.environ.pop(name, None)


@dataclass
class ForkedRun:
    """One child: what it runs, with which limits, and how it ended.

    tear_down: run the last item's teardown up to the session, as a pytest
    session of its own would (stress-new); otherwise what the parent set up
    stays set up (mutation-gate: a child is one of many over the same setup).
    run_all: go on after a failed item (stress-new wants each item's outcome);
    otherwise stop at the first (mutation-gate: one failure kills the mutant).
    failed: the node ids that failed, when run_all; written by the child to
    failures_file, one per line, read back by the parent.
    """

    key: str
    items: list
    prepare: Callable[[], None] = _nothing_to_prepare
    cpu_limit: float | None = None
    wall_limit: float | None = None
    tear_down: bool = False
    run_all: bool = False
    failures_file: str | None = None
    pid: int = 0
    started: float = 0.0
    verdict: str = ""
    exit_code: int | None = None  # None when a signal ended the child
    seconds: float = 0.0
    failed: list[str] = field(default_factory=list)


def run_forked(runs: list[ForkedRun], jobs: int) -> None:
    """Run each of RUNS in a forked child, JOBS at a time, in the order given;
    set its verdict: passed (every item passed), failed, timeout, crashed
    (killed by a signal) or error, and its exit code."""
    waiting = list(reversed(runs))
    running: dict[int, ForkedRun] = {}
    while waiting or running:
        while waiting and len(running) < jobs:
            run = waiting.pop()
            run.started = time.monotonic()
            run.pid = os.fork()
            if run.pid == 0:
                _child(run)
            running[run.pid] = run
        finished = False
        for pid, run in list(running.items()):
            done, status = os.waitpid(pid, os.WNOHANG)
            elapsed = time.monotonic() - run.started
            if done == 0:
                if run.wall_limit is not None and elapsed > run.wall_limit:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    run.verdict, run.seconds = "timeout", elapsed
                    _read_failures(run)
                    del running[pid]
                    finished = True
                continue
            run.verdict, run.seconds = _verdict(status), elapsed
            if os.WIFEXITED(status):
                run.exit_code = os.WEXITSTATUS(status)
            _read_failures(run)
            del running[pid]
            finished = True
        if not finished:
            time.sleep(POLL_SECONDS)


def _read_failures(run: ForkedRun) -> None:
    if run.failures_file is None or not os.path.exists(run.failures_file):
        return
    with open(run.failures_file, encoding="utf-8") as stream:
        run.failed = [line for line in stream.read().splitlines() if line]


def _verdict(status: int) -> str:
    if os.WIFSIGNALED(status):
        return (
            "timeout"
            if os.WTERMSIG(status) in (signal.SIGXCPU, signal.SIGKILL)
            else "crashed"
        )
    return {EXIT_PASSED: "passed", EXIT_FAILED: "failed"}.get(
        os.WEXITSTATUS(status), "error"
    )


def _child(run: ForkedRun) -> None:
    """In the forked child: never returns."""
    code = EXIT_ERROR
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        if run.cpu_limit is not None:
            limit = max(1, math.ceil(run.cpu_limit))
            resource.setrlimit(resource.RLIMIT_CPU, (limit, limit + 1))
        run.prepare()
        failures = (
            open(run.failures_file, "w", encoding="utf-8")  # noqa: SIM115
            if run.failures_file
            else None
        )
        code = EXIT_PASSED
        for index, item in enumerate(run.items):
            last = index + 1 == len(run.items)
            if not last:
                following = run.items[index + 1]
            else:
                # None tears everything down; the item itself keeps what the
                # parent set up (its session fixtures) for the next child.
                following = None if run.tear_down else item
            reports = runtestprotocol(item, log=False, nextitem=following)
            if any(report.failed for report in reports):
                code = EXIT_FAILED
                if failures is not None:
                    failures.write(item.nodeid + "\n")
                    failures.flush()
                if not run.run_all:
                    break
        if failures is not None:
            failures.close()
    except BaseException:
        code = EXIT_ERROR
    finally:
        os._exit(code)
