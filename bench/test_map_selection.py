"""Benchmark: precise test selection from a coverage test map, side by side.

On real projects with test suites of 1,000+ tests (one of them, click, with an
`__init__` that re-exports everything), seeded single-function mutations
(`raise RuntimeError("testwarden-mutant")` as the first statement of one
function's body, made as bench/tox_changed_tests.py makes them) are staged one
at a time and each goes through:

  full suite      the `py` tox environment's python running pytest on the
                  whole suite directly: failing node ids, tests run, seconds;
                  plus a full `tox -e py` run, timed every K-th mutation (the
                  reference for the end-to-end ratio)
  testmon         `tox -e testmon` (pytest --testmon --testmon-forceselect:
                  click's own addopts `-m 'not stress'` would otherwise turn
                  testmon's selection off), every mutation starting from the
                  same .testmondata recorded on the clean tree
  import graph    `tox-changed-tests --no-test-map -e py`
  precise         `tox-changed-tests --list -e py` (selection overhead), then
                  `tox-changed-tests -e py`, using the map from source lines to
                  tests that `coverage-gate --all-files -e cov` records once per
                  project on the clean tree (coverage contexts per test)

A selector catches a mutation when the tests it runs fail. Measured, with the
issue's targets:

  safety: caught by the selector / caught by the full suite     target 100%
  median share of tests run (tests run / the full suite's tests)
                                                                target <= 10%
  selection overhead: median seconds of `--list`
  end to end: median seconds of the selector's tox run against the median
  full `tox -e py` run                                    target median <= 0.3x

Every tox environment runs pytest with --tb=no: a mutant can fail thousands of
parametrized tests and formatting their tracebacks takes minutes (the full and
the selected runs are treated alike). The hooks' answer when the precise tier
(`--no-test-map`, the test map recorded by coverage-gate) is missing: the
precise column is skipped and the import-graph column runs
`tox-changed-tests -e py`, which is then the import-graph selection.

Projects become git repositories under bench/.work/test_map/<name> (sdist
unpacked, a tox.ini with the environments py, cov and testmon, committed);
per-mutation rows go to bench/.work/test_map/results-<name>.csv.

Usage: python bench/test_map_selection.py [--projects click,packaging]
           [--mutations N] [--seed S] [--full-tox-every K]
Run it from the project's virtualenv, e.g.
`nice -n 10 .venv/bin/python bench/test_map_selection.py`.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from tox_changed_tests import (  # noqa: E402  (a sibling script, not a package)
    Mutation,
    all_mutations,
    download_sdist,
    failing_node_ids,
    git,
    restore,
    run,
    stage,
    unpack_sdist,
)

WORK = BENCH / ".work" / "test_map"
BIN = Path(sys.executable).parent
TOX = [sys.executable, "-m", "tox"]
HOOK = str(BIN / "tox-changed-tests")
COVERAGE_GATE = str(BIN / "coverage-gate")
TESTMON_FILES = ".testmondata*"  # the database and its sqlite side files
# pytest's final line, e.g. "3 failed, 120 passed, 31000 deselected in 1.20s".
SUMMARY_LINE = re.compile(r"\b(\d+ \w+|no tests ran)\b.* in [\d.]+s\b")
SUMMARY_COUNT = re.compile(r"(\d+) (\w+)")
RUN_OUTCOMES = {"passed", "failed", "error", "errors", "skipped", "xfailed", "xpassed"}
FAILED_OUTCOMES = {"failed", "error", "errors"}


@dataclass(frozen=True)
class Project:
    requirement: str  # pinned, as pip takes it
    package: str  # what --cov measures
    source_dir: str  # where the mutated modules live
    pythonpath: str  # relative to the root; the tests import the sources from it
    test_deps: tuple[str, ...]
    tests_dir: str = "tests"

    @property
    def name(self) -> str:
        return self.requirement.partition("==")[0]


PROJECTS = {
    project.name: project
    for project in (
        # 8.1.7 (the example) collects 611 tests, 8.3.3 1,460;
        # 8.5.1's tests/test_deprecations.py needs click's installed
        # metadata, which skip_install does not give, so collection breaks.
        # 8.4.2 is the newest whose suite runs from the sdist: 1,686 tests.
        Project("click==8.4.2", "click", "src/click", "src", ("pytest<9",)),
        Project(
            "packaging==24.2",
            "packaging",
            "src/packaging",
            "src",
            ("pytest<9", "pretend"),
        ),
    )
}


@dataclass
class PytestRun:
    """What one pytest (or tox, or hook) run reported."""

    exit_code: int
    seconds: float
    tests: int  # passed + failed + errors + skipped + xfailed + xpassed
    failed: int  # failed + errors
    output: str

    @classmethod
    def of(
        cls, command: list[str], root: Path, environment: dict[str, str]
    ) -> PytestRun:
        start = time.perf_counter()
        completed = run(command, root, environment)
        seconds = time.perf_counter() - start
        output = completed.stdout + completed.stderr
        counts = summary_counts(completed.stdout)
        return cls(
            completed.returncode,
            seconds,
            sum(n for outcome, n in counts.items() if outcome in RUN_OUTCOMES),
            sum(n for outcome, n in counts.items() if outcome in FAILED_OUTCOMES),
            output,
        )


def summary_counts(output: str) -> dict[str, int]:
    """Counts from the last pytest summary line; empty when pytest never ran."""
    for line in reversed(output.splitlines()):
        if SUMMARY_LINE.search(line):
            return {
                outcome: int(number)
                for number, outcome in SUMMARY_COUNT.findall(line.split(" in ")[0])
            }
    return {}


@dataclass
class Row:
    """One mutation, every column; also one line of the CSV."""

    project: str
    mutation: str
    full_failing: int
    full_tests: int
    full_seconds: float
    full_tox_seconds: float | None
    testmon_tests: int
    testmon_caught: bool
    testmon_seconds: float
    graph_exit: int
    graph_tests: int
    graph_seconds: float
    list_seconds: float | None = None
    precise_exit: int | None = None
    precise_tests: int | None = None
    precise_seconds: float | None = None
    precise_basis: str = ""  # the first lines of `--list`: what it selected with

    @property
    def caught_by_full(self) -> bool:
        return self.full_failing > 0

    @property
    def graph_caught(self) -> bool:
        return self.graph_exit == 1

    @property
    def precise_caught(self) -> bool | None:
        return None if self.precise_exit is None else self.precise_exit == 1


@dataclass(frozen=True)
class Tiers:
    """What the installed hooks offer."""

    precise: bool  # tox-changed-tests --no-test-map exists (and so the map)

    @classmethod
    def probe(cls) -> Tiers:
        completed = subprocess.run(
            [HOOK, "--help"], capture_output=True, text=True, check=False
        )
        return cls(precise="--no-test-map" in completed.stdout)

    @property
    def graph_command(self) -> list[str]:
        return (
            [HOOK, "--no-test-map", "-e", "py"] if self.precise else [HOOK, "-e", "py"]
        )


# Setting a project up


def tox_ini(project: Project) -> str:
    deps = "".join(f"\n    {dependency}" for dependency in project.test_deps)
    tests = f"{{posargs:{project.tests_dir}}}"
    return (
        "[tox]\n"
        "env_list = py\n"
        f"toxworkdir = {WORK / 'toxenvs' / project.name}\n"
        "\n"
        "[testenv]\n"
        "skip_install = true\n"
        f"deps ={deps}\n"
        f"setenv = PYTHONPATH = {{toxinidir}}/{project.pythonpath}\n"
        f"commands = pytest -p no:cacheprovider --tb=no {tests}\n"
        "\n"
        "[testenv:cov]\n"
        "deps =\n    {[testenv]deps}\n    pytest-cov\n    coverage\n"
        "commands = pytest -p no:cacheprovider --tb=no "
        f"--cov={project.package} --cov-context=test {tests}\n"
        "\n"
        "[testenv:testmon]\n"
        "deps =\n    {[testenv]deps}\n    pytest-testmon\n"
        "commands = pytest -p no:cacheprovider --tb=no --testmon --testmon-forceselect "
        f"{tests}\n"
        "\n"
        # Ends pytest's search for its rootdir here; a pytest configuration of
        # the project's own (click's pyproject.toml) still comes first. Without
        # it packaging's tests found testwarden's pyproject.toml above
        # bench/.work, ran with its options and testmon kept its data there.
        "[pytest]\n"
    )


def make_repository(project: Project) -> Path:
    """The unpacked sdist as a git repository with our tox.ini, committed."""
    root = WORK / project.name
    if (root / ".git").is_dir():
        git(root, "reset", "--quiet", "--hard")
        if (root / "tox.ini").read_text(encoding="utf-8") != tox_ini(project):
            (root / "tox.ini").write_text(tox_ini(project), encoding="utf-8")
            commit(root, "bench tox.ini")
        return root
    unpack_sdist(download_sdist(project.requirement, WORK / "sdists"), root)
    (root / "tox.ini").write_text(tox_ini(project), encoding="utf-8")
    git(root, "init", "--quiet")
    exclude = root / ".git" / "info" / "exclude"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    exclude.write_text(f"{TESTMON_FILES}\n.coverage*\n__pycache__/\n")
    commit(root, f"{project.requirement} sdist")
    return root


def commit(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(
        root,
        *("-c", "user.name=bench", "-c", "user.email=bench@localhost"),
        *("commit", "--quiet", "-m", message),
    )


def create_tox_environments(root: Path, environment: dict[str, str]) -> None:
    completed = run([*TOX, "--notest", "-e", "py,cov,testmon"], root, environment)
    if completed.returncode != 0:
        raise RuntimeError(f"tox --notest in {root}:\n{completed.stdout[-3000:]}")


def hook_environment(project: Project) -> dict[str, str]:
    cache = WORK / "cache" / project.name
    return {**os.environ, "TESTWARDEN_CACHE_DIR": str(cache)}


# The columns


def full_suite(root: Path, project: Project) -> tuple[PytestRun, set[str]]:
    """The whole suite on the `py` environment's python: run, failing node ids."""
    python = WORK / "toxenvs" / project.name / "py" / "bin" / "python"
    environment = {**os.environ, "PYTHONPATH": str(root / project.pythonpath)}
    result = PytestRun.of(
        [
            *(str(python), "-m", "pytest", "-q", "--tb=no", "-rfE"),
            *("-p", "no:cacheprovider", project.tests_dir),
        ],
        root,
        environment,
    )
    failing = failing_node_ids(result.output)
    if result.exit_code not in (0, 1) and not failing:
        raise RuntimeError(f"pytest in {root} broke:\n{result.output[-3000:]}")
    return result, failing


