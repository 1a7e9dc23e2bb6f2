"""Benchmark: does tox-changed-tests select every test a change can break, and fast?

Real projects from PyPI (sdists that ship their tests) become git repositories
under bench/.work/tox_changed_tests, each with a tox.ini whose one environment
runs `pytest {posargs:tests}`. Into each we inject seeded single-function
mutations of the source code (`raise RuntimeError(...)` as the first statement
of one function's body), stage each one, and compare what the full suite
catches with what the selection (`tox-changed-tests --list`) would catch: a
mutation is caught by the selection when one of the test files it makes fail
is selected, or the whole suite is. Measured, with the issue's targets:

  safety: caught by the selection / caught by the full suite
                                     target 100%, never below 99.5%
  median share of test files selected                target <= 30%
  selection overhead (`--list`), cold and warm caches, on each project and on
  SQLAlchemy 2.0.36 (686 Python files, bench/.work/tree, as isort_black.py
  leaves it)                               target <= 1 s cold, <= 150 ms warm
  end to end: the hook (tox config probe + tox on the selection) against a
  full `tox` run, same environment already created   target median <= 25%

Usage: python bench/tox_changed_tests.py [--mutations N] [--projects a,b]
           [--end-to-end K] [--repeat R] [--seed S]
Run it from the project's virtualenv (testwarden and tox installed), e.g.
`nice -n 10 .venv/bin/python bench/tox_changed_tests.py`.
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
WORK = BENCH / ".work" / "tox_changed_tests"
SQLALCHEMY_TREE = BENCH / ".work" / "tree"  # made by bench/isort_black.py
BIN = Path(sys.executable).parent
MUTANT_LINE = 'raise RuntimeError("testwarden-mutant")'
# Decorated functions whose body never runs.
NEVER_RUN_DECORATORS = {"overload", "abstractmethod"}
TEST_FILE_PREFIX, TEST_FILE_SUFFIX = "test_", "_test.py"
SUITE_TIMEOUT = 900
# A mutant can fail thousands of parametrized tests; formatting their
# tracebacks took minutes per run, so both tox and the full suite skip them.


@dataclass(frozen=True)
class Project:
    requirement: str  # pinned, as pip takes it
    source_dir: str  # where the mutated modules live
    test_deps: tuple[str, ...]
    pythonpath: str  # relative to the root; the tests import the sources from it
    tests_dir: str = "tests"

    @property
    def name(self) -> str:
        return self.requirement.partition("==")[0]


PROJECTS = {
    project.name: project
    for project in (
        Project("packaging==24.2", "src/packaging", ("pytest<9", "pretend"), "src"),
        # Its tests/conftest.py uses the `path` hook argument pytest 9 removed.
        Project("boltons==24.1.0", "boltons", ("pytest<9",), "."),
    )
}


@dataclass(frozen=True)
class Mutation:
    path: str
    function: str
    line: int  # where the raise goes, 1-based, in the mutated text
    mutated_text: str

    def describe(self) -> str:
        return f"{self.path}:{self.line} {self.function}()"


@dataclass
class Outcome:
    mutation: Mutation
    failing_files: set[str]
    selected: set[str]
    whole_suite: bool
    list_seconds: float
    list_output: str
    hook_seconds: float | None = None
    full_tox_seconds: float | None = None
    hook_failed: bool | None = None

    @property
    def caught_by_full(self) -> bool:
        return bool(self.failing_files)

    @property
    def caught_by_selection(self) -> bool:
        return self.whole_suite or bool(self.failing_files & self.selected)


@dataclass
class ProjectResult:
    name: str
    root: Path
    test_files: list[str]
    candidates: int
    skipped: dict[str, int]
    outcomes: list[Outcome] = field(default_factory=list)
    overhead: tuple[float, float] | None = None  # cold, warm median seconds


def run(
    command: list[str], cwd: Path, environment: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=SUITE_TIMEOUT,
    )


def git(root: Path, *args: str) -> str:
    completed = run(["git", *args], root)
    if completed.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} in {root}: {completed.stderr}")
    return completed.stdout


def bench_environment(cache_dir: Path) -> dict[str, str]:
    return {**os.environ, "TESTWARDEN_CACHE_DIR": str(cache_dir)}


def download_sdist(requirement: str, sdists: Path) -> Path:
    """The sdist of a pinned REQUIREMENT, downloaded into SDISTS once."""
    stem = requirement.replace("==", "-")
    existing = sorted(sdists.glob(f"{stem}.tar.gz"))
    if existing:
        return existing[0]
    sdists.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"),
            *("--no-binary", ":all:", "--dest", str(sdists), requirement),
        ],
        check=True,
    )
    [archive] = sdists.glob(f"{stem}.tar.gz")
    return archive


def unpack_sdist(archive: Path, root: Path) -> None:
    """The sdist's top directory becomes ROOT."""
    unpacked = root.parent / "unpacked"
    shutil.rmtree(unpacked, ignore_errors=True)
    with tarfile.open(archive) as sdist:
        sdist.extractall(unpacked, filter="data")
    [top] = unpacked.iterdir()
    top.rename(root)
    unpacked.rmdir()


