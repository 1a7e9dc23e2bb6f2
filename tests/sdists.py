"""Real projects' source distributions for the conformance tests.

Each sdist is downloaded once with pip into a cache that outlives the tests'
temporary directories ($TESTWARDEN_SDIST_CACHE, else .cache/sdists in this
checkout) and unpacked wherever a test wants its tree.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

# Pinned: each of these sdists ships its tests and its own configuration.
# click: src layout, its own tox.ini, [tool.pytest.ini_options], tests need only pytest.
# attrs: src layout, coverage `source_pkgs`, `collect_ignore` in a root conftest.py.
# httpx: flat layout, no tox.ini, [tool.pytest.ini_options].
SDIST_VERSIONS = {"click": "8.1.8", "attrs": "25.3.0", "httpx": "0.28.1"}


def cache_directory(project_root: Path) -> Path:
    configured = os.environ.get("TESTWARDEN_SDIST_CACHE")
    return Path(configured) if configured else project_root / ".cache" / "sdists"


def sdist_archive(name: str, cache: Path) -> Path:
    """The cached sdist of NAME at its pinned version, downloaded if missing.
    Test workers run in parallel: the first to ask downloads it, under a file
    lock, and the others wait for it rather than download it again."""
    version = SDIST_VERSIONS[name]
    archive = cache / f"{name}-{version}.tar.gz"
    if archive.is_file():
        return archive
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f"{name}-{version}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not archive.is_file():
            download(name, version, archive)
    return archive


def download(name: str, version: str, archive: Path) -> None:
    """pip's download of the sdist, moved into place whole (a reader that takes
    no lock never sees a part of it)."""
    partial = Path(tempfile.mkdtemp(prefix="download-", dir=archive.parent))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-binary",
            ":all:",
            "--no-deps",
            f"{name}=={version}",
            "-d",
            str(partial),
        ],
        check=True,
    )
    os.replace(partial / archive.name, archive)
    shutil.rmtree(partial)


def unpack(archive: Path, destination: Path) -> Path:
    """Unpack ARCHIVE into DESTINATION and return the tree's top directory."""
    with tarfile.open(archive) as sdist:
        sdist.extractall(destination, filter="data")
        top = sdist.getnames()[0].split("/")[0]
    return destination / top