class CleanTestmonData:
    """The .testmondata of the clean tree, put back before and after each run."""

    def __init__(self, root: Path, aside: Path) -> None:
        self.root, self.aside = root, aside

    def record(self, environment: dict[str, str]) -> PytestRun:
        self._remove()
        result = PytestRun.of([*TOX, "-e", "testmon"], self.root, environment)
        if result.exit_code != 0:
            raise RuntimeError(
                f"testmon on the clean tree of {self.root}:\n{result.output[-3000:]}"
            )
        if not any(self.root.glob(TESTMON_FILES)):
            raise RuntimeError(f"testmon wrote no {TESTMON_FILES} in {self.root}")
        shutil.rmtree(self.aside, ignore_errors=True)
        self.aside.mkdir(parents=True)
        for path in self.root.glob(TESTMON_FILES):
            shutil.copy2(path, self.aside / path.name)
        return result

    def _remove(self) -> None:
        for path in self.root.glob(TESTMON_FILES):
            path.unlink()

    def restore(self) -> None:
        self._remove()
        for path in self.aside.iterdir():
            shutil.copy2(path, self.root / path.name)

    def run(self, environment: dict[str, str]) -> PytestRun:
        self.restore()
        try:
            return PytestRun.of([*TOX, "-e", "testmon"], self.root, environment)
        finally:
            self.restore()


