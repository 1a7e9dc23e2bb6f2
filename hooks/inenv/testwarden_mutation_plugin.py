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
   sets the switch and runs only the tests that executed its line. A mutant
   of a line run at import time needs the import made again with the switch
   on: its child starts a new pytest process in its place, with this
   session's arguments and the mutant's id in TESTWARDEN_MUTANT, so the
   switch is on before anything imports the module (reloading the module in
   the child instead left what other modules had taken from it at import
   unmutated, and a reload alone breaks suites that compare classes).
   Children run on every core at once. A child has a CPU limit derived from
   its tests' own CPU time (so a machine under load does not make it time
   out) and a generous wall-clock limit for mutants that block without
   computing; past either it is killed.

The forked runner (testwarden_forked.run_forked) does not know about
mutants: it runs a list of items in a child with a setup callback and
limits; stress-new's plugin runs new tests with it in other orders.
"""

from __future__ import annotations

import hashlib
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
    ForkedRun,
    leave_environment,
    new_process_environment,
    run_forked,
    stop_coverage,
    this_pytest_command,
    without_coverage,
)

PLAN_VARIABLE = "TESTWARDEN_MUTATION_PLAN"
MUTANT_VARIABLE = "TESTWARDEN_MUTANT"  # in a mutant's own pytest process: its id
OUTSIDE_TESTS = ""  # the "test" of lines run at import or collection time
# A mutant survives when its tests pass; a crash of the child kills it.
MUTANT_VERDICTS = {"passed": "survived", "failed": "killed", "crashed": "killed"}
EXIT_NOT_STARTED = 127  # a child that could not start its own process
# A mutant's own pytest process: its exit code (pytest's) -> the verdict.
# Collection errors (2) and a conftest that fails to import (4) are the
# mutant breaking an import; an internal error of pytest (3), or
# EXIT_NOT_STARTED, judges nothing.
OWN_PROCESS_VERDICTS = {
    0: "survived",
    1: "killed",
    2: "import-broken",
    4: "import-broken",
    5: "killed",  # no tests collected
}
CPU_FACTOR = 4.0  # a mutant may use this many times its tests' CPU time
CPU_SLACK = 1.0  # seconds on top, for setup in the child
PROCESS_SLACK = 2.0  # and for starting a new pytest process
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
    loaded_with: dict[str, str] = field(default_factory=dict)  # for new processes
    own_process: bool = False  # this process judges one mutant, switched on


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
    STATE.loaded_with = leave_environment(__name__, PLAN_VARIABLE)
    mutant = os.environ.pop(MUTANT_VARIABLE, None)
    stop_coverage()
    sys.meta_path.insert(0, _MutatingFinder(STATE))
    if mutant is not None:  # a mutant's own process: pytest runs, switched on
        SWITCH.active = int(mutant)
        STATE.own_process = True
        STATE.tracing = False
        return
    for planned in STATE.plan["files"]:
        early = [name for name in planned["modules"] if name in sys.modules]
        if early:
            STATE.early[planned["path"]] = early[0]
    STATE.tracer = _tracer(STATE)
    _ensure_tracing()
    STATE.import_cpu = time.process_time()


def _ensure_tracing() -> None:
    """Install our tracer, again if needed: coverage's C tracer, once stopped,
    clears the trace function at its next event, which may be after ours was set."""
    if STATE is not None and STATE.tracing and sys.gettrace() is not STATE.tracer:
        threading.settrace(STATE.tracer)
        sys.settrace(STATE.tracer)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config) -> None:
    """The session runs here, not over pytest-xdist workers when the tox
    command asks for them: this process traces the tests and forks the
    mutants' children (which run on every core)."""
    if STATE is not None and hasattr(config.option, "dist"):
        config.option.dist = "no"
        config.option.numprocesses = None


def pytest_sessionstart(session) -> None:
    _ensure_tracing()


