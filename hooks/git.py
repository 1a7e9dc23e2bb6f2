"""Every git call testwarden makes goes through this module.

A hook asks for a ChangeSet in one of four modes: the staged change (index
against HEAD, or against the empty tree before the first commit), a range
(pre-commit's PRE_COMMIT_FROM_REF/PRE_COMMIT_TO_REF or --from-ref/--to-ref),
every tracked file, or the files named on the command line. pre-commit never
says which way it was run; the file names it passes tell (choose_mode).
Content on either side is read from git objects, never from the working
tree, which may hold unstaged edits.
"""

from __future__ import annotations

import argparse
import functools
import os
import posixpath
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from hooks.errors import UserError

STAGED = "staged"
RANGE = "range"
ALL_FILES = "all-files"
FILES = "files"

ADDED = "added"
MODIFIED = "modified"
DELETED = "deleted"
RENAMED = "renamed"
COPIED = "copied"
TYPE_CHANGED = "type-changed"
UNMERGED = "unmerged"

_STATUS_BY_LETTER = {
    "A": ADDED,
    "M": MODIFIED,
    "D": DELETED,
    "R": RENAMED,
    "C": COPIED,
    "T": TYPE_CHANGED,
    "U": UNMERGED,
}
_SYMLINK_MODE = "120000"
_SUBMODULE_MODE = "160000"


class GitError(UserError):
    """git is missing, we are outside a repository, or a git call failed."""