def record_test_map(root: Path, environment: dict[str, str]) -> PytestRun:
    """coverage-gate on the whole suite with per-test contexts records the map."""
    command = [COVERAGE_GATE, "--all-files", "-e", "cov", "--fail-under", "0"]
    result = PytestRun.of(command, root, environment)
    if result.exit_code != 0:
        raise RuntimeError(f"{' '.join(command)} in {root}:\n{result.output[-3000:]}")
    return result


def replay(
    mutation: Mutation,
    root: Path,
    project: Project,
    baseline: set[str],
    testmon: CleanTestmonData,
    tiers: Tiers,
    time_full_tox: bool,
) -> Row:
    environment = hook_environment(project)
    stage(root, mutation.path, mutation.mutated_text)
    try:
        full, failing = full_suite(root, project)
        full_tox = (
            PytestRun.of([*TOX, "-e", "py"], root, environment).seconds
            if time_full_tox
            else None
        )
        testmon_run = testmon.run(environment)
        graph = PytestRun.of(tiers.graph_command, root, environment)
        row = Row(
            project.name,
            f"{mutation.path}:{mutation.line} {mutation.function}()",
            full_failing=len(failing - baseline),
            full_tests=full.tests,
            full_seconds=full.seconds,
            full_tox_seconds=full_tox,
            testmon_tests=testmon_run.tests,
            testmon_caught=testmon_run.failed > 0,
            testmon_seconds=testmon_run.seconds,
            graph_exit=graph.exit_code,
            graph_tests=graph.tests,
            graph_seconds=graph.seconds,
        )
        if tiers.precise:
            listed = PytestRun.of([HOOK, "--list", "-e", "py"], root, environment)
            precise = PytestRun.of([HOOK, "-e", "py"], root, environment)
            row.list_seconds = listed.seconds
            row.precise_basis = " / ".join(listed.output.splitlines()[:2])
            row.precise_exit = precise.exit_code
            row.precise_tests = precise.tests
            row.precise_seconds = precise.seconds
    finally:
        restore(root, mutation.path)
    return row


