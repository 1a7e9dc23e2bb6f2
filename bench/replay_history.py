"""Replay a project's recent history through the guard hooks `testwarden check` runs.

Usage: python bench/replay_history.py PATH_TO_CLONE [--commits 300] [--jobs 8]
                                      [--hook HOOK_ID]...

Each of the last N non-merge commits C of HEAD is checked as pre-commit's
pre-push stage would check it, `--from-ref C^ --to-ref C`, in a child
process running this checkout's hooks (every guard hook, or each --hook
given). The table lists every commit a hook
blocks with the lines it printed, then the share of blocked commits per hook.
Root commits have no parent to compare against and are left out.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))
from hooks import registry  # noqa: E402  (this checkout's hooks, not an installed copy)

HOOK_IDS = tuple(hook.id for hook in registry.GUARD_HOOKS)
# Lines a hook prints around its findings, not findings themselves.
CONTEXT_PREFIXES = ("To fix:", "  [tool.", "  allow = ")


@dataclass(frozen=True)
class Result:
    commit: str
    subject: str
    hook_id: str
    exit_code: int
    findings: tuple[str, ...]


def git(clone: Path, *args: str) -> str:
    return subprocess.run(
        ("git", *args), cwd=clone, capture_output=True, text=True, check=True
    ).stdout


def commits_to_replay(clone: Path, count: int) -> list[tuple[str, str]]:
    """(id, subject) of the last COUNT non-merge commits that have a parent, oldest first."""
    log = git(
        clone, "log", "--no-merges", f"--max-count={count}", "--format=%H %P%x09%s"
    )
    commits = []
    for line in log.splitlines():
        ids, _, subject = line.partition("\t")
        commit, *parents = ids.split()
        if parents:
            commits.append((commit, subject))
    return commits[::-1]


def replay(clone: Path, commit: str, subject: str, hook_id: str) -> Result:
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    for variable in ("PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF"):
        environment.pop(variable, None)
    completed = subprocess.run(
        (
            sys.executable,
            "-m",
            "hooks",
            hook_id,
            "--from-ref",
            f"{commit}^",
            "--to-ref",
            commit,
        ),
        cwd=clone,
        env=environment,
        capture_output=True,
        text=True,
    )
    output = (completed.stdout + completed.stderr).splitlines()
    findings = tuple(line for line in output if not line.startswith(CONTEXT_PREFIXES))
    return Result(commit, subject, hook_id, completed.returncode, findings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clone", type=Path, help="a git clone with history")
    parser.add_argument(
        "--commits", type=int, default=300, help="non-merge commits to replay"
    )
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="parallel hook runs"
    )
    parser.add_argument(
        "--hook",
        dest="hook_ids",
        action="append",
        choices=HOOK_IDS,
        help="replay only this hook (again for more; default: every guard hook)",
    )
    args = parser.parse_args(argv)
    hook_ids = args.hook_ids or HOOK_IDS
    clone = args.clone.resolve()
    commits = commits_to_replay(clone, args.commits)
    tasks = [
        (commit, subject, hook_id)
        for commit, subject in commits
        for hook_id in hook_ids
    ]
    with ThreadPoolExecutor(max_workers=args.jobs) as executor:
        results = list(executor.map(lambda task: replay(clone, *task), tasks))

    print(
        f"# {clone.name}: {len(commits)} non-merge commits replayed, --from-ref C^ --to-ref C\n"
    )
    print("| commit | hook | exit | subject / findings |")
    print("|---|---|---|---|")
    for result in results:
        if result.exit_code == 0:
            continue
        print(
            f"| {result.commit[:10]} | {result.hook_id} | {result.exit_code} | {result.subject} |"
        )
        for line in result.findings:
            print(f"|  |  |  | {line.replace('|', '/')} |")
    print(
        "\n| hook | commits replayed | blocked (exit 1) | errors (exit 2) | blocked % |"
    )
    print("|---|---|---|---|---|")
    for hook_id in hook_ids:
        hook_results = [result for result in results if result.hook_id == hook_id]
        blocked = sum(result.exit_code == 1 for result in hook_results)
        errors = sum(result.exit_code == 2 for result in hook_results)
        share = 100 * blocked / len(hook_results) if hook_results else 0.0
        print(
            f"| {hook_id} | {len(hook_results)} | {blocked} | {errors} | {share:.1f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
