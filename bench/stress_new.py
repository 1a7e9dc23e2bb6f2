"""Benchmark: does stress-new catch each cause of flaky test, block no stable
twin, and stay within its cost (issue 18)?

On a small project under bench/.work/stress_new (its tox env created once),
for each cause of tests/flaky_set.py and TRIALS times, the flaky file and its
stable twin are staged and `tox-changed-tests --stress-seed RANDOM` runs:

  detection per cause: the hook blocks and names the flaky test, by the
      selection run (pytest's FAILED line) or by a stress run (the verdict)
  false blocks: a stable twin named as failing

The same set runs by hand under pytest-flakefinder (`--flake-finder
--flake-runs=N`, one process) and pytest-randomly (N processes, `-p randomly`,
a random seed each) and plain pytest N times, in a separate venv
(bench/.work/stress_new/compare-venv; never a project dependency).

Cost, with the stable twins as the new tests:
  the hook with stress-new = N less the hook with stress-new = 1 (the
  selection run alone), against the new tests' own time as pytest reports
  it for one run of their files     target: at most N x own time + 1 s
  a change with no new or changed test: stressed_tests() alone, in process
                                    target: nothing (milliseconds)

Usage: python bench/stress_new.py [--trials T] [--runs N] [--skip-compare]
Run it from the project's virtualenv, e.g. `nice .venv/bin/python bench/stress_new.py`.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path.insert(0, str(PROJECT))

from hooks import config, git, stress_new  # noqa: E402
from tests.flaky_set import CAUSES  # noqa: E402

WORK = BENCH / ".work" / "stress_new"
TOX_INI = """\
[tox]
env_list = py

