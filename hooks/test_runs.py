"""What the tests did on a working tree, so the same run is not made twice.

pre-commit runs tox-changed-tests and coverage-gate one after the other on
the same tree, splits a long `--all-files` list into batches (each its own
run of the hook), and a user re-runs a hook on a tree that has not changed.
Each of those would start tox again. A run is remembered by the tree the
tests saw (git.working_tree_id), the tox command that ran them and what it
was given:

- a passed run answers for any later run on the same tree with the same
  command that selects no more (the whole suite answers for everything);
  its coverage data, when the tox environment wrote some, is kept so that
  coverage-gate can measure without running the tests again;
- a failed run answers only within the same `pre-commit run` (the same
  parent process), so a hook after it reports the failure instead of
  repeating it, while a later attempt runs the tests again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from hooks import cache
from hooks.atomic_write import write_atomically

KEPT_RUNS = 16


@dataclass(frozen=True)
class PriorRun:
    """One remembered run: what it ran (None: the whole suite) and how it ended."""

    hook_id: str
    tree: str
    command: tuple[str, ...]
    selectors: tuple[str, ...] | None
    passed: bool
    parent_process: int
    finished: float
    coverage_file: str | None  # a copy of the run's coverage data, if any

    def answers_for(self, selectors: Sequence[str] | None) -> bool:
        """True when this run ran at least what SELECTORS ask for."""
        if self.selectors is None:
            return True
        return selectors is not None and set(selectors) <= set(self.selectors)

    def describe(self) -> str:
        what = "the whole suite" if self.selectors is None else "the selection"
        ended = "passed" if self.passed else "failed"
        return (
            f"{what} {ended} on this tree in {self.hook_id} "
            f"{_age(time.time() - self.finished)} ago"
        )


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{max(seconds, 0):.0f} s"
    return f"{seconds / 60:.0f} min"


def runs_directory(root: Path) -> Path:
    digest = hashlib.sha256(os.fsencode(root.resolve())).hexdigest()[:16]
    return cache.cache_directory() / "test-runs" / digest


def _index_file(root: Path) -> Path:
    return runs_directory(root) / "runs.json"


def _load(root: Path) -> list[PriorRun]:
    try:
        entries = json.loads(_index_file(root).read_text(encoding="utf-8"))
        return [
            PriorRun(
                hook_id=entry["hook_id"],
                tree=entry["tree"],
                command=tuple(entry["command"]),
                selectors=(
                    None if entry["selectors"] is None else tuple(entry["selectors"])
                ),
                passed=entry["passed"],
                parent_process=entry["parent_process"],
                finished=entry["finished"],
                coverage_file=entry["coverage_file"],
            )
            for entry in entries
        ]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def find(
    root: Path, tree: str, command: Sequence[str], selectors: Sequence[str] | None
) -> PriorRun | None:
    """The newest remembered run that answers for running SELECTORS now."""
    for prior in reversed(_load(root)):
        if prior.tree != tree or prior.command != tuple(command):
            continue
        if not prior.answers_for(selectors):
            continue
        if prior.passed or prior.parent_process == os.getppid():
            return prior
    return None


def remember(
    root: Path,
    hook_id: str,
    tree: str,
    command: Sequence[str],
    selectors: Sequence[str] | None,
    *,
    passed: bool,
    coverage_data: Path | None = None,
) -> None:
    """Add a run; keep its coverage data (a passed run's) if COVERAGE_DATA exists.
    A cache that cannot be written loses the record, nothing else."""
    directory = runs_directory(root)
    kept_data = None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if passed and coverage_data is not None and coverage_data.is_file():
            name = hashlib.sha256(
                f"{tree}{command}{selectors}{time.time_ns()}".encode()
            ).hexdigest()[:20]
            kept_data = str(directory / f"{name}.coverage")
            shutil.copyfile(coverage_data, kept_data)
        prior_runs = _load(root)
        runs = [
            *prior_runs,
            PriorRun(
                hook_id,
                tree,
                tuple(command),
                None if selectors is None else tuple(selectors),
                passed,
                os.getppid(),
                time.time(),
                kept_data,
            ),
        ]
        dropped, runs = runs[:-KEPT_RUNS], runs[-KEPT_RUNS:]
        write_atomically(
            _index_file(root),
            json.dumps([asdict(run) for run in runs], indent=1).encode(),
        )
    except OSError:
        return
    for run in dropped:
        if run.coverage_file:
            Path(run.coverage_file).unlink(missing_ok=True)
