"""The pytest plugin stress-new loads into the consumer's tox environment.

Standard library and pytest only, so the environment needs nothing new:
tox-changed-tests puts this directory on PYTHONPATH, names the plugin in
PYTEST_PLUGINS and writes a plan (a JSON file named by
TESTWARDEN_STRESS_PLAN). Plan mode "selection": the selection run of
tox-changed-tests collects the selection; before pytest runs it, this plugin
makes the planned runs of the new and changed tests, one after another, each
in a fresh forked child of the collected session (testwarden_forked), so no
run sees the module state another run left (files it left, it does see, as
a later pytest run would), and the selection run itself starts from the
state it would have had. Plan mode "stress" does the same in a tox run of
the new tests' files alone, in place of pytest's run of them: what the host
runs when the selection run could not make them (pytest-xdist spreads it
over workers; pytest-randomly reseeds random before each test).

  "alone"     each stressed test alone, one child per test
  "reversed"  the tests of their files, files and tests in reverse order
  "shuffled"  the same, files and tests shuffled from the order seed
              (random.Random(seed + run number))

A child draws new random numbers: the random module reseeds itself in a
forked child (os.register_at_fork), as at the start of a new process.
(numpy's global generator does not; the run in a new process draws anew.)

An ordered run stops after the last stressed test it holds: what would run
after it cannot change its outcome. The last planned run runs in a new
pytest process with another PYTHONHASHSEED (a fork keeps its parent's, and
set and dict order of strings depends on it): plan mode "order". That
process starts while this one collects, collects the files of the new
tests, then waits on a pipe for the node ids to run and runs exactly those,
in that order, so its start-up overlaps the forked runs.

The results (a JSON file named by the plan) say, for each run, the order it
ran in and the node ids that failed; or, in plan mode "selection", that the
runs were not made and why.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass

import pytest
from testwarden_forked import (
    ForkedRun,
    leave_environment,
    new_process_environment,
    run_forked,
    stop_coverage,
    this_pytest_command,
    without_coverage,
)

PLAN_VARIABLE = "TESTWARDEN_STRESS_PLAN"
WALL_LIMIT_SECONDS = 600.0  # a run that hangs is stopped and counts as failed


def _plan() -> dict | None:
    plan_file = os.environ.get(PLAN_VARIABLE)
    if not plan_file:
        return None
    with open(plan_file, encoding="utf-8") as stream:
        return json.load(stream)


PLAN = _plan()
# How this process loaded the plugin, taken out of its environment (the
# tests' own subprocesses must not load it); the new process gets it back.
LOADED_WITH = leave_environment(__name__, PLAN_VARIABLE) if PLAN else {}


@dataclass
class NewProcess:
    """The pytest process of the last run, started while this one collects:
    it collects too, then waits on a pipe for the order to run."""

    process: subprocess.Popen
    order_pipe: int  # our end: the order, as JSON, then closed
    results_file: str
    started: float


STRESSING = PLAN is not None and PLAN["mode"] in ("stress", "selection")
# The temporary directory of the runs, made when the first run needs it
# (never in an xdist worker, nor when the runs are left to a run of their own).
SCRATCH: list[str] = []
NEW_PROCESS: list[NewProcess] = []
# Why the selection run cannot make the stress runs (plan mode "selection").
NOT_IN_THIS_RUN: list[str] = []


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config) -> None:
    """The runs are ours to make. In a run of their own (and in the new
    process), pytest-xdist, if the tox command asks for it, would spread the
    session over workers: it is switched off. In the selection run it stays, and the runs are left to
    a run of their own, as they are when pytest-randomly reseeds random
    before each test (an unseeded draw would repeat in every run)."""
    if PLAN is None or hasattr(config, "workerinput"):
        return
    if PLAN["mode"] == "selection":
        if getattr(config.option, "dist", "no") != "no":
            NOT_IN_THIS_RUN.append("it runs under pytest-xdist")
        elif config.pluginmanager.has_plugin("randomly"):
            NOT_IN_THIS_RUN.append("pytest-randomly reseeds random before each test")
        if NOT_IN_THIS_RUN:
            return
    elif hasattr(config.option, "dist"):  # plan mode "stress" or "order"
        config.option.dist = "no"
        config.option.numprocesses = None
    if STRESSING and PLAN["runs"] >= 3:
        NEW_PROCESS.append(_start_new_process(config))


def _scratch() -> str:
    if not SCRATCH:
        SCRATCH.append(tempfile.mkdtemp(prefix="testwarden-stress-runs-"))
    return SCRATCH[0]


def pytest_unconfigure(config) -> None:
    for directory in SCRATCH:
        shutil.rmtree(directory, ignore_errors=True)


def _options_of(config) -> list[str]:
    """This session's arguments less the files and node ids it was given
    (the selection, in plan mode "selection"), pytest-cov off."""
    positional = set(config.args)
    options = [arg for arg in config.invocation_params.args if arg not in positional]
    return options + without_coverage(config)


def _start_new_process(config) -> NewProcess:
    """pytest again, with this session's options, on the files of the new
    tests, under the plan's other PYTHONHASHSEED."""
    read_end, write_end = os.pipe()
    plan_file = os.path.join(_scratch(), "order-plan.json")
    results_file = os.path.join(_scratch(), "order-results.json")
    with open(plan_file, "w", encoding="utf-8") as stream:
        json.dump(
            {"mode": "order", "order_pipe": read_end, "results": results_file}, stream
        )
    process = subprocess.Popen(
        [*this_pytest_command(), *_options_of(config), *PLAN["files"]],
        cwd=str(config.invocation_params.dir),
        env={
            **new_process_environment(LOADED_WITH),
            PLAN_VARIABLE: plan_file,
            "PYTHONHASHSEED": str(PLAN["fresh_hash_seed"]),
            "COVERAGE_FILE": os.path.join(_scratch(), ".coverage"),
        },
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        pass_fds=(read_end,),
    )
    os.close(read_end)
    return NewProcess(process, write_end, results_file, time.monotonic())


