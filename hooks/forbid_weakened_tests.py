"""forbid-weakened-tests: reject a change that leaves a test in place but takes its teeth.

Every test present on both sides of the change (same node id, or moved or
renamed as forbid-test-deletion pairs them) is read before and after
(hooks/test_assertions.py) and compared. It is weakened when it checks fewer
cases than before (assertions removed, the body replaced by `pass`, an
assertion turned into an expression or a print), when it gains an assertion
that checks nothing (a constant, a tautology, one swallowed by
`try/except` or `contextlib.suppress`, one after an early `return`), when a
raises-check expects a broader exception or loses its `match=`, or when an
approximate comparison gets a looser tolerance. Assertions moved into a
helper the test calls still count; stricter, reordered or added assertions
and a growing parametrize table pass.

Exemptions need a reason: `# testwarden: allow-weaken reason="..."` on the
test's `def` line or on the weakened line, or an entry in
[tool.testwarden.forbid-weakened-tests]. With no before side (--all-files,
--files) there is nothing to compare: assertions that check nothing today are
listed as notes, not blocked, as forbid-skipped-tests does with old skips.
"""

from __future__ import annotations

import ast
import builtins
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hooks import git, guard
from hooks.allow_comments import allow_comments
from hooks.config import Config, Exemption
from hooks.errors import quiet_on_closed_pipe
from hooks.findings import HookReport
from hooks.pytest_collection import collected_files_of
from hooks.suite_inventory import (
    ChangedTestFiles,
    Inventory,
    TestPair,
    collected_count,
    display_path,
    exemption_for,
    pair_tests,
    read_changed_test_files,
    report_unparsable,
)
from hooks.test_assertions import (
    VACUOUS,
    ExpectedRaise,
    Function,
    ParsedModule,
    TestFacts,
    Tolerance,
    read_test,
    tolerance_defaults,
)

HOOK_ID = "forbid-weakened-tests"
ALLOW_KIND = "weaken"
ALLOW_EXAMPLE = "tests/test_x.py::test_name"
BROAD_EXCEPTIONS = frozenset({"Exception", "BaseException"})


@dataclass(frozen=True)
class Weakening:
    rule: str
    line: int
    message: str


@dataclass(frozen=True)
class WeakenedTest:
    path: str
    qualname: str
    def_line: int
    weakening: Weakening

    def test_id(self) -> str:
        return f"{display_path(self.path)}::{self.qualname}"


def _cases(count: int) -> str:
    return f"{count} case{'s' if count != 1 else ''}"


def _new_weak_checks(before: TestFacts, after: TestFacts) -> list[Weakening]:
    known = Counter((check.weakness, check.source) for check in before.weak_checks())
    found = []
    for check in after.weak_checks():
        key = (check.weakness, check.source)
        if known[key] > 0:
            known[key] -= 1
            continue
        found.append(
            Weakening(
                check.weakness or VACUOUS,
                check.line,
                f"`{check.source}` checks nothing: {check.why}",
            )
        )
    return found


def _turned_into_expressions(before: TestFacts, after: TestFacts) -> list[Weakening]:
    still_tested = Counter(check.tested for check in after.checks if check.tested)
    computed = dict((source, line) for line, source in reversed(after.expressions))
    found = []
    for check in before.checks:
        if check.effective and check.tested and check.tested in computed:
            if still_tested[check.tested] > 0:
                still_tested[check.tested] -= 1
                continue
            found.append(
                Weakening(
                    "assertion-to-expression",
                    computed[check.tested],
                    f"`assert {check.tested}` became an expression that is computed, "
                    "printed or logged but not asserted",
                )
            )
    return found


def _removed_sources(before: TestFacts, after: TestFacts) -> list[str]:
    remaining = Counter(check.source for check in after.checks if check.effective)
    removed = []
    for check in before.checks:
        if not check.effective:
            continue
        if remaining[check.source] > 0:
            remaining[check.source] -= 1
        else:
            removed.append(f"`{check.source}`")
    return removed


def _only_repeats_removed(pair: TestPair, before: TestFacts, after: TestFacts) -> bool:
    """Every assertion the test made is still made, as many cases as before:
    what went are repeats of an assertion that stays, written again or as one
    row of a loop over a literal table (click bbe1eb6d41)."""
    kept = {check.source for check in after.checks if check.effective}
    kept.update(
        instance
        for check in after.checks
        if check.effective
        for instance in check.instances
    )
    return all(
        check.source in kept for check in before.checks if check.effective
    ) and collected_count(pair.after) >= collected_count(pair.before)


