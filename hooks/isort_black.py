"""isort-black: isort (black-compatible) then black, in one process.

Each file goes through the very functions the `isort` and `black` command
lines call (isort.api.sort_file, black.format_file_in_place) on a private
copy, with the configuration each command line would discover, so the result
is byte-identical to running `isort` and then `black`. The real file is
replaced atomically, and only when its content changes.
"""

from __future__ import annotations

import argparse
import difflib
import io
import os
import re
import sys
import tempfile
import tokenize
import tomllib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hooks import format_cache
from hooks.atomic_write import write_atomically
from hooks.errors import UserError, quiet_on_closed_pipe, report
from hooks.python_source import NotPython

# Forking workers after black is loaded costs a few milliseconds: worth it from two files.
# isort warns and goes on without a configuration file it cannot read.
ISORT_UNREADABLE = re.compile(r"Failed to pull configuration information from (.+)")
# Where tomllib says the error is: "... (at line 1, column 12)".
TOML_POSITION = re.compile(r" \(at line (\d+), column \d+\)|\(at end of document\)")
PARALLEL_THRESHOLD = 2


@dataclass(frozen=True)
class ToolSettings:
    """The configuration the isort and black command lines would use."""

    isort_config: Any
    black_mode: Any
    black_fast: bool
    black_root: Path
    black_force_exclude: re.Pattern[str] | None


@dataclass(frozen=True)
class Outcome:
    path: str
    original: bytes
    formatted: bytes | None = None
    error: str | None = None


class CannotFormat(NotPython):
    """black or isort cannot read the file. A NotPython of its own, because
    black's grammar (its target versions) and isort's errors are not
    Python's: a file that parses can still be one they cannot format."""


