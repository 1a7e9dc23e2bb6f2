"""Benchmark: the isort-black hook against black's and isort's own hooks.

A user without testwarden runs two hooks, each one process: `isort
--filter-files FILES` (isort's hook), then `black FILES` (black's hook). We
time that pair against one `isort-black FILES` process on a real tree, in
three cases:

  (a) a typical commit: 3 changed files       target: ratio <= 0.6
  (b) every file, cold caches                  target: ratio <= 1.1
  (c) every file again, nothing changed        target: isort-black < 0.5 s

The tree defaults to the sources of an sdist from PyPI (SQLAlchemy 2.0.36,
686 Python files), unpacked under bench/.work. Its own [tool.isort] section
is removed so that both sides use the same isort settings (the black profile).

Usage: python bench/isort_black.py [--tree DIR] [--repeat N] [--skip-cold]
Run it from the project's virtualenv (black, isort and testwarden installed).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

SDIST = "sqlalchemy==2.0.36"
WORK = Path(__file__).resolve().parent / ".work"
BIN = Path(sys.executable).parent
# A realistic edit: a new unsorted import and a carelessly typed function.
EDIT_HEAD = "import sys\nimport os\n"
EDIT_TAIL = "\ndef added_helper(a,b = None) :\n    return {'a':a,'b' :b}\n"


def fetch_tree() -> Path:
    target = WORK / "tree"
    if target.exists():
        return target
    WORK.mkdir(exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--dest",
            str(WORK),
            SDIST,
        ],
        check=True,
    )
    # bench/.work is shared with other benches: take only this sdist's files.
    name, _, version = SDIST.partition("==")
    [archive] = WORK.glob(f"{name.lower()}-{version}.tar.gz")
    with tarfile.open(archive) as sdist:
        [top] = {member.name.split("/")[0] for member in sdist.getmembers()}
        sdist.extractall(WORK, filter="data")
    (WORK / top).rename(target)
    pyproject = target / "pyproject.toml"
    pyproject.write_text(
        re.sub(r"\[tool\.isort\][^\[]*", "", pyproject.read_text()), encoding="utf-8"
    )
    for command in (
        ["init", "--quiet"],
        ["add", "-A"],
        ["commit", "--quiet", "-m", "sdist"],
    ):
        subprocess.run(["git", *command], cwd=target, check=True)
    return target


def python_files(tree: Path) -> list[str]:
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--", "*.py", "*.pyi"],
        cwd=tree,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [path for path in listing.split("\0") if path]


def restore(tree: Path) -> None:
    subprocess.run(["git", "checkout", "--quiet", "--", "."], cwd=tree, check=True)


def timed(command: list[str], tree: Path, environment: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=tree, env=environment, capture_output=True)
    return time.perf_counter() - start


def pair(files: list[str], tree: Path, environment: dict[str, str]) -> float:
    """isort's hook, then black's hook, in the order the two are usually listed."""
    return timed(
        [str(BIN / "isort"), "--profile", "black", "--filter-files", "--quiet", *files],
        tree,
        environment,
    ) + timed([str(BIN / "black"), "--quiet", *files], tree, environment)


def ours(files: list[str], tree: Path, environment: dict[str, str]) -> float:
    return timed([str(BIN / "isort-black"), *files], tree, environment)


def fresh_caches(scratch: Path) -> dict[str, str]:
    black_cache = Path(tempfile.mkdtemp(dir=scratch))
    our_cache = Path(tempfile.mkdtemp(dir=scratch))
    return {
        **os.environ,
        "BLACK_CACHE_DIR": str(black_cache),
        "TESTWARDEN_CACHE_DIR": str(our_cache),
    }


def typical_commit(
    tree: Path, files: list[str], repeat: int, scratch: Path
) -> tuple[float, float]:
    # Three ordinary library modules of middling size.
    library = sorted(
        (path for path in files if path.startswith("lib/") and "/testing/" not in path),
        key=lambda path: (tree / path).stat().st_size,
    )
    middle = len(library) // 2
    changed = library[middle : middle + 3]
    environment = fresh_caches(scratch)
    restore(tree)
    pair(files, tree, environment)  # warm both tools' caches on the rest of the tree
    ours(files, tree, environment)
    pair_times, our_times = [], []
    for _ in range(repeat):
        for measure, times in ((pair, pair_times), (ours, our_times)):
            restore(tree)
            for path in changed:
                source = (tree / path).read_text(encoding="utf-8")
                (tree / path).write_text(
                    EDIT_HEAD + source + EDIT_TAIL, encoding="utf-8"
                )
            times.append(measure(changed, tree, environment))
    return statistics.median(pair_times), statistics.median(our_times)


def all_files(
    tree: Path, files: list[str], scratch: Path
) -> tuple[float, float, float, float]:
    restore(tree)
    environment = fresh_caches(scratch)
    pair_cold = pair(files, tree, environment)
    pair_warm = pair(files, tree, environment)
    restore(tree)
    our_cold = ours(files, tree, environment)
    our_warm = ours(files, tree, environment)
    return pair_cold, our_cold, pair_warm, our_warm


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tree", type=Path, help="a git checkout to format (default: the sdist)"
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs of the 3-file case")
    parser.add_argument(
        "--skip-cold", action="store_true", help="skip case (b), the slow one"
    )
    args = parser.parse_args()
    tree = args.tree or fetch_tree()
    files = python_files(tree)
    scratch = Path(tempfile.mkdtemp(prefix="bench-isort-black-"))
    print(f"tree: {tree} ({len(files)} Python files), {os.cpu_count()} CPUs")
    try:
        pair_a, ours_a = typical_commit(tree, files, args.repeat, scratch)
        print(
            f"(a) 3-file commit : pair {pair_a:7.2f} s  isort-black {ours_a:7.2f} s  "
            f"ratio {ours_a / pair_a:.2f}  (target <= 0.6)"
        )
        if not args.skip_cold:
            pair_b, ours_b, pair_c, ours_c = all_files(tree, files, scratch)
            print(
                f"(b) all, cold     : pair {pair_b:7.2f} s  isort-black {ours_b:7.2f} s  "
                f"ratio {ours_b / pair_b:.2f}  (target <= 1.1)"
            )
            print(
                f"(c) all, unchanged: pair {pair_c:7.2f} s  isort-black {ours_c:7.2f} s  "
                f"ratio {ours_c / pair_c:.2f}  (target: isort-black < 0.5 s)"
            )
    finally:
        restore(tree)
        shutil.rmtree(scratch)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
