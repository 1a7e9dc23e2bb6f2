"""Benchmark: forbid-mock-data's accuracy and speed on real projects' test suites.

Accuracy. bench/fixture_labels.csv labels, by the rules of the hook, every
pytest fixture in the conftest.py and test files of eight projects from PyPI
(heavy mock users and projects that avoid mocks), and every import statement
in those files that names a mock, fake-data or service-faking library or
looks like one. This script downloads the same sdists, runs the detector on
the same files and prints precision and recall per rule. Only the labels are
committed, never the projects' code.

Speed. `forbid-mock-data --all-files` on a tree of ~690 Python files
(SQLAlchemy 2.0.36's sdist as a git repository), cold and warm, and on a
typical commit (three changed test files), in a fresh process each time, as
pre-commit runs it. Targets: all files < 2 s, a commit < 150 ms of the hook's
own time (the time of `python -c pass` is subtracted).

Usage: python bench/mock_data_accuracy.py [--skip-speed] [--list-fixtures]
Run it from the project's virtualenv; it needs the network for pip download.
"""

from __future__ import annotations

import argparse
import ast
import csv
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from collections import Counter
from pathlib import Path

from hooks import mock_detection

WORK = Path(__file__).resolve().parent / ".work"
LABELS = Path(__file__).resolve().parent / "fixture_labels.csv"
PROJECTS = (
    "tox==4.23.2",
    "virtualenv==20.28.0",
    "cookiecutter==2.6.0",
    "httpie==3.2.4",
    "requests==2.32.3",
    "flask==3.0.3",
    "click==8.1.7",
    "factory_boy==3.3.1",
)
IMPORT_RULES = (
    mock_detection.MOCK_OBJECT,
    mock_detection.FAKE_DATA_LIBRARY,
    mock_detection.MOCKED_SERVICE,
)
# Import statements worth a label: every one the detector flags, and every
# one whose text looks like a mock, so that a miss shows up as a miss.
LOOKALIKE = ("mock", "Mock", "fake", "Fake", "factory", "respons", "freez", "stub")


def unpacked(requirement: str) -> Path:
    name, version = requirement.split("==")
    archive_dir = WORK / "sdists"
    # Newer sdists spell the name with underscores.
    stems = {f"{name}-{version}", f"{name.replace('-', '_')}-{version}"}
    archives = [
        path for path in archive_dir.glob("*.tar.gz") if path.name[:-7] in stems
    ]
    if not archives:
        archive_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
            + ["--no-binary", ":all:", "--dest", str(archive_dir), requirement],
            check=True,
        )
        archives = [
            path for path in archive_dir.glob("*.tar.gz") if path.name[:-7] in stems
        ]
    [archive] = archives
    target = archive_dir / archive.name[:-7]
    if not target.exists():
        with tarfile.open(archive) as bundle:
            bundle.extractall(archive_dir, filter="data")
    return target


def test_files(project: Path) -> list[Path]:
    return sorted(
        path
        for path in project.rglob("*.py")
        if path.name == "conftest.py"
        or path.name.startswith("test_")
        or path.name.endswith("_test.py")
    )


def fixtures(module: ast.Module) -> list[tuple[str, int]]:
    """(qualified name, line) of every function decorated as a pytest fixture."""
    found = []

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if any(
                    ast.unparse(decorator).split("(")[0].endswith("fixture")
                    for decorator in node.decorator_list
                ):
                    found.append((prefix + node.name, node.lineno))

    visit(module.body, "")
    return found


def observe(project: Path) -> dict[tuple[str, str], str]:
    """(file, item) -> the rule the detector reports for it, or "pass"."""
    observed = {}
    for path in test_files(project):
        relative = path.relative_to(project).as_posix()
        source = path.read_bytes()
        module = ast.parse(source)
        report = mock_detection.analyse(source, relative)
        fabricated = {
            finding.function
            for finding in report.findings
            if finding.rule == mock_detection.FABRICATED_FIXTURE
        }
        for name, _ in fixtures(module):
            verdict = (
                mock_detection.FABRICATED_FIXTURE if name in fabricated else "pass"
            )
            observed[(relative, f"fixture:{name}")] = verdict
        flagged = {
            finding.line: finding.rule
            for finding in report.findings
            if finding.rule in IMPORT_RULES and finding.enabler
        }
        for node in ast.walk(module):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                text = ast.unparse(node)
                if node.lineno in flagged or any(word in text for word in LOOKALIKE):
                    observed[(relative, f"import:{text}")] = flagged.get(
                        node.lineno, "pass"
                    )
    return observed