def failing_node_ids(pytest_output: str) -> set[str]:
    """The node ids pytest's `-rfE` summary lists as FAILED or ERROR."""
    failing = set()
    for line in pytest_output.splitlines():
        status, _, rest = line.partition(" ")
        if status in ("FAILED", "ERROR") and rest:
            failing.add(rest.split(" - ", 1)[0].strip())
    return failing


def tox_ini(project: Project) -> str:
    deps = "".join(f"\n    {dependency}" for dependency in project.test_deps)
    return (
        "[tox]\n"
        "envlist = py\n"
        f"toxworkdir = {WORK / 'toxenvs' / project.name}\n"
        "\n"
        "[testenv]\n"
        "skip_install = true\n"
        f"deps ={deps}\n"
        f"setenv = PYTHONPATH = {{toxinidir}}/{project.pythonpath}\n"
        f"commands = pytest -p no:cacheprovider --tb=no -rfE {{posargs:{project.tests_dir}}}\n"
        "\n"
        # Ends pytest's search for a configuration here: without it, a project
        # with none (packaging) ran with testwarden's own pyproject.toml above
        # bench/.work.
        "[pytest]\n"
    )


def make_repository(project: Project) -> Path:
    """The unpacked sdist as a git repository with our tox.ini, committed."""
    root = WORK / project.name
    if (root / ".git").is_dir():
        git(root, "reset", "--quiet", "--hard")
        return root
    unpack_sdist(download_sdist(project.requirement, WORK / "sdists"), root)
    (root / "tox.ini").write_text(tox_ini(project), encoding="utf-8")
    git(root, "init", "--quiet")
    git(root, "add", "-A")
    git(
        root,
        *("-c", "user.name=bench", "-c", "user.email=bench@localhost"),
        *("commit", "--quiet", "-m", f"{project.requirement} sdist"),
    )
    return root


def create_tox_environment(root: Path, environment: dict[str, str]) -> None:
    completed = run([sys.executable, "-m", "tox", "--notest"], root, environment)
    if completed.returncode != 0:
        raise RuntimeError(f"tox --notest in {root}:\n{completed.stdout}")


def tracked_python(root: Path, directory: str) -> list[str]:
    return [
        path for path in git(root, "ls-files", "--", directory).splitlines() if path
    ]


def is_test_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name.endswith(".py") and (
        name.startswith(TEST_FILE_PREFIX) or name.endswith(TEST_FILE_SUFFIX)
    )


def failing_tests(root: Path, project: Project) -> set[str]:
    """Node ids of the tests that fail or error when the full suite runs."""
    python = WORK / "toxenvs" / project.name / "py" / "bin" / "python"
    environment = {**os.environ, "PYTHONPATH": str(root / project.pythonpath)}
    completed = run(
        [
            *(str(python), "-m", "pytest", "-q", "--tb=no", "-rfE"),
            *("-p", "no:cacheprovider", project.tests_dir),
        ],
        root,
        environment,
    )
    failing = failing_node_ids(completed.stdout)
    if completed.returncode not in (0, 1) and not failing:
        raise RuntimeError(f"pytest in {root} broke:\n{completed.stdout[-3000:]}")
    return failing


def test_file_of(node_id: str) -> str:
    return node_id.split("::", 1)[0]