def _lost_strength(
    pair: TestPair, before: TestFacts, after: TestFacts
) -> list[Weakening]:
    checked_before = before.strength * collected_count(pair.before)
    checked_after = after.strength * collected_count(pair.after)
    if checked_after >= checked_before:
        return []
    line = pair.after.line
    if after.empty_body:
        return [
            Weakening(
                "body-replaced",
                line,
                f"the body is replaced by pass, ... or a docstring: it checked "
                f"{_cases(checked_before)} and now checks nothing",
            )
        ]
    converted = _turned_into_expressions(before, after)
    if converted:
        return converted
    removed = _removed_sources(before, after)
    if removed and _only_repeats_removed(pair, before, after):
        return []
    listed = f" (gone: {', '.join(removed[:3])}{' ...' if len(removed) > 3 else ''})"
    return [
        Weakening(
            "assertions-removed",
            line,
            f"checks {_cases(checked_after)} where it checked {_cases(checked_before)}: "
            f"assertions removed without a replacement{listed if removed else ''}",
        )
    ]


def _exception_class(name: str) -> type | None:
    found = getattr(builtins, name.removeprefix("builtins."), None)
    return (
        found if isinstance(found, type) and issubclass(found, BaseException) else None
    )


def _covers(broad: str, narrow: str) -> bool:
    if broad == narrow:
        return True
    if broad.removeprefix("builtins.") in BROAD_EXCEPTIONS:
        return True
    broad_class, narrow_class = _exception_class(broad), _exception_class(narrow)
    return bool(broad_class and narrow_class and issubclass(narrow_class, broad_class))


def _broadened(before: ExpectedRaise, after: ExpectedRaise) -> bool:
    if before.exceptions is None or after.exceptions is None:
        return False
    if before.exceptions == after.exceptions:
        return False
    return all(
        any(_covers(broad, narrow) for broad in after.exceptions)
        for narrow in before.exceptions
    )


def _weaker_raises(before: TestFacts, after: TestFacts) -> list[Weakening]:
    def key(expected: ExpectedRaise) -> tuple[object, ...]:
        return (expected.exceptions, expected.match)

    unmatched_after = list(after.raises)
    unmatched_before = []
    for expected in before.raises:
        same = next(
            (other for other in unmatched_after if key(other) == key(expected)), None
        )
        if same is None:
            unmatched_before.append(expected)
        else:
            unmatched_after.remove(same)
    found = []
    for old, new in zip(unmatched_before, unmatched_after):
        if _broadened(old, new):
            found.append(
                Weakening(
                    "raises-broadened",
                    new.line,
                    f"{new.callee} now expects {', '.join(sorted(new.exceptions or ()))} "
                    f"where it expected {', '.join(sorted(old.exceptions or ()))}",
                )
            )
        elif old.match is not None and new.match is None:
            found.append(
                Weakening(
                    "raises-match-dropped",
                    new.line,
                    f"{new.callee} no longer checks the message: match={old.match} is gone",
                )
            )
    return found


def _looser_settings(old: Tolerance, new: Tolerance) -> list[str]:
    defaults = tolerance_defaults(new.callee)
    old_settings, new_settings = dict(old.settings), dict(new.settings)
    loosened = []
    for keyword in sorted({*old_settings, *new_settings}):
        default, larger_is_looser = defaults.get(keyword, (True, False))
        was = old_settings.get(keyword, default)
        now = new_settings.get(keyword, default)
        if isinstance(was, bool) or isinstance(now, bool):
            looser = bool(was) and now is False  # a check_* flag switched off
        elif isinstance(was, (int, float)) and isinstance(now, (int, float)):
            looser = now > was if larger_is_looser else now < was
        else:
            looser = False  # computed on one side: cannot tell
        if looser:
            loosened.append(f"{keyword}={was!r} -> {keyword}={now!r}")
    return loosened


def _looser_tolerances(before: TestFacts, after: TestFacts) -> list[Weakening]:
    found = []
    for callee in sorted({tolerance.callee for tolerance in after.tolerances}):
        old_calls = [item for item in before.tolerances if item.callee == callee]
        new_calls = [item for item in after.tolerances if item.callee == callee]
        for old, new in zip(old_calls, new_calls):
            loosened = _looser_settings(old, new)
            if loosened:
                found.append(
                    Weakening(
                        "tolerance-loosened",
                        new.line,
                        f"`{new.source}` compares more loosely: {', '.join(loosened)}",
                    )
                )
    return found


