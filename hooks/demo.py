"""`testwarden demo`: every hook at work on a sample project, in a throwaway repository.

The sample (hooks/demo_project: a small library, its tests, tox.ini,
pyproject.toml and .pre-commit-config.yaml) is copied into a new git
repository in a temporary directory. Each step makes a real change, stages
it, runs hooks as pre-commit would (`python -m hooks <hook-id>` in that
repository) and shows their verdicts and output. The demo checks that every
hook behaves as shown, so it doubles as a smoke test: exit 1 when one does not.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from hooks import git, registry
from hooks.cache import cache_directory
from hooks.errors import UserError, quiet_on_closed_pipe, report

SAMPLE = Path(__file__).with_name("demo_project")
# Every sample file carries this suffix, so that this repository's own hooks,
# pytest and coverage never take the sample for testwarden's code or tests.
SAMPLE_SUFFIX = ".sample"
# The hooks that run the sample's tests through tox (--skip-tox leaves them out).
TOX_HOOKS = tuple(hook.id for hook in registry.TEST_RUNNING_HOOKS)
# The environment of the sample's tox.ini (env_list = py), under TOX_WORK_DIR.
TOX_ENVIRONMENT = "py"
OUTPUT_INDENT = "    "


@dataclass(frozen=True)
class HookRun:
    """One hook run, with the verdict and output the demo promises."""

    hook: str
    expected_verdict: str
    # Text the hook's output must contain, or the step did not go as shown.
    expected_output: tuple[str, ...] = ()
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    title: str
    change: str
    edit: Callable[[Path], None]
    runs: tuple[HookRun, ...]
    # Commit the change afterwards; None: throw it away, as a rejected commit.
    commit_message: str | None = None


def _git(repo: Path, *args: str) -> bytes:
    """git in the demo repository, wherever the demo was started."""
    return git.run("-C", str(repo), *args)


def _replace(repo: Path, path: str, old: str, new: str) -> None:
    """Edit a file of the sample and stage it."""
    target = repo / path
    target.write_text(
        target.read_text(encoding="utf-8").replace(old, new), encoding="utf-8"
    )
    _git(repo, "add", "--", path)


def _append(repo: Path, path: str, text: str) -> None:
    target = repo / path
    target.write_text(target.read_text(encoding="utf-8") + text, encoding="utf-8")
    _git(repo, "add", "--", path)


def add_spread(repo: Path) -> None:
    _append(
        repo,
        "src/textstats/numbers.py",
        "\n\ndef spread(values: list[float]) -> float:\n"
        '    """The distance between the smallest and the largest value."""\n'
        "    if not values:\n"
        '        raise ValueError("spread of no values")\n'
        "    return max(values) - min(values)\n",
    )
    _replace(
        repo,
        "tests/test_numbers.py",
        "import mean, median, numbers_in\n",
        "import mean, median, numbers_in, spread\n",
    )
    _replace(repo, "tests/test_numbers.py", "[mean, median]", "[mean, median, spread]")
    _append(
        repo,
        "tests/test_numbers.py",
        "\n\ndef test_spread_of_the_report(report):\n"
        "    assert spread(numbers_in(report)) == 29\n",
    )


def add_unformatted_average_length(repo: Path) -> None:
    _replace(
        repo,
        "src/textstats/words.py",
        "import re\nfrom collections import Counter\n",
        "from collections import Counter\nimport re\n",
    )
    _append(
        repo,
        "src/textstats/words.py",
        "\ndef average_length(text:str)->float:\n"
        "    found=words(text)\n"
        "    return sum(len(word) for word in found)/len(found) if found else 0.0\n",
    )
    _replace(
        repo,
        "tests/test_words.py",
        "import longest_word, most_common, words\n",
        "import longest_word, most_common, words, average_length\n",
    )
    _append(
        repo,
        "tests/test_words.py",
        "\ndef test_average_length():\n"
        "    assert average_length('a bb ccc')==2.0\n"
        "    assert average_length('')==0.0\n",
    )


def delete_a_test(repo: Path) -> None:
    _replace(
        repo,
        "tests/test_numbers.py",
        "def test_median_of_an_even_count():\n"
        "    assert median([31, 12, 7, 2]) == 9.5\n\n\n",
        "",
    )


def skip_a_test(repo: Path) -> None:
    _replace(
        repo,
        "tests/test_words.py",
        "def test_longest_word_of_the_report",
        '@pytest.mark.skip(reason="fails since the last change")\n'
        "def test_longest_word_of_the_report",
    )
    _replace(
        repo, "tests/test_words.py", "from textstats", "import pytest\n\nfrom textstats"
    )


def hollow_a_test(repo: Path) -> None:
    _replace(
        repo,
        "tests/test_numbers.py",
        "    assert median([31, 12, 7]) == 12\n",
        "    assert True\n",
    )


def add_a_fabricated_fixture(repo: Path) -> None:
    _append(
        repo,
        "tests/conftest.py",
        "\n\n@pytest.fixture\n"
        "def harbour_statistics() -> dict:\n"
        '    return {"crossings": 50, "tonnes": 4.5, "closed_days": 2}\n',
    )


def break_the_median(repo: Path) -> None:
    _replace(
        repo,
        "src/textstats/numbers.py",
        "return (ordered[middle - 1] + ordered[middle]) / 2",
        "return ordered[middle]",
    )


def add_an_untested_function(repo: Path) -> None:
    _append(
        repo,
        "src/textstats/words.py",
        "\n\ndef shortest_word(text: str) -> str | None:\n"
        '    """The shortest word (the first one on a tie), or None without words."""\n'
        "    found = words(text)\n"
        "    if not found:\n"
        "        return None\n"
        "    return min(found, key=len)\n",
    )


def add_a_weakly_tested_function(repo: Path) -> None:
    _append(
        repo,
        "src/textstats/words.py",
        "\n\ndef is_long(word: str, width: int = 8) -> bool:\n"
        '    """Whether WORD has at least WIDTH letters."""\n'
        "    return len(word) >= width\n",
    )
    _replace(
        repo,
        "tests/test_words.py",
        "import average_length, longest_word, most_common, words\n",
        "import average_length, is_long, longest_word, most_common, words\n",
    )
    _append(
        repo,
        "tests/test_words.py",
        "\n\ndef test_a_long_word_is_long():\n" '    assert is_long("harbourmaster")\n',
    )


def lower_the_threshold(repo: Path) -> None:
    _replace(repo, "pyproject.toml", "fail_under = 90", "fail_under = 80")


STEPS = (
    Step(
        "a clean commit",
        "added textstats.numbers.spread() with tests; every hook runs",
        add_spread,
        (
            HookRun(
                "isort-black",
                "accepted",
                args=("src/textstats/numbers.py", "tests/test_numbers.py"),
            ),
            HookRun("tox-changed-tests", "accepted", ("running 1 test file(s)",)),
            HookRun("coverage-gate", "accepted", ("changed lines covered: 100.00%",)),
            HookRun("forbid-test-deletion", "accepted"),
            HookRun("forbid-skipped-tests", "accepted"),
            HookRun("forbid-weakened-tests", "accepted"),
            HookRun("forbid-mock-data", "accepted"),
            HookRun("protect-guardrails", "accepted"),
        ),
        commit_message="numbers: spread()",
    ),
    Step(
        "an unformatted file",
        "added textstats.words.average_length() and its test, written carelessly",
        add_unformatted_average_length,
        (
            HookRun(
                "isort-black",
                "fixed",
                ("Fixing src/textstats/words.py", "Fixing tests/test_words.py"),
                args=("src/textstats/words.py", "tests/test_words.py"),
            ),
        ),
        commit_message="words: average_length()",
    ),
    Step(
        "a deleted test",
        "removed test_median_of_an_even_count from tests/test_numbers.py",
        delete_a_test,
        (
            HookRun(
                "forbid-test-deletion",
                "rejected",
                ("tests/test_numbers.py::test_median_of_an_even_count removed",),
            ),
        ),
    ),
    Step(
        "a skipped test without a replacement",
        "marked test_longest_word_of_the_report with @pytest.mark.skip",
        skip_a_test,
        (HookRun("forbid-skipped-tests", "rejected", ("newly switched off",)),),
    ),
    Step(
        "a test hollowed out",
        "replaced the assertion of a median test with `assert True`",
        hollow_a_test,
        (
            HookRun(
                "forbid-weakened-tests",
                "rejected",
                ("`assert True` checks nothing: a constant",),
            ),
        ),
    ),
    Step(
        "a fixture returning fabricated data",
        "added a fixture to tests/conftest.py that returns made-up statistics",
        add_a_fabricated_fixture,
        (HookRun("forbid-mock-data", "rejected", ("fabricated-fixture",)),),
    ),
    Step(
        "a change that breaks a test",
        "changed median() to return the upper middle value for an even count",
        break_the_median,
        (
            HookRun(
                "tox-changed-tests",
                "rejected",
                (
                    "running 1 test file(s)",
                    "tests/test_numbers.py: imports src/textstats/numbers.py",
                    "1 failed",
                ),
            ),
        ),
    ),
    Step(
        "new code without tests",
        "added textstats.words.shortest_word() without a test",
        add_an_untested_function,
        (
            HookRun(
                "coverage-gate",
                "rejected",
                ("src/textstats/words.py:35: changed lines 35-38 are not covered",),
            ),
        ),
    ),
    Step(
        "a test that checks too little",
        "added textstats.words.is_long() with a test that passes for any width",
        add_a_weakly_tested_function,
        (
            HookRun(
                "mutation-gate",
                "rejected",
                (
                    "mutant survived: `len(word) >= width` -> `len(word) > width`",
                    "add a test that fails when this line is wrong",
                    "mutation score: 0.00%",
                ),
            ),
        ),
    ),
    Step(
        "a lowered coverage threshold",
        "lowered fail_under from 90 to 80 in pyproject.toml",
        lower_the_threshold,
        (
            HookRun(
                "protect-guardrails", "rejected", ("coverage.fail_under: 90 -> 80",)
            ),
        ),
    ),
)


def copy_sample(repo: Path) -> None:
    for source in sorted(SAMPLE.rglob(f"*{SAMPLE_SUFFIX}")):
        relative = source.relative_to(SAMPLE)
        target = repo / relative.with_name(relative.name.removesuffix(SAMPLE_SUFFIX))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def create_repository(repo: Path) -> None:
    _git(repo, "init", "--quiet")
    # The demo's own identity, in this repository only.
    _git(repo, "config", "user.name", "testwarden demo")
    _git(repo, "config", "user.email", "demo@testwarden.invalid")
    copy_sample(repo)
    commit(repo, "textstats: the sample project")


def commit(repo: Path, message: str) -> None:
    _git(repo, "add", "--all")
    _git(
        repo,
        "commit",
        "--quiet",
        "--no-verify",
        "--no-gpg-sign",
        "-m",
        message,
    )


def run_hook(repo: Path, hook_run: HookRun, tox_work_dir: Path) -> tuple[int, str]:
    """Run the hook as pre-commit would; show its output as it comes."""
    print(f"  $ {' '.join((hook_run.hook, *hook_run.args))}")
    if hook_run.hook in TOX_HOOKS and not (tox_work_dir / TOX_ENVIRONMENT).is_dir():
        print(
            f"{OUTPUT_INDENT}creating the tox environment in {tox_work_dir} "
            "(first run only, about a minute)..."
        )
    sys.stdout.flush()
    process = subprocess.Popen(
        [sys.executable, "-m", "hooks", hook_run.hook, *hook_run.args],
        cwd=repo,
        env={
            **os.environ,
            "TOX_WORK_DIR": str(tox_work_dir),
            "PYTHONUNBUFFERED": "1",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    output_lines = []
    for line in process.stdout:
        sys.stdout.write(OUTPUT_INDENT + line)
        sys.stdout.flush()
        output_lines.append(line)
    return process.wait(), "".join(output_lines)


def verdict_of(repo: Path, exit_code: int) -> str:
    if exit_code == 0:
        return "accepted"
    if exit_code == 1:
        changed = _git(repo, "diff", "--name-only")
        return "fixed" if changed else "rejected"
    return "could not run"


def run_step(repo: Path, step: Step, tox_work_dir: Path, skip_tox: bool) -> list[str]:
    """Make the step's change, run its hooks; return what did not behave as shown."""
    runs = [run for run in step.runs if not (skip_tox and run.hook in TOX_HOOKS)]
    if not runs:
        print("  skipped (--skip-tox)")
        return []
    step.edit(repo)
    print(f"  change: {step.change}")
    for skipped in step.runs:
        if skipped not in runs:
            print(f"  skipped {skipped.hook} (--skip-tox)")
    problems = []
    for hook_run in runs:
        exit_code, output = run_hook(repo, hook_run, tox_work_dir)
        outcome = verdict_of(repo, exit_code)
        print(f"  -> {hook_run.hook}: {outcome} (exit {exit_code})")
        if outcome != hook_run.expected_verdict:
            problems.append(
                f"{hook_run.hook} should have {hook_run.expected_verdict} this change, "
                f"but it {outcome}"
            )
        problems += [
            f"{hook_run.hook} did not say {expected!r}"
            for expected in hook_run.expected_output
            if expected not in output
        ]
        if outcome == "fixed":
            print(f"{OUTPUT_INDENT}what it changed:")
            diff = _git(repo, "diff", "--no-color", "--no-ext-diff")
            for line in diff.decode().splitlines():
                print(f"{OUTPUT_INDENT}{line}")
    for problem in problems:
        print(f"  WARNING: {problem}")
    if step.commit_message:
        commit(repo, step.commit_message)
        print(f'  committed: "{step.commit_message}"')
    else:
        _git(repo, "reset", "--quiet", "--hard")
        print("  the change is thrown away, as a rejected commit would be")
    return problems


