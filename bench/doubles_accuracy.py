"""Benchmark: does forbid-mock-data find hand-written test doubles? (issue 15)

bench/doubles_labels.csv labels, by what the code does, the units of test code
in some test files of projects from PyPI that bench/fixture_labels.csv does
not cover. A unit is one of:

    fixture:QUALNAME   a pytest fixture
    helper:QUALNAME    any other function of test code that is not a test
                       (module level, or a method of a class; setup_method too)
    class:QUALNAME     a class defined in test code that is not a test class (one with test methods)
                       (also one defined inside a test or a fixture); its methods
                       belong to it and are not units of their own
    patch:QUALNAME:... a monkeypatch.setattr / setitem call or a sys.modules
                       assignment inside a test, fixture or helper; when the
                       value patched in is a name the function binds
                       (`stub = pretend.stub(...)`, `def fake(...)`,
                       `class Fake`), the lines binding it belong to the
                       site too, so a finding there counts for it
    double:NAME        a module-level assignment of an instance of a class the
                       file defines, of a lambda, or of a mock

Each label is one of the issue's four categories, or pass:

    mock-object          a mock-object library's objects (unittest.mock,
                         pytest-mock, pretend...) make or patch the value;
                         also reached through another helper
    fake-library         a fake-data library (faker, factory...) or a
                         service-faking one (responses, respx, freezegun...)
    hand-written-double  code written in the test that stands in for a real
                         collaborator: canned return values, recorded calls,
                         no-op methods, a clock advanced by hand, an attribute
                         bag where a model is expected, a subclass overriding
                         methods to return canned values, a monkeypatch of
                         code to a lambda or stub
    literal-data         literal records or values presented as real data
    pass                 real objects configured for tests, a subclass that
                         only observes and delegates, data loaded from files,
                         the project's own code, plain scalar inputs

The detector's rules map onto the categories: mock-object -> mock-object;
fake-data-library and mocked-service -> fake-library; monkeypatch-stub and
hand-written-double -> hand-written-double; fabricated-fixture by its
evidence (a mock object -> mock-object, a fake-data or service-faking
library -> fake-library, a stub patched in or a hand-written double ->
hand-written-double, a returned literal or stand-in -> literal-data). mock-data-file does not apply to Python files. Import lines
alone (enablers) are not units: only uses are.

This script downloads the same pinned sdists (into bench/.work/sdists),
makes each a git repository, runs `forbid-mock-data --all-files` in it as a
user does, attributes each finding to every labelled unit whose lines hold it
(a class holding mock data is mock data), and prints, per category and overall: TP, FP, FN, precision and
recall, both strict (the category must match) and as detection (flagged at
all, whatever the rule). It lists misses and false alarms. Units are
enumerated in the labelled files only; a unit found there without a label,
or a label whose unit is gone, is reported. Only labels and item names are
committed, never the projects' code.

Usage: python bench/doubles_accuracy.py [--list [--source] [--project REQ]
                                          [--file PATH]...]
  --list      print the units of the labelled files (and of each --file) with
              the label and the hook's verdict, as CSV rows, for labelling;
              --source adds each unit's code, --project limits to one sdist
A run takes about 40 s once the sdists are downloaded. Before the detector
change (main at d2b9503), on 437 units (279 pass, 37 mock-object, 11
fake-library, 104 hand-written-double, 6 literal-data), precision / recall:
mock-object 1.000 / 0.838, fake-library 1.000 / 1.000, hand-written-double
1.000 / 0.115, literal-data 0.500 / 0.167, overall 0.982 / 0.348. After
the hand-written-double rule and its companions (h-doubles): mock-object
1.000 / 0.865, fake-library 1.000 / 1.000, hand-written-double 1.000 /
0.798, literal-data 0.500 / 0.167, overall 0.992 / 0.804. After the rules
of 2026-12-04 (a fixture returning an instance of a class that makes mocks,
a value made with a mock patched in, a function written in the test patched
in that calls nothing or raises in place of the real one, a setUp handing
literal records to the code, a holder of real objects not a stand-in):
mock-object 1.000 / 0.973, fake-library 1.000 / 1.000, hand-written-double
1.000 / 0.846, literal-data 1.000 / 0.333, overall 1.000 / 0.867. After the
rules of branch h-doubles (a double's methods building project records from
their arguments, calling each other, looping over their callbacks; the
definition of what a test patches in; an attribute bag of a date's
attributes and its module-level instances; a context manager patched in; a
subclass answering through a closure over the test's variable; a wrapper
advancing a hand-made clock; a file's method patched in; a class a mock's
patch hands out; what a sibling method makes with a mock; namedtuple records
a helper hands the tests; a token dict with one computed expiry), TP/FP/FN:
mock-object 37/0/0 (1.000 / 1.000), fake-library 11/0/0 (1.000 / 1.000),
hand-written-double 101/0/3 (1.000 / 0.971), literal-data 6/0/0 (1.000 /
1.000), overall 155/0/3 (1.000 / 0.981). A finding of a
hook that crashes on a project is missing, not wrong: check the hook's exit
on a project whose figures drop.
Run it from the project's virtualenv; it needs the network for pip download.
"""