@dataclass
class ProjectResult:
    name: str
    full_tests: int  # on the clean tree
    full_seconds: float  # the direct pytest run on the clean tree
    full_tox_seconds: float  # `tox -e py` on the clean tree
    candidates: int
    rows: list[Row]


def bench_project(
    project: Project, args: argparse.Namespace, tiers: Tiers
) -> ProjectResult:
    root = make_repository(project)
    environment = hook_environment(project)
    shutil.rmtree(environment["TESTWARDEN_CACHE_DIR"], ignore_errors=True)
    create_tox_environments(root, environment)
    clean, baseline = full_suite(root, project)
    print(
        f"{project.name}: {clean.tests} tests, full suite {clean.seconds:.1f} s"
        + (f", {len(baseline)} failing before any mutation" if baseline else "")
    )
    clean_tox = PytestRun.of([*TOX, "-e", "py"], root, environment)
    print(f"{project.name}: full `tox -e py` {clean_tox.seconds:.1f} s")
    testmon = CleanTestmonData(root, WORK / "testmon-clean" / project.name)
    recorded = testmon.record(environment)
    again = testmon.run(environment)
    print(
        f"{project.name}: testmon database recorded in {recorded.seconds:.1f} s; "
        f"on the clean tree it then runs {again.tests} tests in {again.seconds:.1f} s"
    )
    test_map = record_test_map(root, environment)
    print(
        f"{project.name}: coverage-gate --all-files -e cov took "
        f"{test_map.seconds:.1f} s"
        + ("" if tiers.precise else " (no test map: the precise tier is missing)")
    )
    mutations, _ = all_mutations(root, project)
    chosen = random.Random(args.seed).sample(
        mutations, min(args.mutations, len(mutations))
    )
    rows = []
    for number, mutation in enumerate(chosen):
        row = replay(
            mutation,
            root,
            project,
            baseline,
            testmon,
            tiers,
            time_full_tox=number % args.full_tox_every == 0,
        )
        rows.append(row)
        print(f"  {project.name} {number + 1}/{len(chosen)} {progress(row)}")
        write_csv(rows, WORK / f"results-{project.name}.csv")
    return ProjectResult(
        project.name,
        clean.tests,
        clean.seconds,
        clean_tox.seconds,
        len(mutations),
        rows,
    )