def run_demo(keep: bool, skip_tox: bool) -> int:
    repo = Path(tempfile.mkdtemp(prefix="testwarden-demo-"))
    # Reused by later runs: tox creates the sample's environment only once.
    tox_work_dir = cache_directory() / "demo-tox"
    failed_steps = []
    try:
        print(f"testwarden demo: a throwaway git repository at {repo}")
        create_repository(repo)
        print(
            "committed the sample project textstats: a small library, its tests, "
            "tox.ini, pyproject.toml and .pre-commit-config.yaml"
        )
        for number, step in enumerate(STEPS, start=1):
            heading = f"[{number}/{len(STEPS)}] {step.title}"
            print(f"\n{heading}")
            if run_step(repo, step, tox_work_dir, skip_tox):
                failed_steps.append(heading)
    finally:
        if keep:
            print(f"\nthe repository is kept at {repo}; `git log --stat` there")
        else:
            shutil.rmtree(repo)
            print(f"\nremoved {repo} (--keep leaves it for you to explore)")
    if failed_steps:
        print(
            f"testwarden demo: {len(failed_steps)} step(s) did not behave as shown: "
            + "; ".join(failed_steps)
        )
        return 1
    print("testwarden demo: every hook behaved as shown")
    return 0


@contextlib.contextmanager
def without_git_hook_variables() -> Iterator[None]:
    """git exports GIT_DIR, GIT_INDEX_FILE and friends to hooks; run from one,
    the demo's git calls would reach that repository instead of its own."""
    original = dict(os.environ)
    scrubbed = git.scrubbed_environment(original)
    os.environ.clear()
    os.environ.update(scrubbed)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(original)


@quiet_on_closed_pipe
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="testwarden demo",
        description="Show every hook at work on a sample project, in a throwaway "
        "git repository; the current directory is never touched.",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="leave the demo repository for you to explore (default: remove it)",
    )
    parser.add_argument(
        "--skip-tox",
        action="store_true",
        help="skip tox-changed-tests, coverage-gate and mutation-gate, which need a "
        "tox environment",
    )
    args = parser.parse_args(argv)
    try:
        with without_git_hook_variables():
            return run_demo(keep=args.keep, skip_tox=args.skip_tox)
    except UserError as error:
        return report(error)


if __name__ == "__main__":
    raise SystemExit(main())
