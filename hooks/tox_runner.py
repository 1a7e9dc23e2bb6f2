"""Starting the consumer's tox: `poetry run tox` in a Poetry project, else tox,
and reading the coverage data a run under tox wrote.

Before a run, tox itself is asked whether the environments pass {posargs} to
their commands; otherwise tox would quietly run something other than the
selection. Every child gets an environment without git's hook variables.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import posixpath
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import coverage
from tox.config.source.discover import discover_source
from tox.config.source.ini import IniSource
from tox.report import HandledError

from hooks import cache, git
from hooks.errors import UserError
from hooks.import_graph import module_names
from hooks.suite_inventory import display_path

if TYPE_CHECKING:  # affected_tests reaches this module through test_map
    from hooks.affected_tests import Selection

POSARGS_PROBE = "testwarden-posargs-probe"
# Where tox reads its configuration from, in the project root.
TOX_CONFIG_FILES = ("tox.ini", "tox.toml", "pyproject.toml", "setup.cfg")
PYTEST_NAMES = ("pytest", "py.test")
# A line that names what failed: "RuntimeError: ...", "ROOT: HandledError| ...".
ERROR_LINE = re.compile(r"(Error|Exception)\b")
NO_TESTS_COLLECTED = re.compile(r"\bexit 5 \(")
EXIT_NO_TESTS_COLLECTED = 5
# Where tox installs a copy of the project: measured there, not in the checkout.
TOX_DIRECTORIES = (".tox", ".nox")
PASS_COVERAGE_FILE = ["-x", "testenv.pass_env+=COVERAGE_FILE"]
# The pytest plugins testwarden loads into the consumer's env live here.
IN_ENV_DIRECTORY = Path(__file__).resolve().parent / "inenv"
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


def failure_cause(output: str) -> str:
    """The line of tox's OUTPUT that names the error, with the indented lines
    that continue its message, as one line; else the last line.

    A plugin's exception ends a traceback with a message over several lines
    (tox-uv: "RuntimeError: uv not found. Either:" then three remedies), so
    the last line alone says how to fix something it never names."""
    lines = output.strip().splitlines()
    error_at = next(
        (
            index
            for index, line in enumerate(lines)
            # not a traceback's header or source lines, which are indented
            if not line[:1].isspace()
            and not line.startswith("Traceback ")
            and ERROR_LINE.search(line)
        ),
        None,
    )
    if error_at is None:
        return lines[-1] if lines else "no output"
    continued = itertools.takewhile(
        lambda follower: follower[:1].isspace(), lines[error_at + 1 :]
    )
    return " ".join(line.strip() for line in (lines[error_at], *continued))


def environment_commands(config_output: str) -> dict[str, list[str]]:
    """Environment -> its commands, from the output of `tox config -k commands`
    (one command on the `commands =` line, or one per indented line below it)."""
    commands: dict[str, list[str]] = {}
    environment_commands_so_far: list[str] = []
    for line in config_output.splitlines():
        header = re.fullmatch(r"\[testenv:(.+)\]", line.strip())
        if header:
            environment_commands_so_far = commands.setdefault(header.group(1), [])
        elif line.startswith("commands ="):
            first = line.partition("=")[2].strip()
            environment_commands_so_far.extend([first] if first else [])
        elif line[:1].isspace() and line.strip():
            environment_commands_so_far.append(line.strip())
    return commands


def posargs_hint(commands: list[str], root: Path) -> str:
    """What to write: the user's own pytest command with its test paths replaced
    by {posargs} (defaulting to those paths), in the form of the file tox reads."""
    for command in commands:
        words = shlex.split(command)
        pytest_at = next(
            (at for at, word in enumerate(words) if Path(word).name in PYTEST_NAMES),
            None,
        )
        if pytest_at is None:
            continue
        arguments = words[pytest_at + 1 :]
        paths = [
            word
            for word in arguments
            if not word.startswith("-") and (root / word.split("::")[0]).exists()
        ]
        position = arguments.index(paths[0]) if paths else len(arguments)
        before = words[: pytest_at + 1] + arguments[:position]
        after = [word for word in arguments[position:] if word not in paths]
        return _posargs_command(before, paths, after, root)
    return _posargs_command(["pytest"], ["tests"], [], root)


def _posargs_command(
    before: list[str], paths: list[str], after: list[str], root: Path
) -> str:
    default = f":{' '.join(paths)}" if paths else ""
    ini_words = [shlex.join(before), f"{{posargs{default}}}", shlex.join(after)]
    ini = f"`commands = {' '.join(filter(None, ini_words))}`"
    replace = f'{{ replace = "posargs", default = {json.dumps(paths)}, extend = true }}'
    toml_words = [*map(json.dumps, before), replace, *map(json.dumps, after)]
    toml = f"`commands = [[{', '.join(toml_words)}]]`"
    try:
        source = discover_source(root, None)
    except HandledError:  # no configuration file: tox assumes an empty tox.ini
        return f"in tox.ini write {ini} (tox.toml: {toml})"
    if isinstance(source, IniSource):
        return f"in {source.path.name} write {ini}"
    return f"in {source.path.name} write {toml}"


def check_posargs(command: list[str], env_arguments: list[str], root: Path) -> None:
    """Fail unless every environment tox would run passes {posargs} to its commands.

    Asking tox costs a tox start-up (about half a second), so a passed check is
    remembered until the tox configuration or the way tox is started changes."""
    passed = (
        cache.cache_directory()
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
        cause = failure_cause(probe.stderr or probe.stdout)
        raise UserError(f"tox configuration is broken: {cause}")
    for environment, commands in environment_commands(probe.stdout).items():
        if not any(POSARGS_PROBE in command for command in commands):
            raise UserError(
                f"tox environment {environment!r} does not pass {{posargs}} to its "
                f"commands ({'; '.join(commands) or 'none'}), so tox would not run "
                f"the selected tests; {posargs_hint(commands, root)}"
            )
    try:
        passed.parent.mkdir(parents=True, exist_ok=True)
        passed.touch()
    except OSError:
        return  # no cache: the next run asks tox again


def run_whole_suite_for_unpassable_names(selection: Selection) -> None:
    """tox writes its command line to a UTF-8 log, so a selected file whose name
    is not valid UTF-8 stops tox with an internal error: say so, and run the
    whole suite, which collects that file too, instead of skipping its tests."""
    if selection.everything:
        return
    unpassable = [
        selector for selector in selection.selectors() if not _is_utf8(selector)
    ]
    for selector in unpassable:
        print(
            f"{display_path(selector)}: cannot pass a file name that is not valid "
            "UTF-8 to tox; rename it"
        )
    if unpassable:
        selection.everything = (
            "a selected test file's name is not valid UTF-8, which tox cannot take"
        )


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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


def plugin_environment(
    plugin_module: str, plan: tuple[str, Path]
) -> tuple[list[str], dict[str, str]]:
    """The tox options and environment variables that load our pytest plugin
    PLUGIN_MODULE into a tox env (on PYTHONPATH, named in PYTEST_PLUGINS,
    next to any the user named), with PLAN, (variable, file), telling it
    what to do."""
    plan_variable, plan_file = plan
    python_path = os.pathsep.join(
        filter(None, [str(IN_ENV_DIRECTORY), os.environ.get("PYTHONPATH")])
    )
    plugins = ",".join(filter(None, [os.environ.get("PYTEST_PLUGINS"), plugin_module]))
    pass_env = [
        item
        for name in ("PYTHONPATH", "PYTEST_PLUGINS", plan_variable)
        for item in ("-x", f"testenv.pass_env+={name}")
    ]
    variables = {
        "PYTHONPATH": python_path,
        "PYTEST_PLUGINS": plugins,
        plan_variable: str(plan_file),
    }
    return pass_env, variables


def run_tox_with_plugin(
    command: list[str],
    arguments: list[str],
    root: Path,
    plugin_module: str,
    plan: tuple[str, Path],
    extra_environment: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run tox, output captured, with our pytest plugin PLUGIN_MODULE loaded
    into its env and PLAN, (variable, file), telling it what to do."""
    pass_env, plugin_variables = plugin_environment(plugin_module, plan)
    environment = {
        **git.scrubbed_environment(),
        **plugin_variables,
        **(extra_environment or {}),
    }
    try:
        return subprocess.run(
            [*command, *pass_env, *arguments],
            cwd=root,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        raise UserError(f"cannot run {command[0]!r}: not found; install it") from None


def load_coverage(data_directory: Path, root: Path) -> coverage.Coverage:
    """This run's data, each measured file named as the checkout file it is.

    The data files are combined as `coverage combine` does, which maps the
    paths with the project's `[paths]`. A file still measured outside the
    checkout, a copy tox installed that no `[paths]` entry maps, is then
    mapped by its import path to the tracked file it is a copy of."""
    data_files = sorted(data_directory.glob(".coverage*"))
    if not data_files:
        raise UserError(NO_DATA_HINT)
    combined = coverage.Coverage(
        data_file=str(data_directory / "combined" / ".coverage")
    )
    combined.combine([str(path) for path in data_files], keep=True)
    measured = coverage.Coverage(data_file=str(data_directory / "mapped" / ".coverage"))
    measured.get_data().update(
        combined.get_data(), map_path=installed_copy_mapper(root, git.tracked_files())
    )
    measured.load()
    if not measured.get_data().measured_files():
        raise UserError(NO_DATA_HINT)
    return measured


def installed_copy_mapper(root: Path, tracked: Iterable[str]) -> Callable[[str], str]:
    """A `map_path` for coverage data: a file measured outside the checkout
    whose path ends in a tracked Python file's import path (`calc/ops.py` for
    `src/calc/ops.py`) is that file; other names stay as they are."""
    python_files = [path for path in tracked if path.endswith(".py")]
    package_dirs = {
        posixpath.dirname(path)
        for path in python_files
        if posixpath.basename(path) == "__init__.py"
    }
    copy_of: dict[str, str | None] = {}  # import path -> checkout path; None: two
    for path in python_files:
        parts = path.split("/")
        for name in module_names(path, package_dirs):
            depth = name.count(".") + 1 + (parts[-1] == "__init__.py")
            import_path = "/".join(parts[-depth:])
            copy_of[import_path] = (
                path if copy_of.get(import_path, path) == path else None
            )
    real_root = root.resolve()

    def map_path(measured_file: str) -> str:
        if _checkout_path(measured_file, real_root) is not None:
            return measured_file
        parts = Path(measured_file).parts
        for start in range(1, len(parts)):
            checkout_path = copy_of.get("/".join(parts[start:]))
            if checkout_path:
                return str(root / checkout_path)
        return measured_file

    return map_path


def _checkout_path(measured_file: str, real_root: Path) -> str | None:
    """MEASURED_FILE's repository-relative path, if it is a file of the checkout
    (not an installed library, not a copy under a tox directory)."""
    try:
        relative = Path(measured_file).resolve().relative_to(real_root)
    except ValueError:
        return None
    if relative.parts[0] in TOX_DIRECTORIES:
        return None
    return relative.as_posix()


def checkout_files(data: coverage.CoverageData, root: Path) -> dict[str, str]:
    """Repository-relative path -> file name in DATA, for the measured files of
    the checkout (not installed libraries, not the copies tox installs)."""
    real_root = root.resolve()
    files = {}
    for measured_file in data.measured_files():
        path = _checkout_path(measured_file, real_root)
        if path is not None:
            files[path] = measured_file
    return files
