"""Benchmark: mutation-gate on real recent commits, checked against ground truth.

For each of the last N non-merge commits of a project's git history that
change non-test Python source, the commit is checked out in a bench clone
and `mutation-gate --from-ref C^ --to-ref C -e bench --json` runs through
tox (an environment `bench` the script adds, untracked: pytest, the project
installed as a wheel). Per commit: mutants, survivors, killed by timeout,
the score, wall time.

Ground truth (--ground-truth): each judged mutant is written to disk (the
node replaced by its mutation, the file unparsed) in the same clone, which a
separate venv has installed editable, and the project's whole suite runs
with pytest (-x, a timeout of 10x the clean suite's time). A mutant is
killed there when the suite fails. Agreement = same verdict / judged.

Summary: score distribution over the commits (min, median, max), the block
rate at fail-under 60/80/100, commits of up to 20 changed lines gated within
30 s, agreement with ground truth.

Usage:
  python bench/mutation_gate.py --repo /work/.mirror/pallets+click/repo \\
      --work /work/bench-mutation/click --commits 30 [--ground-truth]
Run it from testwarden's virtualenv (mutation-gate and tox on PATH), niced.
mutmut 3 side by side is not wired in yet (see the report of issue 17).
"""

from __future__ import annotations

import argparse
import ast
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from hooks.inenv.testwarden_mutation_ast import (
    Site,
    describe,
    mutate,
    operators_for,
)

BENCH_TOX_INI = """\
[tox]
env_list = bench

[testenv:bench]
deps = {pytest}
commands = pytest -p no:cacheprovider -q {{posargs:tests}}
"""
FAIL_UNDER = (60, 80, 100)
SMALL_CHANGE_LINES = 20
SMALL_CHANGE_SECONDS = 30


def git(work: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=work, capture_output=True, text=True, check=True
    ).stdout


def source_commits(work: Path, count: int, rev: str) -> list[str]:
    """The newest COUNT non-merge commits of REV changing Python outside tests/.

    From REV, not HEAD: HEAD is the last commit a previous run checked out."""
    listing = git(work, "log", "--no-merges", "--format=%H", "-400", rev, "--", "*.py")
    chosen = []
    for commit in listing.split():
        changed = git(work, "diff", "--name-only", f"{commit}^", commit, "--", "*.py")
        if any(not path.startswith(("tests/", "docs/")) for path in changed.split()):
            chosen.append(commit)
        if len(chosen) == count:
            break
    return chosen


def changed_lines(work: Path, commit: str) -> int:
    stat = git(work, "diff", "--numstat", f"{commit}^", commit, "--", "*.py")
    return sum(int(row.split()[0]) for row in stat.splitlines() if row[0].isdigit())


def source_changed_lines(work: Path, commit: str) -> int:
    """Lines added plus lines removed in the Python files outside tests/ and docs/."""
    stat = git(work, "diff", "--numstat", f"{commit}^", commit, "--", "*.py")
    total = 0
    for row in stat.splitlines():
        added, removed, path = row.split("\t", 2)
        if added.isdigit() and not path.startswith(("tests/", "docs/")):
            total += int(added) + int(removed)
    return total


def prepare(repo: Path, work: Path) -> None:
    if not work.exists():
        subprocess.run(["git", "clone", "--quiet", str(repo), str(work)], check=True)
    exclude = work / ".git" / "info" / "exclude"
    exclude.write_text("tox.ini\n.tox/\n")