[testenv]
skip_install = true
deps = pytest
commands = pytest -p no:cacheprovider {posargs:tests}
"""
BASE = {
    "tox.ini": TOX_INI,
    "tests/test_base.py": "def test_base():\n    assert True\n",
    "pyproject.toml": "[tool.pytest.ini_options]\npythonpath = ['.']\n",
    ".gitignore": ".tox/\nbuild/\n",
}
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@testwarden",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@testwarden",
}
VERDICT = re.compile(r"^(\S+): passed \d+ of \d+ runs; ", re.MULTILINE)
FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+?)(?:\[\S*\])?(?: - .*)?$", re.MULTILINE)


def sh(*command: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=check,
        env={**os.environ, **GIT_IDENTITY},
    )


def make_project() -> Path:
    root = WORK / "project"
    if root.exists():
        shutil.rmtree(root)
    for path, text in BASE.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    sh("git", "init", "-q", "-b", "main", cwd=root)
    sh("git", "add", ".", cwd=root)
    sh("git", "commit", "-qm", "base", "--no-verify", cwd=root)
    sh(sys.executable, "-m", "tox", "-e", "py", "-q", cwd=root)  # create the env
    return root


def reset(root: Path) -> None:
    sh("git", "reset", "-q", "--hard", "main", cwd=root)
    sh("git", "clean", "-qfdx", "-e", ".tox", cwd=root)


def stage(root: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        (root / path).write_text(text)
    sh("git", "add", *files, cwd=root)


def hook(root: Path, *arguments: str) -> tuple[subprocess.CompletedProcess, float]:
    """The hook on the staged change, with a cache of its own: no trial
    answers from a run remembered by another."""
    cache = WORK / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "hooks", "tox-changed-tests", *arguments],
        cwd=root,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "PYTHONPATH": str(PROJECT),
            "TESTWARDEN_CACHE_DIR": str(cache),
        },
    )
    return completed, time.perf_counter() - started


def named_failing(output: str) -> tuple[set[str], set[str]]:
    """(named by a stress verdict, named by pytest as failed), as node ids."""
    verdicts = set(VERDICT.findall(output))
    failed = set(FAILED.findall(output))
    return verdicts, failed


def measure_hook(root: Path, trials: int, runs: int) -> dict[str, list[str]]:
    """Per cause, one outcome per trial: 'stress', 'selection run', 'missed';
    plus 'false block' entries for twins."""
    results: dict[str, list[str]] = {cause.name: [] for cause in CAUSES}
    false_blocks: list[str] = []
    for trial in range(trials):
        for cause in CAUSES:
            reset(root)
            stage(
                root,
                {
                    cause.flaky_path: cause.flaky_source,
                    cause.stable_path: cause.stable_source,
                },
            )
            seed = random.randint(1, 99_999)
            completed, _ = hook(
                root, "--stress-new", str(runs), "--stress-seed", str(seed)
            )
            verdicts, failed = named_failing(completed.stdout)
            if cause.flaky_test in verdicts:
                outcome = "stress"
            elif cause.flaky_test in failed and completed.returncode == 1:
                outcome = "selection run"
            else:
                outcome = "missed"
            results[cause.name].append(outcome)
            twins = {
                test for test in verdicts | failed if test.startswith(cause.stable_path)
            }
            if twins:
                false_blocks.append(f"{cause.name}: {sorted(twins)} (seed {seed})")
            print(f"trial {trial + 1} {cause.name}: {outcome}", flush=True)
    results["false blocks"] = false_blocks
    return results


def compare_venv() -> Path:
    venv = WORK / "compare-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        sh(sys.executable, "-m", "venv", str(venv), cwd=WORK)
        sh(
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "pytest",
            "pytest-flakefinder",
            "pytest-randomly",
            cwd=WORK,
        )
    return python


def failing_tests(python: Path, root: Path, *arguments: str) -> set[str]:
    completed = sh(
        str(python),
        "-m",
        "pytest",
        "-rA",
        "-p",
        "no:cacheprovider",
        *arguments,
        "tests",
        cwd=root,
        check=False,
    )
    return set(FAILED.findall(completed.stdout))


def measure_tools(root: Path, trials: int, runs: int) -> dict[str, dict[str, int]]:
    """Trials (of TRIALS) in which each tool named each flaky test; and twins."""
    python = compare_venv()
    tools = {
        "pytest-flakefinder": lambda: failing_tests(
            python, root, "-p", "no:randomly", "--flake-finder", f"--flake-runs={runs}"
        ),
        "pytest-randomly": lambda: set().union(
            *(failing_tests(python, root, "-p", "randomly") for _ in range(runs))
        ),
        "plain reruns": lambda: set().union(
            *(failing_tests(python, root, "-p", "no:randomly") for _ in range(runs))
        ),
    }
    detected = {tool: {cause.name: 0 for cause in CAUSES} for tool in tools}
    false_blocks = {tool: 0 for tool in tools}
    for _ in range(trials):
        for tool, run in tools.items():
            reset(root)
            stage(root, {cause.flaky_path: cause.flaky_source for cause in CAUSES})
            stage(root, {cause.stable_path: cause.stable_source for cause in CAUSES})
            failing = run()
            for cause in CAUSES:
                detected[tool][cause.name] += cause.flaky_test in failing
            false_blocks[tool] += any("_stable.py" in test for test in failing)
    for tool in tools:
        detected[tool]["false blocks"] = false_blocks[tool]
    return detected


PYTEST_TIME = re.compile(r"\b\d+ passed in ([0-9.]+)s")


def tests_own_time(root: Path, files: list[str]) -> tuple[float, float]:
    """FILES run once in the tox env: (pytest's own time, as it reports it;
    the whole tox run's wall time, what a user runs by hand)."""
    started = time.perf_counter()
    completed = sh(
        sys.executable,
        "-m",
        "tox",
        "-e",
        "py",
        "-q",
        "--skip-pkg-install",
        "--",
        *files,
        cwd=root,
    )
    wall = time.perf_counter() - started
    return float(PYTEST_TIME.search(completed.stdout).group(1)), wall


def measure_cost(root: Path, runs: int, repeat: int) -> None:
    reset(root)
    stable = {cause.stable_path: cause.stable_source for cause in CAUSES}
    stage(root, stable)
    own, by_hand, alone, stressed = [], [], [], []
    for _ in range(repeat):
        pytest_time, tox_time = tests_own_time(root, list(stable))
        own.append(pytest_time)
        by_hand.append(tox_time)
        completed, seconds = hook(root, "--stress-new", "1")
        assert completed.returncode == 0, completed.stdout
        alone.append(seconds)
        completed, seconds = hook(root, "--stress-new", str(runs))
        assert completed.returncode == 0, completed.stdout
        stressed.append(seconds)
    own_time = statistics.median(own)
    alone_time, stressed_time = statistics.median(alone), statistics.median(stressed)
    extra = stressed_time - alone_time
    budget = runs * own_time + 1
    print(
        f"cost, {len(stable)} new tests in {len(stable)} files: their own time "
        f"(pytest) median {own_time:.2f} s; the hook with stress-new = 1 median "
        f"{alone_time:.2f} s, with stress-new = {runs} median {stressed_time:.2f} s; "
        f"extra {extra:.2f} s against a budget of {runs} x own + 1 s = "
        f"{budget:.2f} s: {'within' if extra <= budget else 'OVER'} "
        f"({extra / budget:.2f} of it); by hand, {runs} tox runs of those files "
        f"take {runs * statistics.median(by_hand):.2f} s: the extra is "
        f"{extra / (runs * statistics.median(by_hand)):.2f}x of that"
    )
    reset(root)
    stage(root, {"tests/test_base.py": BASE["tests/test_base.py"] + "# note\n"})
    os.chdir(root)
    settings = config.load(root)
    change_set = git.staged_changes()
    started = time.perf_counter()
    for _ in range(20):
        assert stress_new.stressed_tests(change_set, settings, root) == []
    each = (time.perf_counter() - started) / 20
    print(f"cost with no new or changed test: stressed_tests() {each * 1000:.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3, help="cost measurements")
    parser.add_argument("--skip-compare", action="store_true")
    parser.add_argument("--skip-hook", action="store_true")
    args = parser.parse_args()
    os.environ["TOX_WORK_DIR"] = str(WORK / "tox")
    root = make_project()
    if not args.skip_hook:
        results = measure_hook(root, args.trials, args.runs)
        print(f"\nstress-new = {args.runs}, {args.trials} trial(s) per cause:")
        for cause in CAUSES:
            outcomes = results[cause.name]
            caught = sum(outcome != "missed" for outcome in outcomes)
            by_stress = outcomes.count("stress")
            print(
                f"  {cause.name}: blocked {caught}/{len(outcomes)} "
                f"({by_stress} by stress, {caught - by_stress} by the selection run)"
            )
        print(f"  false blocks on twins: {len(results['false blocks'])}")
        for entry in results["false blocks"]:
            print(f"    {entry}")
    if not args.skip_compare:
        tools = measure_tools(root, args.trials, args.runs)
        print(f"\nby hand, {args.runs} runs, {args.trials} trial(s):")
        for tool, detected in tools.items():
            cells = ", ".join(
                f"{name}: {count}/{args.trials}" for name, count in detected.items()
            )
            print(f"  {tool}: {cells}")
    measure_cost(root, args.runs, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