def progress(row: Row) -> str:
    tests = f"tests run: full {row.full_tests}, testmon {row.testmon_tests}, " + (
        f"import graph {row.graph_tests}, precise {row.precise_tests}"
    )
    if not row.caught_by_full:
        return f"{row.mutation}: not caught by the full suite ({tests})"
    verdicts = [
        ("testmon", row.testmon_caught),
        ("import graph", row.graph_caught),
        ("precise", row.precise_caught),
    ]
    missed = [name for name, caught in verdicts if caught is False]
    verdict = f"MISSED BY {', '.join(missed)}" if missed else "caught"
    return f"{row.mutation}: {verdict} ({tests})"


def write_csv(rows: list[Row], path: Path) -> None:
    names = [column.name for column in fields(Row)]
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, [*names, "caught_by_full"])
        writer.writeheader()
        for row in rows:
            writer.writerow({**asdict(row), "caught_by_full": row.caught_by_full})


# Reporting


def percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def number(value: float | None, unit: str = "s") -> str:
    return "-" if value is None else f"{value:.1f}{unit}"


def caught_mark(caught: bool | None) -> str:
    return {True: "yes", False: "NO", None: "-"}[caught]


def print_table(result: ProjectResult) -> None:
    print(
        f"\n{result.name}: {result.full_tests} tests, {result.candidates} mutable "
        f"functions; full suite {result.full_seconds:.1f} s, "
        f"`tox -e py` {result.full_tox_seconds:.1f} s on the clean tree"
    )
    print(
        f"{'mutation':<58} {'full':>16} {'tox':>6} | {'testmon':>16} | "
        f"{'import graph':>16} | {'list':>6} {'precise':>16}"
    )
    print(
        f"{'':<58} {'fail/tests/s':>16} {'s':>6} | {'caught/tests/s':>16} | "
        f"{'caught/tests/s':>16} | {'s':>6} {'caught/tests/s':>16}"
    )
    for row in result.rows:
        full = f"{row.full_failing}/{row.full_tests}/{row.full_seconds:.1f}"
        testmon = (
            f"{caught_mark(row.testmon_caught)}/{row.testmon_tests}/"
            f"{row.testmon_seconds:.1f}"
        )
        graph = (
            f"{caught_mark(row.graph_caught)}/{row.graph_tests}/"
            f"{row.graph_seconds:.1f}"
        )
        precise = (
            "-"
            if row.precise_exit is None
            else f"{caught_mark(row.precise_caught)}/{row.precise_tests}/"
            f"{row.precise_seconds:.1f}"
        )
        print(
            f"{row.mutation[-58:]:<58} {full:>16} {number(row.full_tox_seconds):>6} | "
            f"{testmon:>16} | {graph:>16} | {number(row.list_seconds):>6} "
            f"{precise:>16}"
        )


@dataclass
class Column:
    """One selector's figures over some rows."""

    name: str
    caught: list[bool]  # per mutation the full suite caught
    shares: list[float]
    seconds: list[float]
    # seconds / the median full `tox -e py` seconds of the mutation's project
    ratios: list[float]
    paired_ratios: list[float]  # seconds / full tox seconds, where that was timed

    def safety(self, caught_by_full: int) -> str:
        if not self.shares:
            return "n/a"
        if not caught_by_full:
            return "n/a (nothing caught)"
        return (
            f"{percent(sum(self.caught) / caught_by_full)} "
            f"({sum(self.caught)}/{caught_by_full})"
        )


def median_full_tox(result: ProjectResult) -> float | None:
    timed = [row.full_tox_seconds for row in result.rows if row.full_tox_seconds]
    return statistics.median(timed) if timed else None


