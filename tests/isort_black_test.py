from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import black
import click
import isort
import pytest

from hooks import isort_black
from tests.helpers import write

# Real code that ships with the formatters' own dependencies: varied, long, and
# present wherever the tests run.
REAL_MODULES = [
    Path(isort.__file__).parent / "main.py",
    Path(isort.__file__).parent / "output.py",
    Path(black.__file__).parent / "linegen.py",
    Path(black.__file__).parent / "__init__.py",
    Path(click.__file__).parent / "core.py",
    Path(click.__file__).parent / "types.py",
]

UNSORTED = "import sys\nimport os\nx = {  'a':1 }\n"
SORTED = 'import os\nimport sys\n\nx = {"a": 1}\n'


def run_command_lines(directory: Path, files: list[str], isort_args=()) -> None:
    """What a user would otherwise run: the isort command, then the black command."""
    environment = {**os.environ, "BLACK_CACHE_DIR": str(directory / ".black-cache")}
    for command in (
        [sys.executable, "-m", "isort", *isort_args, "--", *files],
        [sys.executable, "-m", "black", "--quiet", "--", *files],
    ):
        subprocess.run(command, cwd=directory, env=environment, capture_output=True)


def copy_tree(source: Path, destination: Path) -> None:
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns(".git"))


def test_fixes_a_file_and_says_so(repo, capsys):
    write("module.py", UNSORTED)

    assert isort_black.main(["module.py"]) == 1

    assert Path("module.py").read_text() == SORTED
    assert capsys.readouterr().out == "Fixing module.py\n"


def test_file_already_in_final_form_is_left_alone(repo, capsys):
    write("module.py", SORTED)
    before = os.stat("module.py")

    assert isort_black.main(["module.py"]) == 0

    assert capsys.readouterr().out == ""
    assert os.stat("module.py").st_mtime_ns == before.st_mtime_ns


def test_real_code_is_byte_identical_to_isort_then_black(repo, tmp_path):
    names = []
    for index, module in enumerate(REAL_MODULES):
        # Undo part of the formatting so both tools have real work to do.
        source = module.read_text(encoding="utf-8").replace("    ", "  ")
        name = f"pkg/module_{index}.py"
        write(name, "import sys\nimport os\nimport collections\n" + source)
        names.append(name)
    reference = tmp_path / "reference"
    copy_tree(repo, reference)
    run_command_lines(reference, names, isort_args=["--profile", "black"])

    assert isort_black.main(["--jobs", "1", *names]) == 1

    for name in names:
        assert Path(name).read_bytes() == (reference / name).read_bytes(), name


def test_consumer_configuration_is_honoured_like_the_command_lines(repo, tmp_path):
    write(
        "pyproject.toml",
        "[tool.isort]\nprofile = 'google'\nforce_single_line = true\n"
        "[tool.black]\nline-length = 60\nskip-string-normalization = true\n",
    )
    source = (
        "from os import path, sep\nimport sys, json\n"
        "def f(a,b):\n    return {'key': [a, b, 'a long string that wraps the line']}\n"
    )
    write("src/app/code.py", source)
    write(
        "src/app/stub.pyi",
        "from typing import List, Dict\ndef f(a: int)->List[int]:\n    ...\nclass C:\n\n    x: int\n",
    )
    reference = tmp_path / "reference"
    copy_tree(repo, reference)
    run_command_lines(reference, ["src/app/code.py", "src/app/stub.pyi"])

    assert isort_black.main(["--jobs", "1", "src/app/code.py", "src/app/stub.pyi"]) == 1

    assert (
        Path("src/app/code.py").read_bytes()
        == (reference / "src/app/code.py").read_bytes()
    )
    assert (
        "from os import path\nfrom os import sep\n"
        in Path("src/app/code.py").read_text()
    )
    assert (
        Path("src/app/stub.pyi").read_bytes()
        == (reference / "src/app/stub.pyi").read_bytes()
    )


def test_skip_source_first_line_is_honoured_like_the_command_lines(repo, tmp_path):
    write("pyproject.toml", "[tool.black]\nskip-source-first-line = true\n")
    write(
        "script.py",
        "@echo off & python -x %0 & exit\nimport sys\nimport os\nx = {  'a':1 }\n",
    )
    reference = tmp_path / "reference"
    copy_tree(repo, reference)
    run_command_lines(reference, ["script.py"], isort_args=["--profile", "black"])

    assert isort_black.main(["script.py"]) == 1

    assert Path("script.py").read_bytes() == (reference / "script.py").read_bytes()
    assert Path("script.py").read_text().startswith("@echo off & python -x %0 & exit\n")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\xef\xbb\xbfimport sys\nimport os\nx = 'a'\n", id="bom"),
        pytest.param(b"import sys\r\nimport os\r\nx = 'a'\r\n", id="crlf"),
        pytest.param(
            b"# -*- coding: latin-1 -*-\nimport sys\nimport os\nname = '\xe9t\xe9'\n",
            id="latin-1",
        ),
        pytest.param(b"#!/usr/bin/env python\nimport sys\nimport os\n", id="shebang"),
        pytest.param(
            b"# isort: skip_file\nimport sys\nimport os\nx = 'a'\n", id="isort-skip"
        ),
    ],
)
def test_encodings_and_line_endings_match_the_command_lines(repo, tmp_path, content):
    write("module.py", content)
    reference = tmp_path / "reference"
    copy_tree(repo, reference)
    run_command_lines(reference, ["module.py"], isort_args=["--profile", "black"])

    isort_black.main(["module.py"])

    assert Path("module.py").read_bytes() == (reference / "module.py").read_bytes()