def _stressed_items(items: list, tests: list[str]) -> dict[str, list]:
    """Each stressed test -> its collected items (a parametrized test has one
    per case). pytest names node ids relative to its rootdir, which may lie
    below the repository root the tests are named from."""
    found: dict[str, list] = {test: [] for test in tests}
    for item in items:
        path, _, name = item.nodeid.partition("::")
        base = f"{path}::{name.partition('[')[0]}"
        for test in tests:
            if test == base or test.endswith(f"/{base}"):
                found[test].append(item)
    return found


def _location(item) -> str:
    """The item as a node id with an absolute path: what the host can give
    back to tox to replay an order, from any directory."""
    _, _, name = item.nodeid.partition("::")
    return f"{item.path}::{name}"


def _by_file(items: list) -> dict[str, list]:
    files: dict[str, list] = {}
    for item in items:
        files.setdefault(str(item.path), []).append(item)
    return files


def _ordered(items: list, kind: str, shuffler: random.Random) -> list:
    files = _by_file(items)
    names = list(files)
    if kind == "reversed":
        return [item for name in reversed(names) for item in reversed(files[name])]
    shuffler.shuffle(names)
    order = []
    for name in names:
        file_items = list(files[name])
        shuffler.shuffle(file_items)
        order.extend(file_items)
    return order


def _until_last_stressed(order: list, stressed: set) -> list:
    last = max(index for index, item in enumerate(order) if item in stressed)
    return order[: last + 1]


def _planned_runs(plan: dict, by_test: dict[str, list], items: list) -> list[dict]:
    """Runs 2..RUNS (run 1 was the selection run) as {number, kind, items}."""
    stressed = {item for found in by_test.values() for item in found}
    if not stressed:
        return []
    files = {str(item.path) for item in stressed}
    file_items = [item for item in items if str(item.path) in files]
    runs = []
    for number in range(2, plan["runs"] + 1):
        if number == 2:
            runs += [
                {"number": 2, "kind": "alone", "items": found}
                for found in by_test.values()
                if found
            ]
            continue
        kind = "reversed" if number == 3 else "shuffled"
        order = _ordered(file_items, kind, random.Random(plan["seed"] + number))
        runs.append(
            {
                "number": number,
                "kind": kind,
                "items": _until_last_stressed(order, stressed),
            }
        )
    return runs


def _order_from_pipe() -> list[str]:
    """Plan mode "order": the node ids to run, once the parent has sent them
    (nothing, when it closed the pipe without: then nothing runs)."""
    with os.fdopen(PLAN["order_pipe"], encoding="utf-8") as pipe:
        sent = pipe.read()
    return json.loads(sent) if sent else []


# What failed in pytest's own run of this session (plan modes "order" and
# "selection"; the forked runs report nothing to the session).
FAILED_IN_THIS_RUN: list[str] = []
# The results document of plan mode "selection", once the runs were made.
MADE: list[dict] = []


def pytest_runtest_logreport(report) -> None:
    if PLAN is not None and report.failed and report.nodeid not in FAILED_IN_THIS_RUN:
        FAILED_IN_THIS_RUN.append(report.nodeid)