def edited_expected_values(
    before: TestFacts, after: TestFacts
) -> list[tuple[int, str, str]]:
    """(line, before, after) of the assertions whose literals alone changed."""
    old_sources = Counter(check.source for check in before.checks)
    new_sources = Counter(check.source for check in after.checks)
    gone = [
        check
        for check in before.checks
        if old_sources[check.source] > new_sources[check.source]
    ]
    edited = []
    for check in after.checks:
        if new_sources[check.source] <= old_sources[check.source]:
            continue
        old = next((item for item in gone if item.shape == check.shape), None)
        if old is not None:
            gone.remove(old)
            edited.append((check.line, old.source, check.source))
    return edited


def compare(pair: TestPair, before: TestFacts, after: TestFacts) -> list[Weakening]:
    """How the test of PAIR is weaker after the change than before."""
    weak = _new_weak_checks(before, after)
    lost = _lost_strength(pair, before, after)
    return [
        *weak,
        *(item for item in lost if not weak or item.rule != "assertions-removed"),
        *_weaker_raises(before, after),
        *_looser_tolerances(before, after),
    ]


def is_test_code(path: str) -> bool:
    """The project's own test code: a module under a test* directory, or a
    test*.py or conftest.py. An assert in the library's code is not a check
    of the test that calls it."""
    *directories, name = path.split("/")
    return any(part.startswith("test") for part in (*directories, name)) or (
        name == "conftest.py"
    )


class _Side:
    """One side of the change: its test modules and the project helpers they call."""

    def __init__(self, revision: str | None, modules: dict[str, ParsedModule]) -> None:
        self.revision = revision
        self.modules: dict[str, ParsedModule | None] = dict(modules)
        self._blobs: dict[str, str] | None = None

    def find_helper(self, dotted: str) -> tuple[Function, ParsedModule] | None:
        module_name, _, function_name = dotted.rpartition(".")
        path = self._module_path(module_name)
        if path is None:
            return None
        if path not in self.modules:
            self.modules[path] = self._read(path)
        module = self.modules[path]
        if module is None or function_name not in module.functions:
            return None
        return module.functions[function_name], module

    def _module_path(self, module_name: str) -> str | None:
        if self._blobs is None:
            self._blobs = git.tracked_blobs(self.revision)
        base = module_name.replace(".", "/")
        for candidate in (f"{base}.py", f"{base}/__init__.py"):
            if candidate in self._blobs and is_test_code(candidate):
                return candidate
        return None

    def _read(self, path: str) -> ParsedModule | None:
        blobs = self._blobs or {}
        source = git.read_blobs([blobs[path]])[blobs[path]]
        try:
            return ParsedModule(ast.parse(source, filename=path))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None  # a helper module that does not parse checks nothing


def _modules(inventories: Mapping[str, Inventory]) -> dict[str, ParsedModule]:
    return {
        path: ParsedModule(inventory.module)
        for path, inventory in inventories.items()
        if inventory.module is not None
    }


@dataclass
class Comparison:
    weakened: list[WeakenedTest]
    # (path, line, test id, before, after) of expected values edited in kept tests.
    edited: list[tuple[str, int, str, str, str]]


def find_weakened_tests(files: ChangedTestFiles) -> Comparison:
    before = _Side(files.change_set.before_rev, _modules(files.before))
    after = _Side(files.change_set.after_rev, _modules(files.after))
    found = Comparison([], [])
    for pair in pair_tests(files).pairs:
        module_before = before.modules[pair.before_path]
        module_after = after.modules[pair.after_path]
        # Parsed inventories always carry their syntax trees.
        assert module_before is not None and module_after is not None
        assert pair.before.function is not None and pair.after.function is not None
        facts_before = read_test(
            pair.before.function, module_before, before.find_helper
        )
        facts_after = read_test(pair.after.function, module_after, after.find_helper)
        weakenings = compare(pair, facts_before, facts_after)
        found.weakened.extend(
            WeakenedTest(pair.after_path, pair.after.qualname, pair.after.line, item)
            for item in weakenings
        )
        if not weakenings:
            found.edited.extend(
                (
                    pair.after_path,
                    line,
                    f"{display_path(pair.after_path)}::{pair.after.qualname}",
                    old,
                    new,
                )
                for line, old, new in edited_expected_values(facts_before, facts_after)
            )
    return found


