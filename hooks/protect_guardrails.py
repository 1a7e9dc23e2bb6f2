"""protect-guardrails: reject a change that weakens the test guardrails.

A guardrail the guarded party can switch off in the same commit is no
guardrail. The hook compares the guardrail settings (hooks/guardrail_settings.py)
before and after the change: a lowered coverage threshold, a testwarden hook
removed, narrowed or moved out of the commit and push stages, tests hidden from
collection (in pytest's configuration or tox's commands) or lines from
coverage, a grown mock-data baseline (a new one may record only what the code
before holds: adoption), new exemptions, and coverage exclusion markers
(except on code only another interpreter runs, hooks/interpreter_branches.py)
or reasonless testwarden allow comments on added lines. What counts as a guardrail is read from the base side, so the
change cannot redefine it. The one way through is an exemption with a reason
that the change itself adds; the hook prints every one it accepts.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from hooks import forbid_mock_data, git, guard
from hooks.allow_comments import allow_comments
from hooks.config import Config, GuardrailExemption
from hooks.errors import UserError, quiet_on_closed_pipe
from hooks.findings import HookReport
from hooks.guardrail_settings import (
    FILTER_DEFAULTS,
    PRE_COMMIT_CONFIG,
    GuardrailValue,
    Hook,
    Side,
    command_thresholds,
    may_be_command_file,
    read_side,
    where,
)
from hooks.interpreter_branches import interpreter_only_lines

HOOK_ID = "protect-guardrails"
BASELINE = "mock-data.baseline"
# What a weakening of each guardrail does, by finding id (or its prefix).
WEAKENS = {
    "coverage-gate.fail-under": "lowers the total coverage coverage-gate requires",
    "coverage-gate.diff-fail-under": "lowers the changed-line coverage coverage-gate requires",
    "mutation-gate.fail-under": "lowers the mutation score mutation-gate requires",
    "tox-changed-tests.stress-new": (
        "runs new and changed tests fewer times in changing orders (0: never)"
    ),
    "coverage.fail_under": "lowers the total coverage coverage.py requires",
    "pytest.--cov-fail-under": "lowers the coverage pytest-cov requires",
    "diff-cover.--fail-under": "lowers the changed-line coverage diff-cover requires",
    "coverage.--fail-under": "lowers the coverage `coverage report` requires",
    "coverage.run.omit": "stops measuring more files",
    "coverage.report.omit": "leaves more files out of the coverage report",
    "coverage.exclude_lines": "excludes more lines from coverage",
    "coverage.exclude_also": "excludes more lines from coverage",
    "pytest.addopts": "keeps tests from being collected or run",
    "pytest.norecursedirs": "keeps pytest out of more directories",
    "pytest.testpaths": "collects tests from fewer places",
    "tox.commands": "keeps tests from being collected or run",
    "forbid-test-deletion.allow": "exempts more tests from forbid-test-deletion",
    "forbid-skipped-tests.allow": "exempts more tests from forbid-skipped-tests",
    "forbid-weakened-tests.allow": "exempts more tests from forbid-weakened-tests",
    "mock-data.allow-patch": "lets forbid-mock-data accept more fakes",
    BASELINE: "lets forbid-mock-data accept more existing mock data",
}
# Exemptions in the other hooks' tables must carry a reason already: a change
# that adds one is shown to the reviewer, not blocked a second time.
LISTED_FOR_REVIEW = frozenset(
    {
        "forbid-test-deletion.allow",
        "forbid-skipped-tests.allow",
        "forbid-weakened-tests.allow",
        "mock-data.allow-patch",
    }
)
RUN_STAGES = frozenset({"pre-commit", "pre-push"})
_VERSION = re.compile(r"v?(\d+(?:\.\d+)*)")
_HOOK_OF_ALLOW = {
    "mock": "forbid-mock-data",
    "skip": "forbid-skipped-tests",
    "weaken": "forbid-weakened-tests",
}


@dataclass(frozen=True)
class Finding:
    """One weakened guardrail: its id, where, and the value before and after."""

    guardrail: str
    path: str
    line: int | None
    old: str
    new: str
    weakens: str

    def format(self) -> str:
        return (
            f"{where(self.path, self.line)}: {self.guardrail}: {self.old} -> {self.new}; "
            f"{self.weakens}"
        )


def _shown(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        listed = ", ".join(value) or "(none)"
        return listed if len(listed) <= 80 else f"{len(value)} entries"
    return str(value)


def _finding(
    guardrail: str, before: GuardrailValue, after: GuardrailValue, weakens: str
) -> Finding:
    located = after if after.line else before
    return Finding(
        guardrail,
        located.path,
        located.line,
        _shown(before.value),
        _shown(after.value),
        weakens,
    )


_MARKER_EXPRESSION_WORDS = frozenset({"and", "or", "not"})


def _marker_names(expression: str) -> set[str]:
    """The markers a `-m` expression names: `not stress and slow` -> stress, slow."""
    return set(re.findall(r"[A-Za-z_]\w*", expression)) - _MARKER_EXPRESSION_WORDS


def markers_used_in(revision: str) -> Callable[[str], bool]:
    """Whether any Python file of REVISION's tree marks a test with a marker
    (`mark.NAME`); the tree is read once, on the first question."""
    texts: list[bytes] = []

    def used(name: str) -> bool:
        if not texts:
            blobs = git.tracked_blobs(revision)
            python = [blob for path, blob in blobs.items() if path.endswith(".py")]
            texts.append(b"\n".join(git.read_blobs(python).values()))
        pattern = rb"\bmark\.%s\b" % re.escape(name.encode())
        return re.search(pattern, texts[0]) is not None

    return used


def weakened_settings(
    before: Side, after: Side, marker_used_before: Callable[[str], bool] | None = None
) -> list[Finding]:
    """Thresholds lowered, entries added that hide things, entries removed that
    show them. An `-m` filter on markers no test carried before hides no test
    that ran (click's `-m 'not stress'` beside its new stress tests)."""
    findings = [
        _finding(key, before.thresholds[key], setting, WEAKENS[key])
        for key, setting in after.thresholds.items()
        if setting.value < before.thresholds[key].value
    ]
    for key, setting in after.widenable.items():
        added = Counter(setting.value) - Counter(before.widenable[key].value)
        if key == "pytest.addopts.-m" and marker_used_before is not None:
            for expression in list(added):
                if not any(map(marker_used_before, _marker_names(expression))):
                    del added[expression]
        if added:
            weakens = WEAKENS[key.rpartition(".")[0] if "addopts" in key else key]
            shown = _shown(tuple(added.elements()))
            findings.append(
                _finding(
                    key, before.widenable[key], setting, f"adds {shown}: {weakens}"
                )
            )
    for key, setting in after.narrowable.items():
        removed = Counter(before.narrowable[key].value) - Counter(setting.value)
        for entry in list(removed):
            if key == "pytest.testpaths" and _gone(entry, after):
                del removed[entry]  # moved or deleted: nothing left to collect there
        if removed:
            shown = _shown(tuple(removed.elements()))
            findings.append(
                _finding(
                    key,
                    before.narrowable[key],
                    setting,
                    f"drops {shown}: {WEAKENS[key]}",
                )
            )
    return findings


def _gone(testpath: str, after: Side) -> bool:
    """A concrete testpath that names nothing the after side tracks."""
    is_pattern = any(character in testpath for character in "*?[(")
    return not is_pattern and testpath.strip("/") not in after.paths


def _version(rev: str | None) -> tuple[int, ...] | None:
    match = _VERSION.fullmatch(rev or "")
    return tuple(map(int, match.group(1).split("."))) if match else None


def _hook_findings(
    key: str, old: Hook, new: Hook
) -> Iterable[tuple[str, str, str, str]]:
    """(check, old, new, what it weakens) for each way NEW runs less than OLD."""
    if new.files != old.files and new.files != FILTER_DEFAULTS["files"]:
        yield "files", old.files or "(all files)", new.files, "runs on fewer files"
    if new.exclude != old.exclude and new.exclude != FILTER_DEFAULTS["exclude"]:
        yield "exclude", old.exclude, new.exclude, "skips the files it excludes"
    lost = (old.stages - new.stages) & RUN_STAGES
    if lost:
        yield (
            "stages",
            ", ".join(sorted(old.stages)),
            ", ".join(sorted(new.stages)),
            f"no longer runs at {', '.join(sorted(lost))}",
        )
    if (new.repo, new.runs) != (old.repo, old.runs):
        yield (
            "runs",
            f"{old.repo} {old.runs}".strip(),
            f"{new.repo} {new.runs}".strip(),
            f"runs something else under the id {key.partition('#')[0]}",
        )
    else:
        old_version, new_version = _version(old.rev), _version(new.rev)
        if old_version and new_version and new_version < old_version:
            yield "rev", str(old.rev), str(new.rev), "pins an older version of the hook"


def weakened_hooks(before: Side, after: Side) -> list[Finding]:
    """testwarden hooks that pre-commit runs less of, or not at all, after the change."""
    findings = []
    for key, setting in after.hook_filters.items():
        old = before.hook_filters.get(key)
        if old and setting.value != old.value and setting.value != FILTER_DEFAULTS[key]:
            findings.append(
                _finding(
                    f"pre-commit.{key}", old, setting, "every hook sees fewer files"
                )
            )
    for key, old in before.hooks.items():
        new = after.hooks.get(key)
        if new is None:
            findings.append(
                Finding(
                    f"pre-commit.{key}.removed",
                    PRE_COMMIT_CONFIG,
                    old.line,
                    f"{old.repo} {old.rev or ''}".strip(),
                    "(removed)",
                    "the hook no longer runs",
                )
            )
            continue
        for check, old_value, new_value, weakens in _hook_findings(key, old, new):
            findings.append(
                Finding(
                    f"pre-commit.{key}.{check}",
                    PRE_COMMIT_CONFIG,
                    new.line or old.line,
                    old_value,
                    new_value,
                    weakens,
                )
            )
    return findings


def lowered_command_thresholds(change_set: git.ChangeSet) -> list[Finding]:
    """--cov-fail-under and --fail-under on command lines, highest paired with highest."""
    changes = [
        change
        for change in change_set.changes
        if may_be_command_file(change.path)
        or (change.old_path and may_be_command_file(change.old_path))
    ]
    before = command_thresholds(change_set.read_before(changes))
    after = command_thresholds(change_set.read_after(changes))
    findings = []
    for key, old_settings in before.items():
        new_settings = sorted(after[key], key=lambda setting: -setting.value)
        for index, old in enumerate(sorted(old_settings, key=lambda s: -s.value)):
            new = (
                new_settings[index]
                if index < len(new_settings)
                else GuardrailValue(old.path, None, "(removed)")
            )
            if new.value == "(removed)" or new.value < old.value:
                findings.append(_finding(key, old, new, WEAKENS[key]))
    return findings


def added_test_filters(before: Side, after: Side) -> list[Finding]:
    """Filters (--ignore, --deselect, -k, -m, ...) a pytest command in tox gains.
    Only a command that ran before is narrowed: a pytest command the change
    adds is a run added, and its filters hide nothing (click's new `stress`
    env runs `pytest -m stress`; attrs' `mypy:` factor gained `pytest -k
    test_mypy`). Commands are the same when only their filters differ."""
    findings = []
    for key, settings in after.test_filters.items():
        old_values = tuple(setting.value for setting in before.test_filters[key])
        new_values = tuple(setting.value for setting in settings)
        added = Counter(new_values) - Counter(old_values)
        commands = after.test_filter_commands[key]
        for setting, command in reversed(list(zip(settings, commands))):
            # The last ones are the most likely new.
            if added[setting.value] <= 0 or command not in before.pytest_commands:
                continue
            added[setting.value] -= 1
            findings.append(
                Finding(
                    key,
                    setting.path,
                    setting.line,
                    _shown(old_values),
                    _shown(new_values),
                    f"adds {setting.value}: {WEAKENS['tox.commands']}",
                )
            )
    return sorted(findings, key=lambda finding: (finding.path, finding.line or 0))


def _markers(patterns: Iterable[str]) -> list[re.Pattern[str]]:
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error:
            continue  # coverage.py refuses it too: it excludes nothing
    return compiled


def added_exclusions(
    change_set: git.ChangeSet, before: Side, is_test_file: Callable[[str], bool]
) -> tuple[list[Finding], list[str]]:
    """Added lines that coverage will not measure, or that switch a hook off
    silently; and notes for the pragmas excused on code that only another
    interpreter or platform runs.

    Exclusion markers count in code, not in test files: there they hide no code
    under test, and tests of this very hook must be able to spell them."""
    markers = _markers(before.exclusion_markers)
    changes = [
        change
        for change in change_set.changes
        if change.path.endswith(".py") and change.new_blob and not change.is_symlink
    ]
    contents = change_set.read_after(changes)
    contents_before = change_set.read_before(changes)
    findings, notes = [], []
    for change in changes:
        source = contents[change.path].decode(errors="replace")
        lines = source.splitlines()
        # coverage.py matches its exclusions against the whole line, strings too.
        pragmas = {
            number
            for number, line in enumerate(lines, start=1)
            if not is_test_file(change.path)
            and any(marker.search(line) for marker in markers)
        }
        reasonless = {
            number: kind
            for kind in _HOOK_OF_ALLOW
            for number, reason in allow_comments(source, kind).items()
            if not reason
        }
        if not pragmas and not reasonless:
            continue
        added = git.added_lines(change)
        suspects = {}
        excused = (
            interpreter_only_lines(contents[change.path]) if pragmas & added else {}
        )
        carried = _carried_pragmas(
            contents_before.get(change.old_path or change.path, b""),
            markers,
            [lines[number - 1] for number in pragmas - added],
        )
        for number in sorted(pragmas & added):
            shown = repr(lines[number - 1].strip())
            if carried[lines[number - 1].strip()] > 0:
                carried[lines[number - 1].strip()] -= 1
            elif number in excused:
                notes.append(
                    f"{change.path}:{number}: note: pragma.no-cover:{change.path}: "
                    f"{shown} is on {excused[number]}, code the test interpreter "
                    "cannot run; not blocked"
                )
            else:
                suspects[number] = (
                    "pragma.no-cover",
                    "excludes an added line from coverage",
                )
        for number, kind in reasonless.items():
            suspects.setdefault(
                number,
                (
                    f"inline.allow-{kind}",
                    f"switches off {_HOOK_OF_ALLOW[kind]} findings without a reason",
                ),
            )
        for number in sorted(added & suspects.keys()):
            guardrail, weakens = suspects[number]
            findings.append(
                Finding(
                    f"{guardrail}:{change.path}",
                    change.path,
                    number,
                    "(none)",
                    repr(lines[number - 1].strip()),
                    weakens,
                )
            )
    return findings, notes


def _carried_pragmas(
    before: bytes, markers: Sequence[re.Pattern[str]], in_place: Sequence[str]
) -> Counter[str]:
    """Excluded lines (stripped) the file had before and no longer has where
    they were: an added line that is one of them was moved or re-indented,
    and excludes nothing new."""
    excluded_before = Counter(
        line.strip()
        for line in before.decode(errors="replace").splitlines()
        if any(marker.search(line) for marker in markers)
    )
    return excluded_before - Counter(line.strip() for line in in_place)


def adopted_baseline(
    findings: list[Finding],
    change_set: git.ChangeSet,
    before: Side,
    after: Side,
    config: Config,
) -> tuple[list[Finding], str | None]:
    """Adoption as the README has it: `testwarden baseline` once, and commit the
    file. A baseline the change adds where there was none may record the mock
    data the code before the change holds; only entries beyond that block.
    FINDINGS without the accepted baseline finding, and the note that says so."""
    grown = next((item for item in findings if item.guardrail == BASELINE), None)
    old = before.widenable[BASELINE]
    if grown is None or old.path in before.paths:
        return findings, None
    new = after.widenable[BASELINE]
    existing = forbid_mock_data.existing_findings(
        change_set.before_rev, after.baseline_files, config
    )
    unearned = Counter(new.value) - Counter(map(":".join, existing.elements()))
    others = [item for item in findings if item is not grown]
    if not unearned:
        return others, (
            f"{new.path}: adopted: the new mock-data baseline records "
            f"{len(new.value)} finding(s) the code before the change already has; "
            "from now on it may only shrink"
        )
    finding = Finding(
        BASELINE,
        new.path,
        None,
        "(no baseline)",
        _shown(new.value),
        f"adds {_shown(tuple(unearned.elements()))}, mock data the code before the "
        f"change does not have: {WEAKENS[BASELINE]}",
    )
    return [*others, finding], None


def _exemption(
    exemptions: Sequence[GuardrailExemption], finding: Finding
) -> GuardrailExemption | None:
    return next(
        (item for item in exemptions if item.guardrail == finding.guardrail), None
    )


def check(change_set: git.ChangeSet, config: Config) -> HookReport:
    """Weakened guardrails of CHANGE_SET; CONFIG only says which files are tests."""
    report = HookReport(HOOK_ID)
    after = read_side(change_set.after_rev)
    if after.problems:
        raise UserError(
            f"cannot read the guardrails of {change_set.describe()}: "
            + "; ".join(after.problems)
        )
    if change_set.before_rev == git.empty_tree():
        if not change_set.has_before_side:
            report.notes.append(
                f"{HOOK_ID}: {change_set.option} has no before side, so nothing can be weakened; "
                "checked that the guardrail settings are readable. Check a commit or a "
                "range (--from-ref/--to-ref) to find weakened guardrails."
            )
        return report
    before = read_side(change_set.before_rev)
    for problem in before.problems:
        report.notes.append(
            f"note: before the change ({before.revision}): {problem}; read as unset"
        )
    exclusions, excused_pragmas = added_exclusions(
        change_set, before, config.is_test_file
    )
    report.notes.extend(excused_pragmas)
    findings = [
        *weakened_settings(before, after, markers_used_in(change_set.before_rev)),
        *weakened_hooks(before, after),
        *added_test_filters(before, after),
        *lowered_command_thresholds(change_set),
        *exclusions,
    ]
    findings, adoption = adopted_baseline(findings, change_set, before, after, config)
    if adoption:
        report.notes.append(adoption)
    added_exemptions = [
        item for item in after.exemptions if item not in before.exemptions
    ]
    accepted = []
    for finding in findings:
        if finding.guardrail in LISTED_FOR_REVIEW:
            report.notes.append(
                f"new exemption, for the reviewer: {finding.format()} "
                "(each entry carries its reason)"
            )
            continue
        exemption = _exemption(added_exemptions, finding)
        if exemption:
            accepted.append((finding, exemption))
            continue
        report.block(
            finding.guardrail,
            finding.path,
            finding.line,
            finding.format().removeprefix(f"{where(finding.path, finding.line)}: "),
        )
        if _exemption(before.exemptions, finding):
            report.notes.append(
                f"note: the exemption for {finding.guardrail} predates this change; "
                "an exemption accepts only the change that adds it"
            )
    for finding, exemption in accepted:
        report.notes.append(
            f"accepted by exemption: {finding.format()}; reason: {exemption.reason}"
        )
    if accepted:
        report.notes.append(
            f"{HOOK_ID}: {len(accepted)} weakening(s) accepted by exemptions this change "
            f"adds to [tool.testwarden.{HOOK_ID}]; a reviewer should read them"
        )
    if report.findings:
        report.notes.append(
            f"{HOOK_ID}: {change_set.describe()} weakens {len(report.findings)} "
            f"guardrail(s), judged by the rules before it ({before.revision})."
        )
        report.fix = (
            "undo the weakening. If it is deliberate, add an exemption with a "
            "reason in the same change, naming the guardrail id printed above:\n"
            f"  [tool.testwarden.{HOOK_ID}]\n"
            f'  allow = [{{ guardrail = "{report.findings[0].rule}", reason = "why" }}]'
        )
    return report


@quiet_on_closed_pipe
def main(argv: Sequence[str] | None = None) -> int:
    return guard.run(
        HOOK_ID,
        "Reject a change that weakens the test guardrails: coverage "
        "thresholds, testwarden hooks, test collection, coverage exclusions, "
        "mock-data exemptions.",
        check,
        argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