def run(
    *args: str, stdin: bytes | None = None, env: Mapping[str, str] | None = None
) -> bytes:
    """Run one git command in the current directory and return its stdout.
    ENV: variables to set for this call on top of the environment."""
    try:
        completed = subprocess.run(
            ("git", *args),
            input=stdin,
            capture_output=True,
            check=False,
            env={**os.environ, **env} if env else None,
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH; install git") from None
    if completed.returncode != 0:
        stderr_lines = completed.stderr.decode(errors="replace").strip().splitlines()
        reason = stderr_lines[-1] if stderr_lines else f"exit {completed.returncode}"
        if "not a git repository" in reason:
            raise GitError("not inside a git repository; run this from a git checkout")
        raise GitError(f"git {args[0]} failed: {reason}")
    return completed.stdout


def zsplit(output: bytes) -> list[str]:
    """Split NUL-terminated git output into paths, keeping undecodable bytes."""
    return [os.fsdecode(field) for field in output.split(b"\0") if field]


def repo_root() -> Path:
    return Path(os.fsdecode(run("rev-parse", "--show-toplevel").rstrip(b"\n")))


def resolve_commit(ref: str) -> str:
    """The full object id of the commit REF names, or a GitError that says so."""
    try:
        output = run(
            "rev-parse", "--verify", "--quiet", "--end-of-options", ref + "^{commit}"
        )
    except GitError:
        raise GitError(
            f"cannot find the revision {ref!r}; does it exist? "
            "(in CI, fetch it and enough history: `git fetch --unshallow` in a "
            "shallow clone, `fetch-depth: 0` with actions/checkout)"
        ) from None
    return output.decode().strip()


def head_commit() -> str | None:
    """HEAD's object id, or None in a repository with no commit yet."""
    run("rev-parse", "--git-dir")  # outside a repository, fail with that message
    try:
        return resolve_commit("HEAD")
    except GitError:
        return None


def current_branch() -> str | None:
    """The branch HEAD is on, or None when HEAD is detached."""
    try:
        return run("symbolic-ref", "--quiet", "--short", "HEAD").decode().strip()
    except GitError:
        return None


@functools.cache
def empty_tree() -> str:
    return run("hash-object", "-t", "tree", "--stdin", stdin=b"").decode().strip()


def tracked_files() -> list[str]:
    return zsplit(run("ls-files", "-z", "--full-name", "--", ":/"))


def working_tree_blobs(paths: Sequence[str]) -> dict[str, str]:
    """Path -> the blob id the working-tree file would get if it were staged."""
    if not paths:
        return {}
    top = repo_root()
    output = run("hash-object", "--", *(str(top / path) for path in paths))
    return dict(zip(paths, output.decode().split()))


def tracked_blobs(revision: str | None = None) -> dict[str, str]:
    """Path -> blob id of every file in REVISION's tree, or in the index if None."""
    if revision is None:
        listing = run("ls-files", "--stage", "-z", "--full-name", "--", ":/")
    else:
        listing = run(
            "ls-tree", "-r", "-z", "--full-tree", revision
        )  # mode type blob\tpath
    blobs = {}
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        header, _, path = entry.partition(b"\t")
        # ls-files: "mode blob stage"; ls-tree: "mode type blob".
        mode, second, third = header.decode().split(" ")
        blob = second if revision is None else third
        if mode not in (_SUBMODULE_MODE, _SYMLINK_MODE):
            blobs[os.fsdecode(path)] = blob
    return blobs


@dataclass(frozen=True)
class FileChange:
    """One path in a change set, with the blobs on both sides."""

    status: str
    path: str
    old_path: str | None
    old_blob: str | None
    new_blob: str | None
    old_mode: str
    new_mode: str

    @property
    def is_symlink(self) -> bool:
        return _SYMLINK_MODE in (self.old_mode, self.new_mode)

    @property
    def is_submodule(self) -> bool:
        return _SUBMODULE_MODE in (self.old_mode, self.new_mode)


@dataclass(frozen=True)
class ChangeSet:
    """What a hook checks: the changed paths between a before and an after side.

    before_rev is a commit or tree id (the empty tree when nothing came
    before); after_rev is a commit id, or None when the after side is the index.
    """

    mode: str
    before_rev: str
    after_rev: str | None
    changes: tuple[FileChange, ...]
    why: str = ""  # why the hook checks this: how the mode was chosen

    def describe(self) -> str:
        if self.mode == STAGED:
            return "the staged change"
        if self.mode == ALL_FILES:
            return "all tracked files"
        if self.mode == FILES:
            return f"{len(self.changes)} named file(s)"
        return f"{self.before_rev[:12]}..{self.after_rev[:12]}"

    @property
    def has_before_side(self) -> bool:
        """False when each file is judged whole (--all-files, named files)."""
        return self.mode in (STAGED, RANGE)

    def mode_line(self, hook_id: str) -> str:
        """'forbid-mock-data: checking the staged change (...)' for the output."""
        because = f" ({self.why})" if self.why else ""
        return f"{hook_id}: checking {self.describe()}{because}"

    def read_before(self, changes: Iterable[FileChange]) -> dict[str, bytes]:
        """Content before the change, keyed by the path before (old_path or path)."""
        wanted = {
            (change.old_path or change.path): change.old_blob
            for change in changes
            if change.old_blob and not change.is_submodule
        }
        return _read_blobs_by_path(wanted)

    def read_after(self, changes: Iterable[FileChange]) -> dict[str, bytes]:
        """Content after the change (from the index or to-revision), keyed by path."""
        wanted = {
            change.path: change.new_blob
            for change in changes
            if change.new_blob and not change.is_submodule
        }
        return _read_blobs_by_path(wanted)


def staged_changes() -> ChangeSet:
    before = head_commit() or empty_tree()
    diff = run("diff", "--cached", *_RAW_DIFF_OPTIONS, before, "--")
    return ChangeSet(STAGED, before, None, tuple(parse_raw_diff(diff)))


def range_changes(from_ref: str, to_ref: str) -> ChangeSet:
    """The change FROM...TO: what TO adds since it forked from FROM, as pre-commit diffs."""
    from_commit = resolve_commit(from_ref)
    to_commit = resolve_commit(to_ref)
    try:
        base = run("merge-base", from_commit, to_commit).decode().strip()
    except GitError:
        raise GitError(
            f"{from_ref!r} and {to_ref!r} have no common ancestor; "
            "compare against a branch that TO was made from"
        ) from None
    diff = run("diff", *_RAW_DIFF_OPTIONS, base, to_commit, "--")
    return ChangeSet(RANGE, base, to_commit, tuple(parse_raw_diff(diff)))


def commit_changes(commit: str) -> ChangeSet:
    """What one commit changed against its first parent (or against nothing)."""
    commit = resolve_commit(commit)
    try:
        parent = resolve_commit(commit + "^")
    except GitError:
        parent = empty_tree()
    diff = run("diff", *_RAW_DIFF_OPTIONS, parent, commit, "--")
    return ChangeSet(RANGE, parent, commit, tuple(parse_raw_diff(diff)))


def commits_between(from_ref: str, to_ref: str) -> list[str]:
    """The non-merge commits TO has and FROM has not, oldest first."""
    listing = run(
        "rev-list",
        "--reverse",
        "--no-merges",
        f"{resolve_commit(from_ref)}..{resolve_commit(to_ref)}",
        "--",
    )
    return listing.decode().split()


def all_files(
    paths: Sequence[str] | None = None, *, mode: str = ALL_FILES
) -> ChangeSet:
    """Every file in the index (or the index entries of PATHS), as if added
    to an empty repository."""
    head_commit()  # outside a repository, fail with that message
    before = empty_tree()
    pathspecs = [f":(top,literal){path}" for path in paths] if paths is not None else []
    if paths is not None and not paths:
        return ChangeSet(mode, before, None, ())
    diff = run("diff", "--cached", *_RAW_DIFF_OPTIONS, before, "--", *pathspecs)
    return ChangeSet(mode, before, None, tuple(parse_raw_diff(diff)))


_RAW_DIFF_OPTIONS = (
    "--raw",
    "-z",
    "--no-abbrev",
    "-M",
    "--no-ext-diff",
    "--no-textconv",
)


def parse_raw_diff(output: bytes) -> list[FileChange]:
    """Parse `git diff --raw -z`: ':old new oldsha newsha S\\0path\\0[path\\0]'."""
    fields = output.split(b"\0")
    changes = []
    index = 0
    while index < len(fields) and fields[index]:
        old_mode, new_mode, old_sha, new_sha, letters = (
            fields[index].decode().lstrip(":").split(" ")
        )
        status = _STATUS_BY_LETTER.get(letters[0], MODIFIED)
        first_path = os.fsdecode(fields[index + 1])
        if status in (RENAMED, COPIED):
            old_path, path = first_path, os.fsdecode(fields[index + 2])
            index += 3
        else:
            old_path = None if status == ADDED else first_path
            path = first_path
            index += 2
        changes.append(
            FileChange(
                status=status,
                path=path,
                old_path=old_path,
                old_blob=None if _is_null(old_sha) else old_sha,
                new_blob=None if _is_null(new_sha) else new_sha,
                old_mode=old_mode,
                new_mode=new_mode,
            )
        )
    return changes


def _is_null(object_id: str) -> bool:
    return object_id.strip("0") == ""


def read_blobs(
    object_ids: Iterable[str], *, skip_missing: bool = False
) -> dict[str, bytes]:
    """Read many blobs with one `git cat-file --batch` process.

    A blob the repository does not have is an error, or left out of the
    result with SKIP_MISSING."""
    unique_ids = list(dict.fromkeys(object_ids))
    if not unique_ids:
        return {}
    output = run(
        "cat-file", "--batch", stdin="".join(f"{oid}\n" for oid in unique_ids).encode()
    )
    contents = {}
    position = 0
    for object_id in unique_ids:
        header_end = output.index(b"\n", position)
        header = output[position:header_end].split()
        if header[-1] == b"missing":
            if not skip_missing:
                raise GitError(f"object {object_id} is missing from the repository")
            position = header_end + 1
            continue
        size = int(header[2])
        contents[object_id] = output[header_end + 1 : header_end + 1 + size]
        position = header_end + 1 + size + 1
    return contents


def _read_blobs_by_path(blob_by_path: Mapping[str, str]) -> dict[str, bytes]:
    contents = read_blobs(blob_by_path.values())
    return {path: contents[blob] for path, blob in blob_by_path.items()}


def added_lines(change: FileChange) -> set[int]:
    """Line numbers (1-based, after side) that the change adds or modifies."""
    if change.new_blob is None or change.is_submodule:
        return set()
    if change.old_blob is None:
        content = read_blobs([change.new_blob])[change.new_blob]
        return set(range(1, len(content.splitlines()) + 1))
    lines: set[int] = set()
    for hunk in diff_hunks(change.old_blob, change.new_blob):
        lines.update(range(hunk.new_start, hunk.new_start + hunk.new_count))
    return lines


@dataclass(frozen=True)
class Hunk:
    """One hunk of `git diff -U0`: the old lines replaced and the new ones.

    A count of 0 means nothing on that side; the start is then the line
    after which the other side's lines go (as git writes it)."""

    old_start: int
    old_count: int
    new_start: int
    new_count: int


def diff_hunks(old_blob: str, new_blob: str) -> list[Hunk]:
    """The hunks that turn one blob into the other, without context lines."""
    diff = run(
        "diff",
        "-U0",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        old_blob,
        new_blob,
    )
    hunks = []
    for hunk_header in diff.splitlines():
        if not hunk_header.startswith(b"@@ "):
            continue
        old_side, new_side = hunk_header.split(b" ")[1:3]
        old_start, _, old_count = old_side.lstrip(b"-").partition(b",")
        new_start, _, new_count = new_side.lstrip(b"+").partition(b",")
        hunks.append(
            Hunk(
                int(old_start),
                int(old_count) if old_count else 1,
                int(new_start),
                int(new_count) if new_count else 1,
            )
        )
    return hunks


def unified_diff(change_set: ChangeSet) -> bytes:
    """The change set as a patch, with a/ and b/ prefixes whatever the user's config."""
    sides = [change_set.before_rev]
    if change_set.after_rev is None:
        sides.insert(0, "--cached")
    else:
        sides.append(change_set.after_rev)
    return run(
        "diff",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "-M",
        "--src-prefix=a/",
        "--dst-prefix=b/",
        *sides,
        "--",
        *(
            [f":(top,literal){change.path}" for change in change_set.changes]
            if change_set.mode == FILES
            else []
        ),
    )


def add_change_set_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every hook that asks git takes to choose its mode."""
    parser.add_argument(
        "filenames",
        nargs="*",
        help="the files pre-commit passes; they tell a commit from --files "
        "and --all-files (see choose_mode)",
    )
    parser.add_argument(
        "--from-ref",
        help="check the range FROM_REF...TO_REF (default: $PRE_COMMIT_FROM_REF)",
    )
    parser.add_argument(
        "--to-ref", help="end of the range (default: $PRE_COMMIT_TO_REF, else HEAD)"
    )
    parser.add_argument(
        "--all-files", action="store_true", help="check every tracked file"
    )


def change_set_from_arguments(args: argparse.Namespace) -> ChangeSet:
    """Command line first, then pre-commit's environment, then the file names."""
    if args.all_files:
        return replace(all_files(), why="--all-files")
    from_ref = args.from_ref or os.environ.get("PRE_COMMIT_FROM_REF")
    to_ref = args.to_ref or os.environ.get("PRE_COMMIT_TO_REF")
    if from_ref:
        source = (
            "--from-ref" if args.from_ref else "PRE_COMMIT_FROM_REF: a push or a range"
        )
        return replace(range_changes(from_ref, to_ref or "HEAD"), why=source)
    if args.to_ref:
        raise GitError("--to-ref needs --from-ref: say where the range starts")
    return choose_mode(getattr(args, "filenames", []))


# pre-commit's cap on one hook command line (pre_commit/xargs.py); a longer
# file list is split into batches, each its own run of the hook.
PRE_COMMIT_COMMAND_LIMIT = 2**17


def choose_mode(filenames: Sequence[str]) -> ChangeSet:
    """The change pre-commit asks about, told by the file names it passes.

    pre-commit tells a hook nothing but the names. A commit (or a plain
    `pre-commit run`) passes staged files only; `--files A B` passes A and B;
    `--all-files` passes every tracked file, split into batches in git's order
    when the list is long. So: no name, or only staged ones -> the staged
    change. Names that run, in git's order, over all files pre-commit would
    pass, or over a batch of them that starts or ends that list or fills a
    command line -> every tracked file (the batch's files). Any other names
    -> those files, each judged whole.
    """
    staged = staged_changes()
    names = _repository_paths(filenames)
    if not names:
        return replace(staged, why="no file names passed")
    staged_paths = {change.path for change in staged.changes}
    if all(name in staged_paths for name in names):
        return replace(staged, why="pre-commit passed staged files only: a commit")
    passable = _files_pre_commit_passes()
    batch = _position_in(names, passable)
    if batch is not None:
        first, last = batch
        if first == 0 and last == len(passable):
            why = "pre-commit passed every tracked file: --all-files"
        else:
            why = (
                f"pre-commit passed tracked files {first + 1} to {last} of "
                f"{len(passable)}: one batch of --all-files"
            )
        return replace(all_files(names), why=why)
    tracked = set(tracked_files())
    untracked = [name for name in names if name not in tracked]
    why = "pre-commit passed files outside the staged change: --files"
    if untracked:
        why += f"; {len(untracked)} not tracked by git, not checked: {untracked[0]}"
    named = [name for name in names if name in tracked]
    return replace(all_files(named, mode=FILES), why=why)


def _repository_paths(filenames: Sequence[str]) -> list[str]:
    """FILENAMES (relative to the current directory) relative to the top."""
    if not filenames:
        return []
    prefix = os.fsdecode(run("rev-parse", "--show-prefix").rstrip(b"\n"))
    paths = []
    for name in filenames:
        path = posixpath.normpath(posixpath.join(prefix, name.replace(os.sep, "/")))
        if not path.startswith("../"):
            paths.append(path)
    return list(dict.fromkeys(paths))


def _files_pre_commit_passes() -> list[str]:
    """Tracked files in git's order that pre-commit passes with --all-files
    to a hook of ours (types [file]: present, regular, not symlinks)."""
    top = repo_root()
    return [
        path
        for path in tracked_files()
        if (top / path).is_file() and not (top / path).is_symlink()
    ]


def _position_in(
    names: Sequence[str], passable: Sequence[str]
) -> tuple[int, int] | None:
    """(first, end) when NAMES are the run PASSABLE[first:end] and that run is
    the whole list or could be one of pre-commit's batches of it."""
    try:
        first = passable.index(names[0])
    except ValueError:
        return None
    end = first + len(names)
    if list(passable[first:end]) != list(names):
        return None
    whole = first == 0 and end == len(passable)
    fills_a_command_line = (
        sum(len(os.fsencode(name)) + 1 for name in names)
        > PRE_COMMIT_COMMAND_LIMIT // 2
    )
    starts_or_ends = len(names) >= 2 and (first == 0 or end == len(passable))
    if whole or fills_a_command_line or starts_or_ends:
        return first, end
    return None


# What running the tests leaves in a tree that has no .gitignore for it:
# not part of what the tests saw.
_RUN_BY_PRODUCTS = tuple(
    f":(top,exclude,glob){pattern}"
    for pattern in (
        "**/__pycache__/**",
        "**/*.py[cod]",
        "**/.pytest_cache/**",
        "**/.coverage",
        "**/.coverage.*",
        "**/*.egg-info/**",
        ".tox/**",
        ".nox/**",
        ".mypy_cache/**",
    )
)


def working_tree_id() -> str:
    """A tree id for the working tree as tests see it: tracked files with
    their unstaged edits, and untracked files git does not ignore. The
    user's index is left alone (a copy of it is used)."""
    index = Path(os.fsdecode(run("rev-parse", "--git-path", "index").rstrip(b"\n")))
    with tempfile.TemporaryDirectory(prefix="testwarden-index-") as scratch:
        scratch_index = Path(scratch) / "index"
        if index.is_file():
            shutil.copyfile(index, scratch_index)
        variables = {"GIT_INDEX_FILE": str(scratch_index)}
        run("add", "--all", "--", ":/", *_RUN_BY_PRODUCTS, env=variables)
        return run("write-tree", env=variables).decode().strip()


def scrubbed_environment(
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment for a child that is not git on this repository (tox, pytest).

    git exports GIT_DIR, GIT_INDEX_FILE and friends to hooks; a test suite that
    creates its own repositories would otherwise write into the user's index.
    """
    local_variables = set(run("rev-parse", "--local-env-vars").decode().split())
    source = os.environ if environ is None else environ
    return {
        name: value for name, value in source.items() if name not in local_variables
    }
