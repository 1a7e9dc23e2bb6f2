"""A consumer's test that runs pytest in a subprocess with a PYTHONPATH of its
own (as pytest plugins' suites do, and ours): the plugins testwarden loads into
the tox env must not follow it there."""

TEST_RUNNING_PYTEST = """\
import os
import subprocess
import sys


def test_pytest_in_a_subprocess(tmp_path):
    (tmp_path / "test_inner.py").write_text("def test_inner():\\n    assert 1 + 1 == 2\\n")
    inner = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
    )
    assert inner.returncode == 0, inner.stdout + inner.stderr
"""
