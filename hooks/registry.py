"""Every testwarden hook, once: its id, module, console script, stages, kind.

The `testwarden` command, `testwarden check`, the demo and the benchmarks
read this list; .pre-commit-hooks.yaml and pyproject.toml's [project.scripts]
must agree with it (tests/registry_test.py checks both).

To add a hook:
  1. write hooks/<id_with_underscores>.py with `main(argv) -> int` (a guard
     hook also has `check(change_set, config) -> HookReport`, see guard.py);
  2. add one `Hook(...)` line to HOOKS below, in the order of the manifest;
  3. add its entry to .pre-commit-hooks.yaml (`entry` is the hook id, same
     `stages`) and `<id> = "hooks.<module>:main"` to [project.scripts].
"""

from __future__ import annotations

from dataclasses import dataclass

EVERY_STAGE = ("pre-commit", "pre-push", "manual")


@dataclass(frozen=True)
class Hook:
    id: str
    # What pre-commit prints for the hook: the manifest's `name`.
    name: str
    module: str
    stages: tuple[str, ...] = EVERY_STAGE
    # It runs the consumer's tests (through tox): slow, and needs an environment.
    runs_tests: bool = False
    # It judges a change set with check(change_set, config) -> HookReport, so
    # `testwarden check` runs it over a range.
    guard: bool = False

    @property
    def script(self) -> str:
        """The console script, named after the hook id (the manifest's entry)."""
        return self.id

    @property
    def entry_point(self) -> str:
        return f"{self.module}:main"


HOOKS = (
    Hook("isort-black", "isort-black", "hooks.isort_black"),
    Hook(
        "tox-changed-tests",
        "tox-changed-tests",
        "hooks.tox_changed_tests",
        runs_tests=True,
    ),
    Hook("coverage-gate", "coverage-gate", "hooks.coverage_gate", runs_tests=True),
    Hook(
        "forbid-test-deletion",
        "forbid test deletion",
        "hooks.forbid_test_deletion",
        guard=True,
    ),
    Hook(
        "forbid-skipped-tests",
        "forbid skipped tests",
        "hooks.forbid_skipped_tests",
        guard=True,
    ),
    Hook(
        "forbid-weakened-tests",
        "forbid weakened tests",
        "hooks.forbid_weakened_tests",
        guard=True,
    ),
    Hook("forbid-mock-data", "forbid mock data", "hooks.forbid_mock_data", guard=True),
    Hook(
        "protect-guardrails",
        "protect guardrails",
        "hooks.protect_guardrails",
        guard=True,
    ),
    Hook(
        "mutation-gate",
        "mutation-gate",
        "hooks.mutation_gate",
        stages=("pre-push", "manual"),
        runs_tests=True,
    ),
)
HOOKS_BY_ID = {hook.id: hook for hook in HOOKS}
GUARD_HOOKS = tuple(hook for hook in HOOKS if hook.guard)
TEST_RUNNING_HOOKS = tuple(hook for hook in HOOKS if hook.runs_tests)