def pytest_sessionfinish(session) -> None:
    """Plan mode "order": what failed, collection errors included (the exit
    code says less: pytest-cov's fail-under, say, sets it too). Plan mode
    "selection": the results, with what failed in the selection run (run 1)."""
    if PLAN is not None and PLAN["mode"] == "order":
        _write_results(
            {"failed": FAILED_IN_THIS_RUN, "testsfailed": session.testsfailed}
        )
    if MADE:
        locations = {item.nodeid: _location(item) for item in session.items}
        failed = [locations[node] for node in FAILED_IN_THIS_RUN if node in locations]
        _write_results({**MADE[0], "selection_failed": failed})


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session):
    """Plan mode "selection": the planned runs, then pytest's run of the
    selection. Plan mode "stress": the planned runs take the place of
    pytest's run. Plan mode "order": pytest runs the node ids the parent
    sends, in order."""
    if PLAN is None or hasattr(session.config, "workerinput"):
        return None
    if PLAN["mode"] == "order":
        by_location = {_location(item): item for item in session.items}
        order = _order_from_pipe()
        session.items[:] = [by_location[name] for name in order if name in by_location]
        return None
    if NOT_IN_THIS_RUN:
        _write_results({"made": False, "reason": NOT_IN_THIS_RUN[0]})
        return None
    results = _stress(session)
    _write_results(results)
    if PLAN["mode"] == "stress":
        return True
    MADE.append(results)
    return None


def _write_results(results: dict) -> None:
    with open(PLAN["results"], "w", encoding="utf-8") as stream:
        json.dump(results, stream)


def _stress(session) -> dict:
    """The planned runs of the collected SESSION, as the results document."""
    results: dict = {
        "made": True,
        "hash_seed": os.environ.get("PYTHONHASHSEED", ""),
        "collection_failed": bool(session.testsfailed),
        "missing": [],
        "runs": [],
    }
    if not session.testsfailed:
        if PLAN["mode"] == "stress":
            stop_coverage()  # nothing after the runs needs it
        by_test = _stressed_items(session.items, PLAN["tests"])
        results["missing"] = [test for test, found in by_test.items() if not found]
        planned = _planned_runs(PLAN, by_test, session.items)
        results["runs"] = _run(planned, _scratch())
    for new_process in NEW_PROCESS:  # not needed after all: it runs nothing
        os.close(new_process.order_pipe)
        new_process.process.wait()
    return results


def _run(planned: list[dict], scratch: str) -> list[dict]:
    fresh = planned[-1] if planned and planned[-1]["number"] >= 3 else None
    forked = [
        ForkedRun(
            key=str(index),
            items=run["items"],
            # the selection run measures coverage for the hooks after it;
            # a child's tests are not part of that run
            prepare=stop_coverage,
            wall_limit=WALL_LIMIT_SECONDS,
            tear_down=True,
            run_all=True,
            failures_file=os.path.join(scratch, f"{index}.failed"),
        )
        for index, run in enumerate(planned)
        if run is not fresh
    ]
    run_forked(forked, 1)  # one at a time: a run must not disturb another
    done = []
    for run, child in zip([run for run in planned if run is not fresh], forked):
        done.append(_result(run, child.verdict, child.failed, child.seconds))
    if fresh is not None and NEW_PROCESS:
        done.append(_new_process_run(NEW_PROCESS.pop(), fresh))
    return done


def _result(run: dict, verdict: str, failed: list[str], seconds: float) -> dict:
    failed_ids = set(failed)
    return {
        "number": run["number"],
        "kind": run["kind"],
        "order": [_location(item) for item in run["items"]],
        "failed": [
            _location(item) for item in run["items"] if item.nodeid in failed_ids
        ],
        "verdict": verdict,
        "seconds": round(seconds, 3),
        "new_process": False,
        "hash_seed": os.environ.get("PYTHONHASHSEED", ""),
    }


def _new_process_run(new_process: NewProcess, run: dict) -> dict:
    """RUN in the new pytest process: send it the order, wait for it."""
    order = [_location(item) for item in run["items"]]
    started = time.monotonic()
    try:
        with os.fdopen(new_process.order_pipe, "w", encoding="utf-8") as pipe:
            pipe.write(json.dumps(order))
    except BrokenPipeError:  # it ended before it could take the order
        pass
    failed: list[str] = []
    try:
        new_process.process.wait(timeout=WALL_LIMIT_SECONDS)
    except subprocess.TimeoutExpired:
        new_process.process.kill()
        new_process.process.wait()
        verdict = "timeout"
    else:
        verdict = "error"  # it ended without writing what failed
        if os.path.exists(new_process.results_file):
            with open(new_process.results_file, encoding="utf-8") as stream:
                finished = json.load(stream)
            failed = finished["failed"]
            verdict = "failed" if failed or finished["testsfailed"] else "passed"
    result = _result(run, verdict, failed, time.monotonic() - started)
    result["new_process"] = True
    result["hash_seed"] = PLAN["fresh_hash_seed"]
    return result