def columns(results: list[ProjectResult]) -> list[Column]:
    pairs = [(result, row) for result in results for row in result.rows]

    def column(name: str, caught, tests, seconds) -> Column:
        chosen = [(result, row) for result, row in pairs if tests(row) is not None]
        return Column(
            name,
            [caught(row) for _, row in chosen if row.caught_by_full],
            [tests(row) / result.full_tests for result, row in chosen],
            [seconds(row) for _, row in chosen],
            [
                seconds(row) / full
                for result, row in chosen
                if (full := median_full_tox(result))
            ],
            [
                seconds(row) / row.full_tox_seconds
                for _, row in chosen
                if row.full_tox_seconds
            ],
        )

    return [
        column(
            "testmon",
            lambda row: row.testmon_caught,
            lambda row: row.testmon_tests,
            lambda row: row.testmon_seconds,
        ),
        column(
            "import graph",
            lambda row: row.graph_caught,
            lambda row: row.graph_tests,
            lambda row: row.graph_seconds,
        ),
        column(
            "precise",
            lambda row: row.precise_caught,
            lambda row: row.precise_tests,
            lambda row: row.precise_seconds,
        ),
    ]


def print_summary(label: str, results: list[ProjectResult], every: int) -> None:
    rows = [row for result in results for row in result.rows]
    caught_by_full = sum(row.caught_by_full for row in rows)
    full_tox = [row.full_tox_seconds for row in rows if row.full_tox_seconds]
    full_tox_median = statistics.median(full_tox) if full_tox else None
    lists = [row.list_seconds for row in rows if row.list_seconds is not None]
    print(
        f"\n{label}: {len(rows)} mutations, {caught_by_full} caught by the full "
        f"suite; full `tox -e py` median {number(full_tox_median)} (timed on "
        f"mutations 1, {1 + every}, {1 + 2 * every}, ...: n={len(full_tox)}); "
        "selection overhead (`--list`) median "
        + (f"{1000 * statistics.median(lists):.0f} ms" if lists else "n/a")
    )
    print(
        f"{'selector':<13} {'safety':>16} {'median share':>12} {'mean share':>10} "
        f"{'median e2e':>10} {'ratio':>6} {'paired':>6}"
    )
    for column in columns(results):
        if not column.shares:
            print(f"{column.name:<13} not run")
            continue
        median_seconds = statistics.median(column.seconds)
        ratio = f"{statistics.median(column.ratios):.2f}x" if column.ratios else "n/a"
        paired = (
            f"{statistics.median(column.paired_ratios):.2f}x"
            if column.paired_ratios
            else "n/a"
        )
        print(
            f"{column.name:<13} {column.safety(caught_by_full):>16} "
            f"{percent(statistics.median(column.shares)):>12} "
            f"{percent(statistics.mean(column.shares)):>10} "
            f"{median_seconds:>9.1f}s {ratio:>6} {paired:>6}"
        )
    print(
        f"{'target':<13} {'100%':>16} {'<= 10%':>12} {'':>10} {'':>10} "
        f"{'<= 0.3x':>6} {'<= 0.3x':>6}"
    )
    print(
        "ratio: median of e2e / the project's median full `tox -e py`; "
        "paired: median of the per-mutation ratios, on the mutations where the "
        "full run was timed"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--projects", default=",".join(PROJECTS), help="comma-separated project names"
    )
    parser.add_argument(
        "--mutations", type=int, default=30, help="mutations per project"
    )
    parser.add_argument(
        "--seed", type=int, default=5, help="seed of the mutation choice"
    )
    parser.add_argument(
        "--full-tox-every",
        type=int,
        default=3,
        help="time the full `tox -e py` run on every K-th mutation",
    )
    args = parser.parse_args()
    names = args.projects.split(",")
    unknown = set(names) - set(PROJECTS)
    if unknown:
        parser.error(f"unknown project(s) {sorted(unknown)}; known: {list(PROJECTS)}")
    WORK.mkdir(parents=True, exist_ok=True)
    tiers = Tiers.probe()
    print(f"work: {WORK}, {os.cpu_count()} CPUs")
    if not tiers.precise:
        print(
            "PRECISE TIER NOT AVAILABLE: `tox-changed-tests --help` lists no "
            "--no-test-map; the precise column is skipped and the import-graph "
            "column runs `tox-changed-tests -e py`"
        )
    started = time.perf_counter()
    results = [bench_project(PROJECTS[name], args, tiers) for name in names]
    for result in results:
        print_table(result)
    for result in results:
        print_summary(result.name, [result], args.full_tox_every)
    if len(results) > 1:
        print_summary("overall", results, args.full_tox_every)
    print(f"\nbenchmark took {(time.perf_counter() - started) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