from __future__ import annotations

import argparse
import ast
import csv
import re
import subprocess
import sys
import tarfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

WORK = Path(__file__).resolve().parent / ".work"
LABELS = Path(__file__).resolve().parent / "doubles_labels.csv"
PROJECTS = (
    "twine==7.0.0",
    "kombu==5.7.0",
    "httpx==0.29.0",
    "poetry-core==2.5.0",
    "jinja2==3.1.6",
    "werkzeug==3.1.9",
    "humanize==4.17.0",
    "itsdangerous==2.2.0",
    "requests-oauthlib==2.0.0",
)
PASS = "pass"
MOCK_OBJECT = "mock-object"
FAKE_LIBRARY = "fake-library"
DOUBLE = "hand-written-double"
LITERAL = "literal-data"
CATEGORIES = (MOCK_OBJECT, FAKE_LIBRARY, DOUBLE, LITERAL)
LABEL_NAMES = (PASS, *CATEGORIES)
RULE_CATEGORY = {
    "mock-object": MOCK_OBJECT,
    "fake-data-library": FAKE_LIBRARY,
    "mocked-service": FAKE_LIBRARY,
    "monkeypatch-stub": DOUBLE,
    "hand-written-double": DOUBLE,
    "mock-data-file": LITERAL,
}
# fabricated-fixture: the evidence in the message decides the category.
FIXTURE_EVIDENCE = (
    ("with a mock object", MOCK_OBJECT),
    ("fake-data library", FAKE_LIBRARY),
    ("fakes a service", FAKE_LIBRARY),
    ("patches code with a stub", DOUBLE),
    ("with a hand-written double", DOUBLE),
)
# When one unit holds findings of several categories, the first listed wins.
PRIORITY = (DOUBLE, MOCK_OBJECT, FAKE_LIBRARY, LITERAL)
FINDING_LINE = re.compile(
    r"^(?P<path>[^\s:][^:]*):(?P<line>\d+): (?P<rule>[a-z-]+): (?P<what>.*)$"
)


@dataclass(frozen=True)
class Unit:
    path: str
    item: str
    line: int
    end_line: int
    # A patch site also holds the lines that make the value it patches in,
    # when that is a name the enclosing function binds.
    value_lines: tuple[tuple[int, int], ...] = ()

    def holds(self, line: int) -> bool:
        return any(
            first <= line <= last
            for first, last in ((self.line, self.end_line), *self.value_lines)
        )


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    rule: str
    what: str

    def category(self) -> str:
        if self.rule == "fabricated-fixture":
            return next(
                (category for text, category in FIXTURE_EVIDENCE if text in self.what),
                LITERAL,
            )
        return RULE_CATEGORY[self.rule]


def parse_findings(output: str) -> list[Finding]:
    """The findings in forbid-mock-data's output; other lines are ignored."""
    found = []
    for text in output.splitlines():
        match = FINDING_LINE.match(text)
        if match and (
            match["rule"] in RULE_CATEGORY or match["rule"] == "fabricated-fixture"
        ):
            found.append(
                Finding(match["path"], int(match["line"]), match["rule"], match["what"])
            )
    return found


