"""Starting the consumer's tox: `poetry run tox` in a Poetry project, else tox,
and reading the coverage data a run under tox wrote.

Before a run, tox itself is asked whether the environments pass {posargs} to
their commands; otherwise tox would quietly run something other than the
selection. Every child gets an environment without git's hook variables.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path

import coverage

from hooks import format_cache, git
from hooks.errors import UserError

POSARGS_PROBE = "testwarden-posargs-probe"
# Where tox reads its configuration from, in the project root.
TOX_CONFIG_FILES = ("tox.ini", "tox.toml", "pyproject.toml", "setup.cfg")
NO_TESTS_COLLECTED = re.compile(r"\bexit 5 \(")
EXIT_NO_TESTS_COLLECTED = 5
# Where tox installs a copy of the project: measured there, not in the checkout.
TOX_DIRECTORIES = (".tox", ".nox")
PASS_COVERAGE_FILE = ["-x", "testenv.pass_env+=COVERAGE_FILE"]
NO_DATA_HINT = (
    "the tox environment produced no coverage data; run the tests under coverage, "
    "e.g. in tox.ini `deps = coverage` and `commands = coverage run -m pytest {posargs}` "
    "(or pytest-cov: `commands = pytest --cov {posargs}`)"
)


def is_poetry_project(root: Path) -> bool:
    if (root / "poetry.lock").is_file():
        return True
    try:
        pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return "poetry" in pyproject.get("tool", {})


def tox_command(root: Path, runner: str | None) -> list[str]:
    """How to start tox here: the user's runner, `poetry run tox`, or our tox."""
    if runner:
        return shlex.split(runner)
    if is_poetry_project(root):
        if shutil.which("poetry") is None:
            raise UserError(
                "this is a Poetry project but `poetry` is not on PATH; "
                "install Poetry, or pass --runner tox"
            )
        # "--" keeps poetry from reading tox's options as its own.
        return ["poetry", "run", "--", "tox"]
    return [sys.executable, "-m", "tox"]


def _run_captured(command: list[str], root: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            command,
            cwd=root,
            env=git.scrubbed_environment(),
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        raise UserError(f"cannot run {command[0]!r}: not found; install it") from None


def _posargs_check_key(command: list[str], env_arguments: list[str], root: Path) -> str:
    """What tox's answer depends on: how it is started, its settings, its variables."""
    digest = hashlib.sha256()
    tox_variables = sorted(
        (name, value) for name, value in os.environ.items() if name.startswith("TOX_")
    )
    digest.update(repr((command, env_arguments, str(root), tox_variables)).encode())
    for name in TOX_CONFIG_FILES:
        try:
            digest.update(name.encode() + b"\0" + (root / name).read_bytes())
        except OSError:
            digest.update(name.encode() + b" absent")
    return digest.hexdigest()[:32]


def check_posargs(command: list[str], env_arguments: list[str], root: Path) -> None:
    """Fail unless every environment tox would run passes {posargs} to its commands.

    Asking tox costs a tox start-up (about half a second), so a passed check is
    remembered until the tox configuration or the way tox is started changes."""
    passed = (
        format_cache.cache_directory()
        / "tox-posargs"
        / _posargs_check_key(command, env_arguments, root)
    )
    if passed.exists():
        return
    probe = _run_captured(
        [*command, "config", *env_arguments, "-k", "commands", "--", POSARGS_PROBE],
        root,
    )
    if probe.returncode != 0:
        lines = (probe.stderr or probe.stdout).strip().splitlines()
        raise UserError(
            f"tox configuration is broken: {lines[-1] if lines else 'no output'}"
        )
    environment = None
    for line in probe.stdout.splitlines():
        header = re.fullmatch(r"\[testenv:(.+)\]", line.strip())
        if header:
            environment = header.group(1)
        elif line.startswith("commands =") and POSARGS_PROBE not in line:
            raise UserError(
                f"tox environment {environment!r} does not pass {{posargs}} to its "
                f"commands ({line.strip()}), so tox would not run the selected "
                "tests; in tox.ini write `commands = pytest {posargs:tests}` "
                '(tox.toml: `commands = [["pytest", { replace = "posargs", '
                'default = ["tests"], extend = true }]]`)'
            )
    try:
        passed.parent.mkdir(parents=True, exist_ok=True)
        passed.touch()
    except OSError:
        return  # no cache: the next run asks tox again


def run_tox(
    command: list[str],
    arguments: list[str],
    root: Path,
    extra_environment: Mapping[str, str] | None = None,
) -> int:
    """Run tox with its output streaming through; return its exit code."""
    # check_posargs has already run the same command, so it exists.
    process = subprocess.Popen(
        [*command, *arguments],
        cwd=root,
        env={**git.scrubbed_environment(), **(extra_environment or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    collected_nothing = False
    for line in process.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        collected_nothing = collected_nothing or bool(NO_TESTS_COLLECTED.search(line))
    returncode = process.wait()
    if collected_nothing:
        return EXIT_NO_TESTS_COLLECTED
    return returncode


def load_coverage(data_directory: Path) -> coverage.Coverage:
    """This run's data: combined if the consumer writes parallel files."""
    data_files = sorted(data_directory.glob(".coverage*"))
    if not data_files:
        raise UserError(NO_DATA_HINT)
    measured = coverage.Coverage(data_file=str(data_directory / ".coverage"))
    if any(path.name != ".coverage" for path in data_files):
        measured.combine([str(data_directory)])
    measured.load()
    if not measured.get_data().measured_files():
        raise UserError(NO_DATA_HINT)
    return measured


def checkout_files(data: coverage.CoverageData, root: Path) -> dict[str, str]:
    """Repository-relative path -> file name in DATA, for the measured files of
    the checkout (not installed libraries, not the copies tox installs)."""
    files = {}
    real_root = root.resolve()
    for measured_file in data.measured_files():
        try:
            relative = Path(measured_file).resolve().relative_to(real_root)
        except ValueError:
            continue  # an installed library
        if relative.parts[0] not in TOX_DIRECTORIES:
            files[relative.as_posix()] = measured_file
    return files