def test_check_and_diff_change_nothing(repo, capsys):
    write("module.py", UNSORTED)

    assert isort_black.main(["--check", "module.py"]) == 1
    assert capsys.readouterr().out == "would reformat module.py\n"
    assert isort_black.main(["--diff", "module.py"]) == 1
    diff = capsys.readouterr().out
    assert diff.startswith("--- a/module.py\n+++ b/module.py\n")
    assert "+import os\n import sys\n-import os\n" in diff

    assert Path("module.py").read_text() == UNSORTED


def test_unparsable_file_is_reported_and_others_still_formatted(repo, capsys):
    write("broken.py", "import sys\nimport os\n\ndef f(:\n    pass\n")
    write("fine.py", UNSORTED)

    assert isort_black.main(["--jobs", "1", "broken.py", "fine.py"]) == 1

    output = capsys.readouterr()
    assert output.err.startswith("broken.py:4: cannot format: ")
    assert output.out == "Fixing fine.py\n"
    assert (
        Path("broken.py").read_text() == "import sys\nimport os\n\ndef f(:\n    pass\n"
    )
    assert Path("fine.py").read_text() == SORTED


def test_undecodable_file_names_the_line(repo, capsys):
    write("module.py", b"x = 1\ny = 2\nname = '\xff\xfe'\n")

    assert isort_black.main(["module.py"]) == 1

    assert capsys.readouterr().err == (
        "module.py:3: cannot format: not valid utf-8: invalid start byte\n"
    )


def test_isort_failure_is_reported_without_a_traceback(repo, capsys):
    write("module.py", "# isort: list\nx = [b, a]\n")

    assert isort_black.main(["module.py"]) == 1

    assert capsys.readouterr().err == (
        "module.py: cannot format: isort: isort failed to parse the given literal x = [b, a]\n"
    )


def test_unparsable_after_isort_still_names_the_users_line(repo, capsys):
    write("module.py", "import sys\nimport os\nprint 'python 2'\n")

    assert isort_black.main(["module.py"]) == 1

    assert capsys.readouterr().err.startswith("module.py:3: cannot format: ")


def test_missing_file_is_reported(repo, capsys):
    write("fine.py", SORTED)

    assert isort_black.main(["missing.py", "fine.py"]) == 1

    assert (
        capsys.readouterr().err
        == "missing.py: cannot format: No such file or directory\n"
    )


def test_only_unreadable_files(repo, capsys):
    assert isort_black.main(["missing.py"]) == 1
    assert isort_black.main([]) == 0


def test_rewrite_keeps_mode_and_writes_through_symlinks(repo):
    target = write("real.py", UNSORTED)
    target.chmod(0o755)
    os.symlink("real.py", "link.py")

    assert isort_black.main(["link.py"]) == 1

    assert Path("link.py").is_symlink()
    assert target.read_text() == SORTED
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    assert sorted(os.listdir(repo)) == [".git", "link.py", "real.py"]


def test_symlink_to_a_file_outside_the_project_is_formatted_like_the_command_lines(
    repo, tmp_path
):
    outside = tmp_path / "outside.py"
    outside.write_text(UNSORTED)
    os.symlink(outside, "link.py")

    assert isort_black.main(["link.py"]) == 1

    assert outside.read_text() == SORTED
    assert Path("link.py").is_symlink()