def _decorated_as_fixture(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(
        ast.unparse(decorator).split("(")[0].endswith("fixture")
        for decorator in node.decorator_list
    )


def _first_line(node: ast.AST) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno, *(decorator.lineno for decorator in decorators)])


def _is_test_class(node: ast.ClassDef) -> bool:
    # Named by the project's python_classes setting (Test*, test_*...): the
    # test methods tell.
    return any(
        isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
        and child.name.startswith("test")
        for child in node.body
    )


def _patch_target(node: ast.AST) -> str | None:
    """The text naming what a patch site replaces, or None if NODE is none."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        receiver = ast.unparse(node.func.value)
        if node.func.attr in ("setattr", "setitem") and receiver.lower().endswith(
            "monkeypatch"
        ):
            arguments = node.args[:-1] if len(node.args) > 1 else node.args
            shown = ", ".join(ast.unparse(argument) for argument in arguments)
            return f"{receiver.split('.')[-1]}.{node.func.attr}({shown})"
    if isinstance(node, ast.Assign):
        for target in node.targets:
            if (
                isinstance(target, ast.Subscript)
                and ast.unparse(target.value) == "sys.modules"
            ):
                return f"sys.modules[{ast.unparse(target.slice)}] ="
    return None


def _patched_value(node: ast.AST) -> ast.expr | None:
    if isinstance(node, ast.Assign):
        return node.value
    assert isinstance(node, ast.Call)
    if len(node.args) < 2:
        return None
    return node.args[-1]


def _value_lines(
    node: ast.AST, function: ast.AST | None
) -> tuple[tuple[int, int], ...]:
    """Where FUNCTION binds the name a patch site NODE patches in."""
    value = _patched_value(node)
    if function is None or not isinstance(value, ast.Name):
        return ()
    spans = []
    for child in ast.walk(function):
        binds = (
            isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and child.name == value.id
        ) or (
            isinstance(child, ast.Assign)
            and any(
                isinstance(target, ast.Name) and target.id == value.id
                for target in child.targets
            )
        )
        if binds:
            spans.append((_first_line(child), child.end_lineno))
    return tuple(spans)


def units(module: ast.Module, path: str) -> list[Unit]:
    """Every unit of one test file, in source order (see the docstring)."""
    found: list[Unit] = []
    local_classes = {
        node.name for node in module.body if isinstance(node, ast.ClassDef)
    }
    seen: Counter[str] = Counter()

    def add(item: str, first: int, last: int, value_lines=()) -> None:
        seen[item] += 1
        if seen[item] > 1:
            item = f"{item}#{seen[item]}"
        found.append(Unit(path, item, first, last, value_lines))

    def visit_body(
        body: list[ast.stmt],
        prefix: str,
        in_function: bool,
        in_double: bool,
        function: ast.AST | None = None,
    ) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                qualname = prefix + node.name
                if _decorated_as_fixture(node):
                    add(f"fixture:{qualname}", _first_line(node), node.end_lineno)
                elif (
                    not in_function
                    and not in_double
                    and not node.name.startswith("test")
                ):
                    add(f"helper:{qualname}", _first_line(node), node.end_lineno)
                visit_body(node.body, f"{qualname}.", True, in_double, node)
            elif isinstance(node, ast.ClassDef):
                qualname = prefix + node.name
                # A helper class's methods are part of the class's unit.
                double = not _is_test_class(node)
                if double:
                    add(f"class:{qualname}", _first_line(node), node.end_lineno)
                visit_body(node.body, f"{qualname}.", False, in_double or double)
            elif any(
                isinstance(child, ast.stmt) for child in ast.iter_child_nodes(node)
            ):
                # if / for / while / with / try: the statements they hold.
                for child in ast.iter_child_nodes(node):
                    if isinstance(child, ast.stmt):
                        visit_body([child], prefix, in_function, in_double, function)
                    elif isinstance(child, (ast.excepthandler, ast.match_case)):
                        visit_body(child.body, prefix, in_function, in_double, function)
            elif in_function:
                for child in ast.walk(node):
                    target = _patch_target(child)
                    if target:
                        add(
                            f"patch:{prefix.rstrip('.')}:{target}",
                            child.lineno,
                            child.end_lineno,
                            _value_lines(child, function),
                        )
            elif not prefix:
                double = _module_double(node, local_classes)
                if double:
                    add(f"double:{double}", node.lineno, node.end_lineno)

    visit_body(module.body, "", False, False)
    return found


def _module_double(node: ast.stmt, local_classes: set[str]) -> str | None:
    if not isinstance(node, ast.Assign) or len(node.targets) != 1:
        return None
    target = node.targets[0]
    if not isinstance(target, ast.Name):
        return None
    value = node.value
    if isinstance(value, ast.Lambda):
        return target.id
    if isinstance(value, ast.Call):
        callee = ast.unparse(value.func).split(".")[-1]
        if callee in local_classes or "Mock" in callee:
            return target.id
    return None


def is_test_code(relative: str) -> bool:
    parts = relative.split("/")
    name = parts[-1]
    return name.endswith(".py") and (
        any(part in ("tests", "test", "testing") for part in parts[:-1])
        or name == "conftest.py"
        or name.startswith("test_")
        or name.endswith("_test.py")
    )


def holding(unit_list: list[Unit], path: str, line: int) -> list[Unit]:
    """The units whose lines hold LINE: a class holding mock data is mock data."""
    return [unit for unit in unit_list if unit.path == path and unit.holds(line)]


def predictions(unit_list: list[Unit], findings: list[Finding]) -> dict[Unit, str]:
    """Unit -> the category the hook's findings give it; absent units pass."""
    categories: dict[Unit, set[str]] = {}
    for finding in findings:
        for unit in holding(unit_list, finding.path, finding.line):
            categories.setdefault(unit, set()).add(finding.category())
    return {
        unit: next(category for category in PRIORITY if category in found)
        for unit, found in categories.items()
    }


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def score(
    labels: dict[tuple[str, str, str], str], predicted: dict[tuple[str, str, str], str]
) -> dict[str, tuple[Tally, Tally]]:
    """Category (and "overall") -> (strict tally, detection tally)."""
    result = {name: (Tally(), Tally()) for name in (*CATEGORIES, "overall")}
    for key, label in labels.items():
        verdict = predicted.get(key, PASS)
        for category in CATEGORIES:
            strict, detection = result[category]
            if label == category and verdict == category:
                strict.tp += 1
            elif label == category:
                strict.fn += 1
            elif verdict == category:
                strict.fp += 1
            if label == category:
                if verdict != PASS:
                    detection.tp += 1
                else:
                    detection.fn += 1
            elif label == PASS and verdict == category:
                detection.fp += 1
        strict, detection = result["overall"]
        for tally in (strict, detection):
            if label != PASS and verdict != PASS:
                if tally is strict and label != verdict:
                    tally.fp += 1
                    tally.fn += 1
                else:
                    tally.tp += 1
            elif label != PASS:
                tally.fn += 1
            elif verdict != PASS:
                tally.fp += 1
    return result