def _decorator_name(decorator: ast.expr) -> str:
    while isinstance(decorator, ast.Call):
        decorator = decorator.func
    if isinstance(decorator, ast.Attribute):
        return decorator.attr
    return decorator.id if isinstance(decorator, ast.Name) else ""


def _insertion_point(
    function: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]
) -> tuple[int, str] | None:
    """(0-based line index, indentation) for the raise, or None if the body
    does not start on a line of its own."""
    body = function.body
    has_docstring = (
        isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    )
    if has_docstring and len(body) == 1:
        anchor, index = body[0], body[0].end_lineno
    else:
        anchor = body[1] if has_docstring else body[0]
        index = anchor.lineno - 1
    indentation = lines[anchor.lineno - 1][: anchor.col_offset]
    if anchor.lineno == function.lineno or indentation.strip():
        return None
    return index, indentation


def mutations_of(path: str, text: str, skipped: dict[str, int]) -> list[Mutation]:
    lines = text.splitlines(keepends=True)
    mutations = []
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if {_decorator_name(item) for item in node.decorator_list} & (
            NEVER_RUN_DECORATORS
        ):
            skipped["@overload/@abstractmethod"] += 1
            continue
        point = _insertion_point(node, lines)
        if point is None:
            skipped["body on the def line"] += 1
            continue
        index, indentation = point
        mutated = [*lines[:index], f"{indentation}{MUTANT_LINE}\n", *lines[index:]]
        mutations.append(Mutation(path, node.name, index + 1, "".join(mutated)))
    return mutations


def all_mutations(
    root: Path, project: Project
) -> tuple[list[Mutation], dict[str, int]]:
    skipped = {"@overload/@abstractmethod": 0, "body on the def line": 0}
    mutations = []
    for path in tracked_python(root, project.source_dir):
        if path.endswith(".py"):
            text = (root / path).read_text(encoding="utf-8")
            mutations.extend(mutations_of(path, text, skipped))
    return mutations, skipped


def list_selection(
    root: Path, environment: dict[str, str]
) -> tuple[float, str, set[str], bool]:
    """Time `tox-changed-tests --list`: seconds, output, selected files, whole suite."""
    start = time.perf_counter()
    completed = run([str(BIN / "tox-changed-tests"), "--list"], root, environment)
    seconds = time.perf_counter() - start
    if completed.returncode != 0:
        raise RuntimeError(f"tox-changed-tests --list in {root}: {completed.stderr}")
    selected = set()
    whole_suite = False
    for line in completed.stdout.splitlines():
        path, _, reason = line.partition(": ")
        if path == "whole suite":
            whole_suite = True
        elif not reason.startswith("selects nothing"):
            selected.add(path)
    return seconds, completed.stdout, selected, whole_suite


def timed_exit(
    command: list[str], root: Path, environment: dict[str, str]
) -> tuple[float, int]:
    start = time.perf_counter()
    completed = run(command, root, environment)
    return time.perf_counter() - start, completed.returncode


def stage(root: Path, path: str, text: str) -> None:
    (root / path).write_text(text, encoding="utf-8")
    git(root, "add", "--", path)


def restore(root: Path, path: str) -> None:
    # From HEAD: the index holds the staged change too.
    git(root, "checkout", "--quiet", "HEAD", "--", path)


def replay(
    mutation: Mutation,
    root: Path,
    project: Project,
    baseline: set[str],
    environment: dict[str, str],
    end_to_end: bool,
) -> Outcome:
    stage(root, mutation.path, mutation.mutated_text)
    try:
        seconds, output, selected, whole_suite = list_selection(root, environment)
        failing = failing_tests(root, project) - baseline
        outcome = Outcome(
            mutation,
            {test_file_of(node) for node in failing},
            selected,
            whole_suite,
            seconds,
            output,
        )
        if end_to_end:
            hook = [str(BIN / "tox-changed-tests")]
            outcome.hook_seconds, hook_exit = timed_exit(hook, root, environment)
            outcome.hook_failed = hook_exit != 0
            full_tox = [sys.executable, "-m", "tox"]
            outcome.full_tox_seconds, _ = timed_exit(full_tox, root, environment)
    finally:
        restore(root, mutation.path)
    return outcome