def accuracy(list_only: bool) -> None:
    observed: dict[tuple[str, str, str], str] = {}
    for requirement in PROJECTS:
        project = unpacked(requirement)
        for (path, item), verdict in observe(project).items():
            observed[(requirement, path, item)] = verdict
    if list_only:
        writer = csv.writer(sys.stdout)
        for (project, path, item), verdict in sorted(observed.items()):
            writer.writerow([project, path, item, verdict])
        return
    with LABELS.open(newline="") as stream:
        labels = {
            (row["project"], row["file"], row["item"]): row["label"]
            for row in csv.DictReader(stream)
        }
    unlabelled = sorted(set(observed) - set(labels))
    vanished = sorted(set(labels) - set(observed))
    for key in unlabelled:
        print(f"unlabelled: {key}")
    for key in vanished:
        print(f"labelled but not found: {key}")
    rules = (mock_detection.FABRICATED_FIXTURE, *IMPORT_RULES)
    print(f"{'rule':<20} {'TP':>4} {'FP':>4} {'FN':>4} {'TN':>5} precision recall")
    for rule in rules:
        counts: Counter[str] = Counter()
        for key, label in labels.items():
            kind = "fixture" if rule == mock_detection.FABRICATED_FIXTURE else "import"
            if key not in observed or not key[2].startswith(kind):
                continue
            expected, found = label == rule, observed[key] == rule
            counts[
                {(True, True): "TP", (False, True): "FP", (True, False): "FN"}.get(
                    (expected, found), "TN"
                )
            ] += 1
        precision = counts["TP"] / ((counts["TP"] + counts["FP"]) or 1)
        recall = counts["TP"] / ((counts["TP"] + counts["FN"]) or 1)
        print(
            f"{rule:<20} {counts['TP']:>4} {counts['FP']:>4} {counts['FN']:>4} "
            f"{counts['TN']:>5} {precision:9.3f} {recall:6.3f}"
        )
    for (project, path, item), label in sorted(labels.items()):
        if (project, path, item) in observed and observed[
            (project, path, item)
        ] != label:
            print(
                f"  disagrees: {project} {path} {item}: label {label}, hook {observed[(project, path, item)]}"
            )


def _timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, capture_output=True, check=False)
    return time.perf_counter() - start


def speed(repeat: int) -> None:
    source = WORK / "tree"
    if not source.exists():
        sys.exit(f"{source} is missing: run bench/isort_black.py once to create it")
    scratch = WORK / "mock-data-tree"
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(source, scratch, symlinks=True)
    hook = [sys.executable, "-m", "hooks.forbid_mock_data"]
    baseline = [sys.executable, "-c", "pass"]
    startup = statistics.median(_timed(baseline, scratch) for _ in range(repeat))
    python_files = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=scratch, capture_output=True, text=True
    ).stdout.split()
    print(
        f"tree: {len(python_files)} Python files; interpreter start {startup*1000:.0f} ms"
    )
    all_files = [_timed([*hook, "--all-files"], scratch) for _ in range(repeat)]
    print(
        f"--all-files: median {statistics.median(all_files):.2f} s, min {min(all_files):.2f} s"
    )
    changed = [path for path in python_files if path.startswith("test/")][:3]
    for path in changed:
        with (scratch / path).open("a") as stream:
            stream.write(
                "\n\ndef test_added_by_the_benchmark(tmp_path):\n    assert tmp_path\n"
            )
    subprocess.run(["git", "add", *changed], cwd=scratch, check=True)
    commit = [_timed(hook, scratch) for _ in range(repeat)]
    own = statistics.median(commit) - startup
    print(
        f"a commit of {len(changed)} test files: median {statistics.median(commit)*1000:.0f} ms, "
        f"the hook's own time {own*1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument(
        "--list-fixtures",
        action="store_true",
        help="print what the hook sees, for labelling",
    )
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    accuracy(args.list_fixtures)
    if not args.skip_speed and not args.list_fixtures:
        speed(args.repeat)


if __name__ == "__main__":
    main()