def _weak_today(files: ChangedTestFiles) -> list[WeakenedTest]:
    found = []
    for path, module in _modules(files.after).items():
        for test in files.after[path].tests.values():
            assert test.function is not None  # parsed tests carry their syntax tree
            for check in read_test(test.function, module).weak_checks():
                found.append(
                    WeakenedTest(
                        path,
                        test.qualname,
                        test.line,
                        Weakening(
                            check.weakness or VACUOUS,
                            check.line,
                            f"`{check.source}` checks nothing: {check.why}",
                        ),
                    )
                )
    return found


def _allow_comments(
    files: ChangedTestFiles,
) -> dict[str, dict[int, str]]:
    """path -> line -> reason of the allow-weaken comments of the changed test files."""
    changes = [
        change for change in files.change_set.changes if change.path in files.after
    ]
    return {
        path: allow_comments(source, ALLOW_KIND)
        for path, source in files.change_set.read_after(changes).items()
    }


def check(change_set: git.ChangeSet, config: Config) -> HookReport:
    exemptions: Sequence[Exemption] = config.forbid_weakened_tests.allow
    root = git.repo_root()
    before = collected_files_of(config, root, change_set.before_rev)
    after = collected_files_of(config, root, change_set.after_rev)
    files = read_changed_test_files(change_set, before.is_test_file, after.is_test_file)
    report = HookReport(HOOK_ID)
    report_unparsable(
        files,
        report,
        after="its assertions cannot be checked",
        before="nothing to compare against",
    )
    comments = _allow_comments(files)
    for path, reasons in sorted(comments.items()):
        for line, reason in sorted(reasons.items()):
            if not reason:
                report.block(
                    "exemption-without-reason",
                    display_path(path),
                    line,
                    f"`# testwarden: allow-{ALLOW_KIND}` needs a reason: write "
                    'reason="why this test may check less"',
                )
    if not change_set.has_before_side:
        weak = _weak_today(files)
        for item in weak:
            report.notes.append(
                f"{display_path(item.path)}:{item.weakening.line}: note: "
                f"{item.test_id()}: {item.weakening.message}"
            )
        report.notes.append(
            f"{HOOK_ID}: {change_set.option} has no before side: nothing to compare, so "
            f"{len(weak)} assertion(s) that check nothing today are listed, not blocked. "
            "Check a commit or a range (--from-ref/--to-ref) to find weakened tests."
        )
        return report
    exempted = 0
    blocked: list[WeakenedTest] = []
    comparison = find_weakened_tests(files)
    code_changed = any(
        change.path.endswith(".py")
        and change.path not in files.after
        and change.new_blob
        for change in change_set.changes
    )
    for path, line, test_id, old, new in comparison.edited:
        alongside = " in the same change as code" if code_changed else ""
        report.notes.append(
            f"{display_path(path)}:{line}: note: {test_id}: expected value edited{alongside}: "
            f"`{old}` -> `{new}`; for the reviewer, not a block"
        )
    for item in comparison.weakened:
        reasons = comments.get(item.path, {})
        reason = reasons.get(item.weakening.line) or reasons.get(item.def_line)
        exemption = exemption_for(exemptions, display_path(item.path), item.qualname)
        location = f"{display_path(item.path)}:{item.weakening.line}"
        if reason:
            report.notes.append(
                f"{location}: exempt: {item.test_id()}: {item.weakening.message}; "
                f"reason: {reason} (inline allow-{ALLOW_KIND})"
            )
        elif exemption is not None:
            report.notes.append(
                f"{location}: exempt: {item.test_id()}: {item.weakening.message}; "
                f"reason: {exemption.reason}"
            )
        else:
            blocked.append(item)
            report.block(
                item.weakening.rule,
                display_path(item.path),
                item.weakening.line,
                f"{item.test_id()} is weakened: {item.weakening.message}",
            )
            continue
        exempted += 1
    if exempted:
        report.notes.append(f"{HOOK_ID}: {exempted} exemption(s) used")
    example = blocked[0].test_id() if blocked else ALLOW_EXAMPLE
    report.fix = (
        "keep the test checking what it checked: restore the assertion, or replace "
        "it by a stricter one (moving it into a helper the test calls is fine). If "
        "the test may check less, say why on its `def` line: "
        f'`# testwarden: allow-{ALLOW_KIND} reason="why"`, or in pyproject.toml:\n'
        f"  [tool.testwarden.{HOOK_ID}]\n"
        f'  allow = [{{ test = "{example}", reason = "why" }}]'
    )
    return report


@quiet_on_closed_pipe
def main(argv: Sequence[str] | None = None) -> int:
    return guard.run(
        HOOK_ID,
        "Reject a change that keeps a test but removes, empties or loosens its assertions.",
        check,
        argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