def middle_module(root: Path, source_dir: str) -> str:
    modules = sorted(
        (path for path in tracked_python(root, source_dir) if path.endswith(".py")),
        key=lambda path: (root / path).stat().st_size,
    )
    return modules[len(modules) // 2]


def selection_overhead(root: Path, source_dir: str, repeat: int) -> tuple[float, float]:
    """Median seconds of `--list` with empty and with warm caches, one staged line."""
    module = middle_module(root, source_dir)
    original = (root / module).read_text(encoding="utf-8")
    stage(root, module, original + "_testwarden_bench = 1\n")
    scratch = Path(tempfile.mkdtemp(dir=WORK))
    try:
        cold = [
            list_selection(
                root, bench_environment(Path(tempfile.mkdtemp(dir=scratch)))
            )[0]
            for _ in range(repeat)
        ]
        warm_environment = bench_environment(scratch / "warm")
        list_selection(root, warm_environment)
        warm = [list_selection(root, warm_environment)[0] for _ in range(repeat)]
    finally:
        restore(root, module)
        shutil.rmtree(scratch)
    return statistics.median(cold), statistics.median(warm)


def sqlalchemy_copy() -> Path:
    copy = WORK / "sqlalchemy"
    if not copy.is_dir():
        if not (SQLALCHEMY_TREE / ".git").is_dir():
            raise SystemExit(
                f"{SQLALCHEMY_TREE} is missing: run bench/isort_black.py once first"
            )
        shutil.copytree(SQLALCHEMY_TREE, copy, symlinks=True)
    git(copy, "reset", "--quiet", "--hard")
    return copy


def bench_project(project: Project, args: argparse.Namespace) -> ProjectResult:
    root = make_repository(project)
    environment = bench_environment(WORK / "cache")
    create_tox_environment(root, environment)
    baseline = failing_tests(root, project)
    if baseline:
        print(f"{project.name}: {len(baseline)} test(s) fail before any mutation")
    mutations, skipped = all_mutations(root, project)
    chosen = random.Random(args.seed).sample(
        mutations, min(args.mutations, len(mutations))
    )
    result = ProjectResult(
        project.name,
        root,
        [
            path
            for path in tracked_python(root, project.tests_dir)
            if is_test_file(path)
        ],
        len(mutations),
        skipped,
    )
    list_selection(root, environment)  # warm the import-graph cache
    for number, mutation in enumerate(chosen):
        outcome = replay(
            mutation, root, project, baseline, environment, number < args.end_to_end
        )
        result.outcomes.append(outcome)
        print(f"  {project.name} {number + 1}/{len(chosen)} {progress(outcome)}")
    result.overhead = selection_overhead(root, project.source_dir, args.repeat)
    return result


def progress(outcome: Outcome) -> str:
    verdict = (
        "not caught by the full suite"
        if not outcome.caught_by_full
        else "caught" if outcome.caught_by_selection else "MISSED BY THE SELECTION"
    )
    return f"{outcome.mutation.describe()}: {verdict}"


def share_selected(outcome: Outcome, test_files: list[str]) -> float:
    if outcome.whole_suite:
        return 1.0
    return len(outcome.selected & set(test_files)) / len(test_files)


def percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def milliseconds(seconds: float) -> str:
    return f"{1000 * seconds:.0f} ms"


@dataclass
class Figures:
    """The measured figures over some outcomes."""

    mutations: int
    caught_by_full: int
    caught_by_selection: int
    whole_suite: int
    median_share: float
    median_warm_list: float
    ratios: list[float]

    @property
    def safety(self) -> str:
        if not self.caught_by_full:
            return "n/a"
        return percent(self.caught_by_selection / self.caught_by_full)


def figures(results: list[ProjectResult]) -> Figures:
    outcomes = [(result, outcome) for result in results for outcome in result.outcomes]
    caught = [outcome for _, outcome in outcomes if outcome.caught_by_full]
    return Figures(
        mutations=len(outcomes),
        caught_by_full=len(caught),
        caught_by_selection=sum(outcome.caught_by_selection for outcome in caught),
        whole_suite=sum(outcome.whole_suite for _, outcome in outcomes),
        median_share=statistics.median(
            share_selected(outcome, result.test_files) for result, outcome in outcomes
        ),
        median_warm_list=statistics.median(
            outcome.list_seconds for _, outcome in outcomes
        ),
        ratios=[
            outcome.hook_seconds / outcome.full_tox_seconds
            for _, outcome in outcomes
            if outcome.hook_seconds is not None and outcome.full_tox_seconds
        ],
    )


def print_results(
    results: list[ProjectResult], sqlalchemy: tuple[float, float]
) -> None:
    print()
    for result in results:
        skipped = ", ".join(f"{count} {why}" for why, count in result.skipped.items())
        print(
            f"{result.name}: {len(result.test_files)} test files, "
            f"{result.candidates} mutable functions (skipped: {skipped})"
        )
    rows = [(result.name, figures([result])) for result in results]
    rows.append(("overall", figures(results)))
    header = (
        f"{'project':<10} {'mutations':>9} {'caught full':>11} {'caught sel':>10} "
        f"{'safety':>7} {'whole':>5} {'median share':>12} {'list (warm)':>11} "
        f"{'e2e ratio':>13}"
    )
    print()
    print(header)
    for name, row in rows:
        ratio = (
            f"{statistics.median(row.ratios):.2f} (n={len(row.ratios)})"
            if row.ratios
            else "n/a"
        )
        print(
            f"{name:<10} {row.mutations:>9} {row.caught_by_full:>11} "
            f"{row.caught_by_selection:>10} {row.safety:>7} {row.whole_suite:>5} "
            f"{percent(row.median_share):>12} "
            f"{milliseconds(row.median_warm_list):>11} {ratio:>13}"
        )
    print(
        f"{'target':<10} {'':>9} {'':>11} {'':>10} {'100%':>7} {'':>5} "
        f"{'<= 30%':>12} {'<= 150 ms':>11} {'<= 0.25':>13}"
    )
    print()
    print(f"selection overhead, one staged line  {'cold':>8} {'warm':>8}")
    overheads = [(result.name, result.overhead) for result in results]
    for name, (cold, warm) in [*overheads, ("sqlalchemy (686 files)", sqlalchemy)]:
        print(f"{name:<36} {milliseconds(cold):>8} {milliseconds(warm):>8}")
    print(f"{'target':<36} {'<= 1 s':>8} {'<= 150 ms':>8}")
    print_disagreements(results)


def print_disagreements(results: list[ProjectResult]) -> None:
    for result in results:
        for outcome in result.outcomes:
            if outcome.caught_by_full and not outcome.caught_by_selection:
                print(f"\nUNSAFE: {result.name} {outcome.mutation.describe()}")
                print(f"  failing test files: {sorted(outcome.failing_files)}")
                print(
                    "  selection:\n    " + outcome.list_output.replace("\n", "\n    ")
                )
            if (
                outcome.hook_failed is not None
                and outcome.hook_failed != outcome.caught_by_selection
            ):
                print(
                    f"\nHOOK DISAGREES: {result.name} {outcome.mutation.describe()}: "
                    f"the hook {'failed' if outcome.hook_failed else 'passed'}, "
                    "the full suite's failures say otherwise"
                )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--mutations", type=int, default=25, help="mutations per project"
    )
    parser.add_argument(
        "--projects", default=",".join(PROJECTS), help="comma-separated project names"
    )
    parser.add_argument(
        "--end-to-end",
        type=int,
        default=5,
        help="mutations per project also timed as hook against full tox",
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="runs per overhead timing"
    )
    parser.add_argument(
        "--seed", type=int, default=5, help="seed of the mutation choice"
    )
    args = parser.parse_args()
    unknown = set(args.projects.split(",")) - set(PROJECTS)
    if unknown:
        parser.error(f"unknown project(s) {sorted(unknown)}; known: {list(PROJECTS)}")
    WORK.mkdir(parents=True, exist_ok=True)
    print(f"work: {WORK}, {os.cpu_count()} CPUs")
    results = [bench_project(PROJECTS[name], args) for name in args.projects.split(",")]
    sqlalchemy = selection_overhead(sqlalchemy_copy(), "lib/sqlalchemy", args.repeat)
    print_results(results, sqlalchemy)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