def unpacked(requirement: str) -> Path:
    name, version = requirement.split("==")
    archive_dir = WORK / "sdists"
    stems = {f"{name}-{version}", f"{name.replace('-', '_')}-{version}"}

    def archives() -> list[Path]:
        return [
            path for path in archive_dir.glob("*.tar.gz") if path.name[:-7] in stems
        ]

    if not archives():
        archive_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
            + ["--no-binary", ":all:", "--dest", str(archive_dir), requirement],
            check=True,
        )
    [archive] = archives()
    target = archive_dir / archive.name[:-7]
    if not target.exists():
        with tarfile.open(archive) as bundle:
            bundle.extractall(archive_dir, filter="data")
    return target


def as_repository(project: Path) -> None:
    if (project / ".git").exists():
        return
    identity = ["-c", "user.name=bench", "-c", "user.email=bench@testwarden"]
    for command in (
        ["init", "--quiet"],
        ["add", "--all", "--force", "."],
        [*identity, "commit", "--quiet", "--no-verify", "-m", "sdist"],
    ):
        subprocess.run(["git", *command], cwd=project, check=True)


def hook_findings(project: Path) -> list[Finding]:
    as_repository(project)
    run = subprocess.run(
        [sys.executable, "-m", "hooks.forbid_mock_data", "--all-files"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode not in (0, 1) or "Traceback (most recent call last)" in (
        run.stderr
    ):
        # A crash would read as every unit of the project missed.
        sys.exit(f"{project.name}: forbid-mock-data failed:\n{run.stderr}")
    return parse_findings(run.stdout + run.stderr)


def read_labels() -> dict[tuple[str, str, str], str]:
    with LABELS.open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    for row in rows:
        if row["label"] not in LABEL_NAMES:
            sys.exit(f"{LABELS.name}: {row['item']}: unknown label {row['label']!r}")
    return {(row["project"], row["file"], row["item"]): row["label"] for row in rows}


def project_units(project: Path, files: list[str]) -> list[Unit]:
    found = []
    for relative in files:
        source = (project / relative).read_bytes()
        found.extend(units(ast.parse(source), relative))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--source", action="store_true")
    parser.add_argument("--project", action="append", help="with --list: these only")
    parser.add_argument("--file", action="append", help="with --list: these files")
    args = parser.parse_args()
    labels = read_labels() if LABELS.exists() else {}
    predicted: dict[tuple[str, str, str], str] = {}
    found: set[tuple[str, str, str]] = set()
    writer = csv.writer(sys.stdout)
    for requirement in PROJECTS:
        if args.project and requirement not in args.project:
            continue
        project = unpacked(requirement)
        files = sorted({path for (name, path, _) in labels if name == requirement})
        if args.list and args.file:
            files = sorted(set(files) | set(args.file))
        if not files:
            continue
        unit_list = project_units(project, files)
        verdicts = predictions(unit_list, hook_findings(project))
        for unit in unit_list:
            key = (requirement, unit.path, unit.item)
            found.add(key)
            predicted[key] = verdicts.get(unit, PASS)
            if args.list:
                writer.writerow([*key, labels.get(key, ""), predicted[key]])
                if args.source:
                    lines = (project / unit.path).read_text().splitlines()
                    first = (
                        unit.line - 12 if unit.item.startswith("patch:") else unit.line
                    )
                    body = lines[max(first, 1) - 1 : min(unit.end_line, unit.line + 16)]
                    print("    | " + "\n    | ".join(body))
    if args.list:
        return
    for key in sorted(set(found) - set(labels)):
        print(f"unlabelled: {' '.join(key)}")
    for key in sorted(set(labels) - set(found)):
        print(f"labelled but not found: {' '.join(key)}")
    labels = {key: label for key, label in labels.items() if key in found}
    counts = Counter(labels.values())
    projects = {key[0] for key in labels}
    print(
        f"{len(labels)} units from {len(projects)} projects: "
        + ", ".join(f"{counts[name]} {name}" for name in LABEL_NAMES)
    )
    print(
        f"{'category':<20} {'strict: TP':>10} {'FP':>4} {'FN':>4} {'prec':>6} {'recall':>6}"
        f"   {'detected: TP':>12} {'FP':>4} {'FN':>4} {'prec':>6} {'recall':>6}"
    )
    for name, (strict, detection) in score(labels, predicted).items():
        print(
            f"{name:<20} {strict.tp:>10} {strict.fp:>4} {strict.fn:>4} "
            f"{strict.precision():6.3f} {strict.recall():6.3f}   {detection.tp:>12} "
            f"{detection.fp:>4} {detection.fn:>4} {detection.precision():6.3f} "
            f"{detection.recall():6.3f}"
        )
    for (requirement, path, item), label in sorted(labels.items()):
        verdict = predicted[(requirement, path, item)]
        if verdict == label:
            continue
        kind = (
            "miss"
            if verdict == PASS
            else "false alarm" if label == PASS else f"flagged as {verdict}"
        )
        print(f"  {kind}: {item} ({requirement} {path}), label {label}")


if __name__ == "__main__":
    main()
