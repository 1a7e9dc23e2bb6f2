"""The pytest plugin mutation-gate loads into the consumer's tox environment.

Standard library and pytest only, so the environment needs nothing new:
mutation-gate puts this directory on PYTHONPATH and names the plugin in
PYTEST_PLUGINS, and the plan (a JSON file named by TESTWARDEN_MUTATION_PLAN)
says which modules to mutate and where to write the results.

1. At start-up an import hook compiles each planned module, as the tests
   import it (the wheel tox installed, or the checkout), with all of its
   mutants behind a switch (testwarden_mutation_ast.switched_module), after
   checking that its content is the content mutation-gate planned for.
2. The selected tests run once unmutated, as pytest runs them, while a line
   tracer limited to the planned files records which test executed which
   planned line (or import did), and each test's CPU time.
3. If they pass, each mutant runs in a forked child of this process, which
   sets the switch and runs only the tests that executed its line (a line
   run at import time: the module is reloaded in the child, then every
   selected test runs). Children run on every core at once. A child has a CPU
   limit derived from its tests' own CPU time (so a machine under load does
   not make it time out) and a generous wall-clock limit for mutants that
   block without computing; past either it is killed.

The forked runner (testwarden_forked.run_forked) does not know about
mutants: it runs a list of items in a child with a setup callback and
limits; stress-new's plugin runs new tests with it in other orders.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.abc
import importlib.machinery
import json
import os
import sys
import threading
import time
from dataclasses import dataclass, field

import pytest
import testwarden_mutation_ast
from testwarden_forked import (
    EXIT_IMPORT_BROKEN,
    ForkedRun,
    leave_environment,
    run_forked,
    stop_coverage,
)

PLAN_VARIABLE = "TESTWARDEN_MUTATION_PLAN"
OUTSIDE_TESTS = ""  # the "test" of lines run at import or collection time
# A mutant survives when its tests pass; a crash of the child kills it.
MUTANT_VERDICTS = {"passed": "survived", "failed": "killed", "crashed": "killed"}
CPU_FACTOR = 4.0  # a mutant may use this many times its tests' CPU time
CPU_SLACK = 1.0  # seconds on top, for setup in the child
WALL_FACTOR = 10.0  # wall-clock limit: for mutants that block without computing
WALL_SLACK = 10.0


class Switch:
    """Which mutant is active: read by the switched modules at run time."""

    active: int | None = None


SWITCH = Switch()


@dataclass
class State:
    plan: dict
    # installed file -> checkout path, for the planned modules imported
    files: dict[str, str] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)  # module -> checkout path
    stale: dict[str, str] = field(default_factory=dict)  # checkout path -> file
    hits: dict[str, dict[int, set[str]]] = field(default_factory=dict)
    test_cpu: dict[str, float] = field(default_factory=dict)
    import_cpu: float = 0.0
    current_test: str = OUTSIDE_TESTS
    tracer: object = None
    early: dict[str, str] = field(default_factory=dict)  # path -> module imported
    tracing: bool = True


STATE: State | None = None


class _MutatingLoader(importlib.machinery.SourceFileLoader):
    def __init__(self, fullname: str, path: str, planned: dict) -> None:
        super().__init__(fullname, path)
        self.planned = planned

    def get_code(self, fullname: str):  # never the cached bytecode, never cache
        source = self.get_data(self.path)
        tree, _ = testwarden_mutation_ast.switched_module(
            source, self.path, self.planned["mutants"]
        )
        return compile(tree, self.path, "exec", dont_inherit=True)

    def exec_module(self, module) -> None:
        module.__dict__[testwarden_mutation_ast.SWITCH_NAME] = SWITCH
        _ensure_tracing()  # its import-time lines count as run outside tests
        super().exec_module(module)


class _MutatingFinder(importlib.abc.MetaPathFinder):
    def __init__(self, state: State) -> None:
        self.state = state
        self.by_module = {
            name: planned
            for planned in state.plan["files"]
            for name in planned["modules"]
        }

    def find_spec(self, fullname, path, target=None):
        planned = self.by_module.get(fullname)
        if planned is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not (spec.origin or "").endswith(".py"):
            return None
        with open(spec.origin, "rb") as stream:
            digest = hashlib.sha256(stream.read()).hexdigest()
        if digest != planned["sha256"]:
            self.state.stale[planned["path"]] = spec.origin
            return None
        spec.loader = _MutatingLoader(fullname, spec.origin, planned)
        self.state.files[os.path.realpath(spec.origin)] = planned["path"]
        self.state.files[spec.origin] = planned["path"]
        self.state.modules[fullname] = planned["path"]
        return spec


def _tracer(state: State):
    lines_by_path = {
        planned["path"]: set(planned["trace_lines"]) for planned in state.plan["files"]
    }

    def trace_lines(frame, event, arg):
        if event == "line":
            path = state.files.get(frame.f_code.co_filename)
            if path is not None and frame.f_lineno in lines_by_path[path]:
                state.hits.setdefault(path, {}).setdefault(frame.f_lineno, set()).add(
                    state.current_test
                )
        return trace_lines

    def trace_calls(frame, event, arg):
        if frame.f_code.co_filename in state.files:
            return trace_lines
        return None

    return trace_calls


def install() -> None:
    """Set up when pytest imports this plugin (PYTEST_PLUGINS): before the
    initial conftest.py files, which often import the package under test."""
    global STATE
    plan_file = os.environ.get(PLAN_VARIABLE)
    if not plan_file or STATE is not None:
        return
    with open(plan_file, encoding="utf-8") as stream:
        STATE = State(json.load(stream))
    # the tests' own subprocesses (pytest run by a test) must not load us
    leave_environment(__name__, PLAN_VARIABLE)
    for planned in STATE.plan["files"]:
        early = [name for name in planned["modules"] if name in sys.modules]
        if early:
            STATE.early[planned["path"]] = early[0]
    stop_coverage()
    sys.meta_path.insert(0, _MutatingFinder(STATE))
    STATE.tracer = _tracer(STATE)
    _ensure_tracing()
    STATE.import_cpu = time.process_time()


def _ensure_tracing() -> None:
    """Install our tracer, again if needed: coverage's C tracer, once stopped,
    clears the trace function at its next event, which may be after ours was set."""
    if STATE is not None and STATE.tracing and sys.gettrace() is not STATE.tracer:
        threading.settrace(STATE.tracer)
        sys.settrace(STATE.tracer)


def pytest_sessionstart(session) -> None:
    _ensure_tracing()


def pytest_collectstart(collector) -> None:
    _ensure_tracing()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if STATE is None:
        yield
        return
    _ensure_tracing()
    STATE.current_test = item.nodeid
    started = time.process_time()
    yield
    STATE.test_cpu[item.nodeid] = time.process_time() - started
    STATE.current_test = OUTSIDE_TESTS


@pytest.hookimpl(hookwrapper=True)
def pytest_runtestloop(session):
    if STATE is not None:
        first_test_starts = time.process_time()
        STATE.import_cpu = first_test_starts - STATE.import_cpu
    yield
    if STATE is None:
        return
    STATE.tracing = False
    sys.settrace(None)
    threading.settrace(None)
    results = {
        "baseline_passed": session.testsfailed == 0,
        "tests": sorted(item.nodeid for item in session.items),
        "stale": STATE.stale,
        "early": STATE.early,
        "imported": sorted(set(STATE.modules.values())),
        "hits": {
            path: {str(line): sorted(tests) for line, tests in lines.items()}
            for path, lines in STATE.hits.items()
        },
        "verdicts": {},
    }
    if session.testsfailed == 0 and not STATE.stale and not STATE.early:
        results["verdicts"] = run_mutants(session.items)
    with open(STATE.plan["results"], "w", encoding="utf-8") as stream:
        json.dump(results, stream)


def run_mutants(items: list) -> dict:
    """Mutant id -> verdict, tests run and seconds, each mutant in a child."""
    by_nodeid = {item.nodeid: item for item in items}
    runs = []
    skipped = {}
    for planned in STATE.plan["files"]:
        hits = STATE.hits.get(planned["path"], {})
        for mutant in planned["mutants"]:
            tests = hits.get(mutant["trace_line"], set())
            at_import = OUTSIDE_TESTS in tests
            selected = (
                list(items)
                if at_import
                else [by_nodeid[test] for test in sorted(tests) if test in by_nodeid]
            )
            if not selected:
                skipped[str(mutant["id"])] = {"verdict": "not-covered", "tests": []}
                continue
            cpu = sum(STATE.test_cpu.get(item.nodeid, 0.0) for item in selected)
            if at_import:
                cpu += STATE.import_cpu
            cpu_limit = CPU_FACTOR * cpu + CPU_SLACK
            runs.append(
                ForkedRun(
                    str(mutant["id"]),
                    selected,
                    _activate(mutant["id"], planned["path"] if at_import else None),
                    cpu_limit,
                    WALL_FACTOR * cpu_limit + WALL_SLACK,
                )
            )
    run_forked(runs, STATE.plan.get("jobs") or _cores())
    verdicts = dict(skipped)
    for run in runs:
        verdicts[run.key] = {
            "verdict": MUTANT_VERDICTS.get(run.verdict, run.verdict),
            "tests": [item.nodeid for item in run.items],
            "seconds": round(run.seconds, 3),
        }
    return verdicts


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):  # the cores this process may use
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _activate(mutant_id: int, reload_path: str | None):
    def prepare() -> None:
        SWITCH.active = mutant_id
        if reload_path is None:
            return
        for name, path in STATE.modules.items():
            if path == reload_path and name in sys.modules:
                try:
                    importlib.reload(sys.modules[name])
                except BaseException:
                    os._exit(EXIT_IMPORT_BROKEN)

    return prepare


install()