def unreadable_configuration(tool: str, path: str) -> UserError:
    """`path:line: what is wrong` for a configuration file TOOL cannot read."""
    shown = os.path.relpath(path)
    if path.endswith(".toml"):
        try:
            tomllib.loads(Path(path).read_bytes().decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            position = TOML_POSITION.search(str(error))
            line = f":{position.group(1)}" if position else ""
            reason = TOML_POSITION.sub("", str(error))
            return UserError(
                f"{shown}{line}: not valid TOML: {reason}, so {tool} cannot read its "
                "configuration; fix the file"
            )
    return UserError(
        f"{shown}: {tool} cannot read its configuration from this file; fix the file"
    )


def resolve_settings(filenames: Sequence[str]) -> ToolSettings:
    """Discover configuration exactly as `isort FILES` and `black FILES` do."""
    import black
    import click
    import isort

    first = os.path.abspath(filenames[0])
    isort_start = first if os.path.isdir(first) else os.path.dirname(first)
    try:
        with warnings.catch_warnings(record=True) as isort_warnings:
            warnings.simplefilter("always")
            isort_config = isort.Config(settings_path=isort_start)
            if len(isort_config.sources) == 1:  # only defaults: no configuration
                isort_config = isort.Config(settings_path=isort_start, profile="black")
            isort_config = isort.Config(
                config=isort_config, quiet=True
            )  # we report, not isort
    except Exception as error:  # isort raises many types for a bad configuration
        raise UserError(f"isort configuration: {error}") from None
    unread = [
        match.group(1)
        for warning in isort_warnings
        if (match := ISORT_UNREADABLE.match(str(warning.message)))
    ]
    if unread:  # isort would go on without the file: the result would differ
        raise unreadable_configuration("isort", unread[0])

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            context = black.main.make_context("black", ["--", *filenames])
    except click.FileError as error:
        raise unreadable_configuration("black", error.ui_filename) from None
    except click.ClickException as error:
        raise UserError(f"black configuration: {error.format_message()}") from None
    params = context.params
    required = params["required_version"]
    if required and required not in (
        black.__version__,
        black.__version__.split(".")[0],
    ):
        raise UserError(
            f"black configuration requires version {required}, "
            f"this hook has {black.__version__}; align required-version"
        )
    mode = black.Mode(
        target_versions=set(params["target_version"]),
        line_length=params["line_length"],
        is_pyi=params["pyi"],
        skip_source_first_line=params["skip_source_first_line"],
        string_normalization=not params["skip_string_normalization"],
        magic_trailing_comma=not params["skip_magic_trailing_comma"],
        preview=params["preview"],
        unstable=params["unstable"],
        python_cell_magics=set(params["python_cell_magics"]),
        enabled_features=set(params["enable_unstable_feature"]),
    )
    root, _ = black.find_project_root(tuple(filenames))
    return ToolSettings(
        isort_config=isort_config,
        black_mode=mode,
        black_fast=params["fast"],
        black_root=root,
        black_force_exclude=params["force_exclude"],
    )


def format_source(path: str, source: bytes, settings: ToolSettings) -> bytes:
    """What `isort PATH && black PATH` would leave in a file holding SOURCE."""
    import isort

    with tempfile.TemporaryDirectory(prefix="testwarden-") as scratch:
        copy = Path(scratch) / os.path.basename(path)
        copy.write_bytes(source)
        if not _isort_skips(path, settings):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    isort.api.sort_file(
                        copy, config=settings.isort_config, file_path=Path(path)
                    )
                except (
                    isort.exceptions.FileSkipped,
                    isort.exceptions.UnsupportedEncoding,
                    ValueError,
                ):
                    pass  # the isort command line leaves such a file alone too
                except Exception as error:
                    reason = str(error).strip().splitlines()[0]
                    raise CannotFormat(path, None, f"isort: {reason}") from None
        if not _black_skips(path, settings):
            try:
                _black_in_place(copy, settings)
            except Exception as after_isort:
                # Name the line in the user's file when black fails on it too.
                in_original = _black_error(copy, source, settings)
                raise _black_failure(in_original or after_isort, source, path) from None
        return copy.read_bytes()


def _black_in_place(copy: Path, settings: ToolSettings) -> None:
    """black's safe mode checks that the result is equivalent code, then formats
    it again to check stability. That second pass doubles the cost and never
    changes the result, so only the equivalence check runs here."""
    import black

    before = copy.read_bytes()
    changed = black.format_file_in_place(
        copy, fast=True, mode=settings.black_mode, write_back=black.WriteBack.YES
    )
    if changed and not settings.black_fast:
        skip_first_line = settings.black_mode.skip_source_first_line
        black.assert_equivalent(
            _python_text(before, skip_first_line),
            _python_text(copy.read_bytes(), skip_first_line),
        )


def _python_text(content: bytes, skip_first_line: bool) -> str:
    """Source text as Python reads it: declared encoding, universal newlines."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(content).readline)
    text = io.TextIOWrapper(io.BytesIO(content), encoding).read()
    return text.partition("\n")[2] if skip_first_line else text


def _black_error(copy: Path, source: bytes, settings: ToolSettings) -> Exception | None:
    copy.write_bytes(source)
    try:
        _black_in_place(copy, settings)
    except Exception as error:
        return error
    return None


def _isort_skips(path: str, settings: ToolSettings) -> bool:
    config = settings.isort_config
    return bool(config.filter_files and config.is_skipped(Path(path)))


def _black_skips(path: str, settings: ToolSettings) -> bool:
    if settings.black_force_exclude is None:
        return False
    # black's root is the common base of the resolved files, so this cannot fail.
    relative = Path(path).resolve().relative_to(settings.black_root)
    match = settings.black_force_exclude.search("/" + relative.as_posix())
    return bool(match and match.group(0))


def _black_failure(error: Exception, source: bytes, path: str) -> CannotFormat:
    if isinstance(error, UnicodeDecodeError):
        line = source[: error.start].count(b"\n") + 1
        return CannotFormat(path, line, f"not valid {error.encoding}: {error.reason}")
    message = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
    position = re.search(r"\b(\d+):(\d+)\b", message)
    if position:
        return CannotFormat(path, int(position.group(1)), message)
    return CannotFormat(path, None, f"{type(error).__name__}: {message}")


def _format_one(path: str, source: bytes, settings: ToolSettings) -> Outcome:
    try:
        return Outcome(path, source, formatted=format_source(path, source, settings))
    except CannotFormat as failure:
        return Outcome(
            path, source, error=f"{failure.location()}: cannot format: {failure.reason}"
        )


def format_files(
    filenames: Sequence[str],
    *,
    check: bool = False,
    show_diff: bool = False,
    jobs: int = 0,
    use_cache: bool = True,
) -> int:
    """Format FILENAMES in place (or only report, with check/show_diff); 1 if any changed."""
    sources: dict[str, bytes] = {}
    retv = 0
    for path in dict.fromkeys(filenames):
        try:
            sources[path] = Path(path).read_bytes()
        except OSError as error:
            print(f"{path}: cannot format: {error.strerror}", file=sys.stderr)
            retv = 1
    if not sources:
        return retv

    cache = format_cache.FormattedCache.load(list(sources)) if use_cache else None
    pending = {
        path: source
        for path, source in sources.items()
        if cache is None or not cache.is_formatted(path, source)
    }
    if not pending:
        return retv

    settings = resolve_settings(list(sources))
    for outcome in _format_all(pending, settings, jobs or os.cpu_count() or 1):
        if outcome.error is not None:
            print(outcome.error, file=sys.stderr)
            retv = 1
            continue
        assert outcome.formatted is not None
        if cache is not None:
            cache.remember(outcome.path, outcome.formatted)
        if outcome.formatted == outcome.original:
            continue
        retv = 1
        if show_diff:
            sys.stdout.write(_unified_diff(outcome))
        elif check:
            print(f"would reformat {outcome.path}")
        else:
            print(f"Fixing {outcome.path}")
            write_atomically(Path(outcome.path), outcome.formatted)
    if cache is not None:
        cache.save()
    return retv


def _format_all(
    pending: dict[str, bytes], settings: ToolSettings, jobs: int
) -> list[Outcome]:
    if jobs <= 1 or len(pending) < PARALLEL_THRESHOLD:
        return [_format_one(path, source, settings) for path, source in pending.items()]
    # Largest first, one file per task: the workers finish at about the same time.
    paths = sorted(pending, key=lambda path: len(pending[path]), reverse=True)
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=min(jobs, len(paths))) as executor:
        return list(
            executor.map(
                _format_one,
                paths,
                [pending[path] for path in paths],
                [settings] * len(paths),
            )
        )


def _unified_diff(outcome: Outcome) -> str:
    assert outcome.formatted is not None
    before = outcome.original.decode("utf-8", errors="replace").splitlines(
        keepends=True
    )
    after = outcome.formatted.decode("utf-8", errors="replace").splitlines(
        keepends=True
    )
    return "".join(
        difflib.unified_diff(before, after, f"a/{outcome.path}", f"b/{outcome.path}")
    )


@quiet_on_closed_pipe
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="isort-black",
        description="Sort imports with isort, then format with black, in one process.",
    )
    parser.add_argument("filenames", nargs="*", help="Python files to format")
    parser.add_argument(
        "--check",
        action="store_true",
        help="change nothing; list files that would change",
    )
    parser.add_argument(
        "--diff", action="store_true", help="change nothing; print the diff instead"
    )
    parser.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=0,
        help="worker processes (default: one per CPU)",
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="ignore and do not update the cache"
    )
    args = parser.parse_args(argv)
    try:
        return format_files(
            args.filenames,
            check=args.check,
            show_diff=args.diff,
            jobs=args.jobs,
            use_cache=not args.no_cache,
        )
    except UserError as error:
        return report(error)


if __name__ == "__main__":
    raise SystemExit(main())