def run_gate(
    work: Path, commit: str, results: Path, reuse: bool, pytest: list[str]
) -> tuple[dict, float, int]:
    git(work, "checkout", "--quiet", "--force", commit)
    (work / "tox.ini").write_text(BENCH_TOX_INI.format(pytest="\n    ".join(pytest)))
    timing = results.with_suffix(".seconds")
    if reuse and results.is_file() and timing.is_file():
        seconds, returncode = timing.read_text().split()
        return json.loads(results.read_text()), float(seconds), int(returncode)
    results.unlink(missing_ok=True)
    started = time.monotonic()
    completed = subprocess.run(
        ["mutation-gate", "--from-ref", f"{commit}^", "--to-ref", commit]
        + ["-e", "bench", "--json", str(results)],
        cwd=work,
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - started
    if not results.is_file():
        return {"error": (completed.stdout + completed.stderr)[-400:]}, seconds, 1
    timing.write_text(f"{seconds} {completed.returncode}\n")
    return json.loads(results.read_text()), seconds, completed.returncode


class _Mutator(ast.NodeTransformer):
    def __init__(self, site: Site, operator: str) -> None:
        self.site, self.operator = site, operator

    def visit(self, node: ast.AST) -> ast.AST:
        node = self.generic_visit(node)
        if hasattr(node, "lineno") and Site.of(node) == self.site:
            return mutate(node, self.operator)
        return node


def ground_truth(work: Path, python: str, outcome: dict, timeout: float) -> str:
    """'killed' or 'survived': the mutant on disk, the whole suite run.

    The node is the one at the mutant's line and column whose source text and
    mutated text are the ones the gate reported ('unmatched' when none is)."""
    path = work / outcome["path"]
    original = path.read_text()
    tree = ast.parse(original)
    line, column = outcome["line"], int(outcome["key"].split(":")[-2])
    sites = []
    for node in ast.walk(tree):
        if not hasattr(node, "lineno") or (node.lineno, node.col_offset) != (
            line,
            column,
        ):
            continue
        operator = outcome["operator"]
        if not any(operator in operators_for(node, cond) for cond in (True, False)):
            continue
        try:
            described = describe(node, outcome["operator"], original)
        except (AttributeError, KeyError, TypeError, ValueError):
            continue
        if described == (outcome["original"], outcome["mutated"]):
            sites.append(Site.of(node))
    if len(sites) != 1:
        return "unmatched"
    mutated = ast.unparse(
        _Mutator(sites[0], outcome["operator"]).visit(ast.parse(original))
    )
    if mutated == ast.unparse(ast.parse(original)):
        return "unmatched"
    try:
        path.write_text(mutated)
        suite = subprocess.run(
            [python, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "tests"],
            cwd=work,
            capture_output=True,
            timeout=timeout,
        )
        return "survived" if suite.returncode == 0 else "killed"
    except subprocess.TimeoutExpired:
        return "killed"
    finally:
        path.write_text(original)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--commits", type=int, default=30)
    parser.add_argument("--ground-truth", action="store_true")
    parser.add_argument("--python", help="the editable venv's python (ground truth)")
    parser.add_argument(
        "--rev", default="origin/HEAD", help="take the commits from here"
    )
    parser.add_argument(
        "--pytest",
        default="pytest",
        help="the pytest requirement of the bench tox env (pytest 9 turns "
        "deprecation warnings of older click tests into collection errors)",
    )
    parser.add_argument(
        "--extra-dep",
        action="append",
        default=[],
        help="another requirement the project's tests need (repeatable)",
    )
    parser.add_argument(
        "--reuse-results",
        action="store_true",
        help="take a commit's gate results and wall time from an earlier run "
        "(its JSON beside --work) instead of running the gate again",
    )
    args = parser.parse_args()
    if args.ground_truth and not args.python:
        parser.error("--ground-truth needs --python (a venv with the project editable)")
    prepare(args.repo, args.work)
    rows = []
    agreement = [0, 0]
    disagreements: list[str] = []
    unmatched: list[str] = []
    for commit in source_commits(args.work, args.commits, args.rev):
        results_file = args.work.parent / f"{args.work.name}-{commit[:10]}.json"
        results, seconds, returncode = run_gate(
            args.work,
            commit,
            results_file,
            args.reuse_results,
            [args.pytest, *args.extra_dep],
        )
        mutants = results.get("mutants", [])
        judged = [
            m
            for m in mutants
            if m["verdict"] in ("killed", "timeout", "import-broken", "survived")
        ]
        survivors = [m for m in judged if m["verdict"] == "survived"]
        score = 100 * (len(judged) - len(survivors)) / len(judged) if judged else None
        row = {
            "commit": commit[:10],
            "changed_lines": changed_lines(args.work, commit),
            "source_changed_lines": source_changed_lines(args.work, commit),
            "mutants": len(judged),
            "survived": len(survivors),
            "timeouts": sum(m["verdict"] == "timeout" for m in judged),
            "not_covered": sum(m["verdict"] == "not-covered" for m in mutants),
            "not_judged": sum(m["verdict"] == "error" for m in mutants),
            "exit": returncode,
            "score": score,
            "seconds": round(seconds, 1),
            "error": results.get("error"),
        }
        if args.ground_truth and judged:
            # the commit's own dependencies (click 8.3 needs typing_extensions,
            # which the editable install of a later commit did not bring)
            subprocess.run(
                [args.python, "-m", "pip", "install", "-q", "-e", str(args.work)],
                capture_output=True,
                check=True,
            )
            started = time.monotonic()
            clean = subprocess.run(
                [args.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
                cwd=args.work,
                capture_output=True,
                text=True,
            )
            if clean.returncode != 0:
                row["ground_truth"] = (
                    "clean suite fails: " + (clean.stdout + clean.stderr)[-200:]
                )
            else:
                timeout = 10 * (time.monotonic() - started) + 10
                same = 0
                for outcome in judged:
                    expected = ground_truth(args.work, args.python, outcome, timeout)
                    ours = "survived" if outcome["verdict"] == "survived" else "killed"
                    if expected == "unmatched":
                        unmatched.append(f"{commit[:10]} {outcome['key']}")
                        continue
                    same += expected == ours
                    agreement[0] += expected == ours
                    agreement[1] += 1
                    if expected != ours:
                        disagreements.append(
                            f"{commit[:10]} {outcome['key']} "
                            f"`{outcome['original']}` -> `{outcome['mutated']}`: "
                            f"ours {outcome['verdict']}, suite {expected}"
                        )
                        print(f"  disagree: {disagreements[-1]}", flush=True)
                row["ground_truth"] = f"{same}/{len(judged)}"
        rows.append(row)
        print(json.dumps(row), flush=True)
    scores = [row["score"] for row in rows if row["score"] is not None]
    print(f"commits: {len(rows)}, with mutants: {len(scores)}")
    if scores:
        print(
            f"score min/median/max: {min(scores):.0f} / "
            f"{statistics.median(scores):.0f} / {max(scores):.0f}"
        )
        for threshold in FAIL_UNDER:
            blocked = sum(score < threshold for score in scores)
            print(f"block rate at fail-under {threshold}: {blocked}/{len(scores)}")
    for measure, name in (
        ("changed_lines", "lines added to *.py"),
        ("source_changed_lines", "source lines added + removed"),
    ):
        small = [row for row in rows if row[measure] <= SMALL_CHANGE_LINES]
        fast = sum(row["seconds"] <= SMALL_CHANGE_SECONDS for row in small)
        print(
            f"commits of <= {SMALL_CHANGE_LINES} {name} gated in "
            f"<= {SMALL_CHANGE_SECONDS} s: {fast}/{len(small)}"
        )
    total_mutants = sum(row["mutants"] for row in rows)
    total_seconds = sum(row["seconds"] for row in rows)
    if total_mutants:
        print(
            f"seconds per mutant (gate wall / mutants): {total_seconds / total_mutants:.2f}"
        )
    not_judged = sum(row["not_judged"] for row in rows)
    print(f"mutants not judged (the gate's run failed outside the tests): {not_judged}")
    if agreement[1]:
        print(
            f"agreement with ground truth: {agreement[0]}/{agreement[1]} judged "
            f"({agreement[0]}/{agreement[1] + not_judged} counting the ones not judged)"
        )
        for line in disagreements:
            print(f"  disagree: {line}")
    for line in unmatched:
        print(f"  not found on disk (not compared): {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
