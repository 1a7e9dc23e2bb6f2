"""Real projects' source distributions for the conformance tests.

Each sdist is downloaded once with pip into a cache that outlives the tests'
temporary directories ($TESTWARDEN_SDIST_CACHE, else .cache/sdists in this
checkout) and unpacked wherever a test wants its tree.
"""

from __future__ import annotations

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
    """The cached sdist of NAME at its pinned version, downloaded if missing."""
    version = SDIST_VERSIONS[name]
    archive = cache / f"{name}-{version}.tar.gz"
    if not archive.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        # Into a directory of this process first: test workers run in parallel.
        download = Path(tempfile.mkdtemp(prefix="download-", dir=cache))
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
                str(download),
            ],
            check=True,
        )
        os.replace(download / archive.name, archive)
        shutil.rmtree(download)
    return archive


def unpack(archive: Path, destination: Path) -> Path:
    """Unpack ARCHIVE into DESTINATION and return the tree's top directory."""
    with tarfile.open(archive) as sdist:
        sdist.extractall(destination, filter="data")
        top = sdist.getnames()[0].split("/")[0]
    return destination / top