def test_works_outside_a_git_repository(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write("module.py", UNSORTED)

    assert isort_black.main(["module.py"]) == 1
    assert isort_black.main(["module.py"]) == 0


def test_black_force_exclude_and_isort_filter_files_are_honoured(repo):
    write(
        "pyproject.toml",
        "[tool.isort]\nprofile = 'black'\nfilter_files = true\nskip_glob = ['legacy/*']\n"
        "[tool.black]\nforce-exclude = 'generated/'\n",
    )
    write("legacy/old.py", UNSORTED)
    write("generated/made.py", UNSORTED)
    write("outside.py", UNSORTED)

    isort_black.main(
        ["--jobs", "1", "legacy/old.py", "generated/made.py", "outside.py"]
    )

    assert (
        Path("legacy/old.py").read_text() == 'import sys\nimport os\n\nx = {"a": 1}\n'
    )
    assert (
        Path("generated/made.py").read_text()
        == "import os\nimport sys\n\nx = {  'a':1 }\n"
    )
    assert Path("outside.py").read_text() == SORTED


def test_many_files_are_formatted_in_parallel_workers(repo):
    names = [
        f"module_{index}.py" for index in range(isort_black.PARALLEL_THRESHOLD + 2)
    ]
    for name in names:
        write(name, UNSORTED)

    assert isort_black.main(["--jobs", "2", *names]) == 1

    assert all(Path(name).read_text() == SORTED for name in names)


@pytest.mark.parametrize(
    ("pyproject", "message"),
    [
        ("[tool.black]\nline-length = 'wide'\n", "black configuration: "),
        (
            "[tool.black]\nrequired-version = '1'\n",
            "black configuration requires version 1",
        ),
        ("[tool.isort]\nprofile = 'no-such-profile'\n", "isort configuration: "),
    ],
)
def test_broken_tool_configuration_is_a_one_line_error(
    repo, capsys, pyproject, message
):
    write("pyproject.toml", pyproject)
    write("module.py", UNSORTED)

    assert isort_black.main(["module.py"]) == 2

    error = capsys.readouterr().err
    assert error.startswith(f"testwarden: {message}")
    assert error.count("\n") == 1
    assert Path("module.py").read_text() == UNSORTED


@pytest.mark.parametrize(
    ("files", "error"),
    [
        (
            {"pyproject.toml": "[tool.black\nline-length = 99\n"},
            "pyproject.toml:1: not valid TOML: Expected ']' at the end of a table "
            "declaration, so isort cannot read its configuration; fix the file",
        ),
        (
            {
                ".isort.cfg": "[settings]\nprofile = black\n",
                "pyproject.toml": "[tool.black]\nline-length = 99\n\n[x\n",
            },
            "pyproject.toml:4: not valid TOML: Expected ']' at the end of a table "
            "declaration, so black cannot read its configuration; fix the file",
        ),
        (
            {".isort.cfg": "profile = black\n"},
            ".isort.cfg: isort cannot read its configuration from this file; fix the file",
        ),
    ],
    ids=["pyproject for isort", "pyproject for black", "isort.cfg"],
)
def test_an_unreadable_configuration_file_is_one_line_naming_it(repo, files, error):
    for name, text in {**files, "module.py": UNSORTED}.items():
        write(name, text)

    completed = subprocess.run(
        [str(Path(sys.executable).parent / "isort-black"), "module.py"],
        capture_output=True,
        text=True,
    )

    assert (completed.returncode, completed.stderr) == (2, f"testwarden: {error}\n")
    assert Path("module.py").read_text() == UNSORTED


def run_in_subprocess(code: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return completed.stdout


def test_second_run_on_unchanged_files_loads_no_formatter(repo):
    write("a.py", UNSORTED)
    write("b.py", SORTED)
    probe = (
        "import sys\nfrom hooks.isort_black import main\n"
        "code = main(['a.py', 'b.py'])\n"
        "print(code, 'black' in sys.modules, 'isort' in sys.modules)\n"
    )

    assert run_in_subprocess(probe).splitlines()[-1] == "1 True True"
    assert run_in_subprocess(probe) == "0 False False\n"


def test_cache_is_not_trusted_after_the_configuration_changes(repo, capsys):
    write("module.py", "x = ['a fairly long list element', 'another long one']\n")
    assert isort_black.main(["module.py"]) == 1
    assert isort_black.main(["module.py"]) == 0

    write("pyproject.toml", "[tool.black]\nline-length = 40\n")

    assert isort_black.main(["module.py"]) == 1
    assert Path("module.py").read_text().startswith("x = [\n")


def test_cache_is_not_trusted_after_a_first_party_package_appears(repo):
    # A process per run, as pre-commit runs hooks: isort memoises placements.
    probe = "from hooks.isort_black import main\nprint(main(['app.py']))\n"
    write("app.py", "import mylib\nimport requests\n")
    assert run_in_subprocess(probe) == "0\n"

    write("mylib/__init__.py", "")

    assert run_in_subprocess(probe) == "Fixing app.py\n1\n"
    assert Path("app.py").read_text() == "import requests\n\nimport mylib\n"


def test_no_cache_formats_every_time_and_stores_nothing(repo, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("TESTWARDEN_CACHE_DIR", str(cache))
    write("module.py", SORTED)

    assert isort_black.main(["--no-cache", "module.py"]) == 0

    assert not cache.exists()


def test_cache_location_follows_xdg(repo, tmp_path, monkeypatch):
    monkeypatch.delenv("TESTWARDEN_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    write("module.py", SORTED)

    isort_black.main(["module.py"])

    [entry] = (tmp_path / "xdg" / "testwarden").iterdir()
    assert entry.name.startswith("isort-black-")


def test_unwritable_cache_does_not_fail_the_hook(repo, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("TESTWARDEN_CACHE_DIR", str(blocker / "cache"))
    write("module.py", UNSORTED)

    assert isort_black.main(["module.py"]) == 1
    assert Path("module.py").read_text() == SORTED