def pytest_collectstart(collector) -> None:
    _ensure_tracing()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if STATE is None or STATE.own_process:
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
    if STATE is None or STATE.own_process:
        yield
        return
    first_test_starts = time.process_time()
    STATE.import_cpu = first_test_starts - STATE.import_cpu
    yield
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
        results["verdicts"] = run_mutants(session.items, session.config)
    with open(STATE.plan["results"], "w", encoding="utf-8") as stream:
        json.dump(results, stream)


def run_mutants(items: list, config) -> dict:
    """Mutant id -> verdict, tests run and seconds, each mutant in a child."""
    by_nodeid = {item.nodeid: item for item in items}
    runs = []
    own_process = set()
    skipped = {}
    for planned in STATE.plan["files"]:
        hits = STATE.hits.get(planned["path"], {})
        for mutant in planned["mutants"]:
            key = str(mutant["id"])
            tests = hits.get(mutant["trace_line"], set())
            at_import = OUTSIDE_TESTS in tests
            selected = (
                list(items)
                if at_import
                else [by_nodeid[test] for test in sorted(tests) if test in by_nodeid]
            )
            if not selected:
                skipped[key] = {"verdict": "not-covered", "tests": []}
                continue
            cpu = sum(STATE.test_cpu.get(item.nodeid, 0.0) for item in selected)
            if at_import:
                cpu_limit = CPU_FACTOR * (cpu + STATE.import_cpu) + PROCESS_SLACK
                prepare = _start_own_process(mutant["id"], config)
                own_process.add(key)
            else:
                cpu_limit = CPU_FACTOR * cpu + CPU_SLACK
                prepare = _switch_on(mutant["id"])
            runs.append(
                ForkedRun(
                    key,
                    selected,
                    prepare,
                    cpu_limit,
                    WALL_FACTOR * cpu_limit + WALL_SLACK,
                )
            )
    run_forked(runs, STATE.plan.get("jobs") or _cores())
    verdicts = dict(skipped)
    for run in runs:
        if run.key in own_process and run.exit_code is not None:
            verdict = OWN_PROCESS_VERDICTS.get(run.exit_code, "error")
        else:
            verdict = MUTANT_VERDICTS.get(run.verdict, run.verdict)
        verdicts[run.key] = {
            "verdict": verdict,
            "tests": [item.nodeid for item in run.items],
            "seconds": round(run.seconds, 3),
        }
    return verdicts


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):  # the cores this process may use
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _switch_on(mutant_id: int):
    def prepare() -> None:
        SWITCH.active = mutant_id

    return prepare


def _start_own_process(mutant_id: int, config):
    """The child's setup: become a new pytest process with this session's
    arguments, the mutant switched on from its start, stopping at the first
    failure; no coverage; a temporary directory of its own (pytest empties
    a --basetemp given, `--basetemp={envtmpdir}` in many tox.ini files, when
    a test first asks for tmp_path: mutants run at once would empty each
    other's), and a pytest cache of its own (its failures are not the
    user's last failures) when the session has pytest's cache plugin
    (without it, cache_dir is an unknown option, an error under -W error)."""
    results = os.path.dirname(STATE.plan["results"])
    command = [*this_pytest_command(), *config.invocation_params.args, "--exitfirst"]
    command += ["--basetemp", os.path.join(results, f"basetemp-{mutant_id}")]
    if config.pluginmanager.has_plugin("cacheprovider"):
        cache = os.path.join(results, "pytest-cache")
        command += ["-o", f"cache_dir={cache}"]
    command += without_coverage(config)
    environment = new_process_environment(STATE.loaded_with)
    environment[MUTANT_VARIABLE] = str(mutant_id)
    directory = str(config.invocation_params.dir)

    def prepare() -> None:
        try:
            os.chdir(directory)
            os.execve(command[0], command, environment)
        except OSError:
            os._exit(EXIT_NOT_STARTED)

    return prepare


install()
