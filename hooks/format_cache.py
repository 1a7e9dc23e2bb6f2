"""Remember which files isort-black already left in final form.

An entry is the digest of a file's absolute path and content. Entries live in
one file per fingerprint of everything else the result depends on: tool
versions, every configuration file isort or black could read, and which
top-level modules exist (isort decides first-party imports by looking). So a
second run over an unchanged tree reads the files, hashes them, and stops,
without importing isort or black.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import hooks
from hooks.atomic_write import write_atomically
from hooks.cache import cache_directory

# Files isort or black may read configuration from, in any directory they search.
CONFIG_FILE_NAMES = (
    ".isort.cfg",
    "pyproject.toml",
    "setup.cfg",
    "tox.ini",
    ".editorconfig",
)
# Directories where both tools stop searching upwards.
PROJECT_MARKERS = (".git", ".hg")
MAX_ENTRIES = 100_000


def _directories_searched(start: Path) -> Iterator[Path]:
    """START and its parents, up to and including the repository root."""
    for directory in (start, *start.parents):
        yield directory
        if any((directory / marker).exists() for marker in PROJECT_MARKERS):
            return


def _module_names(directory: Path) -> list[str]:
    try:
        entries = os.scandir(directory)
    except OSError:
        return []
    with entries:
        return sorted(
            entry.name
            for entry in entries
            if entry.name.partition(".")[0].isidentifier()
            and (entry.is_dir() or entry.name.endswith((".py", ".pyi")))
        )


def fingerprint(filenames: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for tool in ("black", "isort"):
        # Where the installed tool lives and when it was installed, without
        # importing it: a new version is a new file.
        origin = importlib.util.find_spec(tool).origin
        installed = os.stat(origin)
        digest.update(
            f"{origin} {installed.st_mtime_ns} {installed.st_size}\n".encode()
        )
    digest.update(
        f"testwarden={hooks.__version__} {__file__} python={sys.version}\n".encode()
    )
    start = Path(os.path.abspath(filenames[0])).parent
    user_black_config = (
        Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "black"
    )
    candidates = [user_black_config]
    for directory in _directories_searched(start):
        candidates.extend(directory / name for name in CONFIG_FILE_NAMES)
        for modules_directory in (directory, directory / "src"):
            names = _module_names(modules_directory)
            digest.update(f"{modules_directory}:{','.join(names)}\n".encode())
    for candidate in candidates:
        try:
            digest.update(f"{candidate}\n".encode() + candidate.read_bytes())
        except OSError:
            digest.update(f"{candidate} absent\n".encode())
    return digest.hexdigest()


def _entry(path: str, content: bytes) -> str:
    return hashlib.sha256(
        os.fsencode(os.path.abspath(path)) + b"\0" + content
    ).hexdigest()


class FormattedCache:
    def __init__(self, location: Path, known: list[str]) -> None:
        self.location = location
        self._known = dict.fromkeys(known)
        self._added: dict[str, None] = {}

    @classmethod
    def load(cls, filenames: Sequence[str]) -> FormattedCache:
        location = cache_directory() / f"isort-black-{fingerprint(filenames)[:32]}"
        try:
            known = location.read_text(encoding="ascii").split()
        except (OSError, UnicodeDecodeError):
            known = []
        return cls(location, known)

    def is_formatted(self, path: str, content: bytes) -> bool:
        return _entry(path, content) in self._known

    def remember(self, path: str, content: bytes) -> None:
        entry = _entry(path, content)
        if entry not in self._known:
            self._added[entry] = None

    def save(self) -> None:
        """Write the entries atomically; a cache that cannot be written is skipped."""
        if not self._added:
            return
        entries = [*self._known, *self._added][-MAX_ENTRIES:]
        try:
            write_atomically(self.location, ("\n".join(entries) + "\n").encode())
        except OSError:
            return
