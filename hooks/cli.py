"""The `testwarden` command: `testwarden <hook-id> [args]` runs one hook."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

import hooks
from hooks.errors import quiet_on_closed_pipe

# hook id -> module holding its main(argv); each also has a console script.
HOOK_MODULES = {
    "isort-black": "hooks.isort_black",
    "tox-changed-tests": "hooks.tox_changed_tests",
    "coverage-gate": "hooks.coverage_gate",
    "mutation-gate": "hooks.mutation_gate",
    "forbid-test-deletion": "hooks.forbid_test_deletion",
    "forbid-skipped-tests": "hooks.forbid_skipped_tests",
    "forbid-mock-data": "hooks.forbid_mock_data",
    "protect-guardrails": "hooks.protect_guardrails",
}
# command -> "module:function" taking argv, for commands that are not hooks.
COMMANDS = {
    "baseline": "hooks.forbid_mock_data:baseline_main",
    "check": "hooks.check:main",
    "demo": "hooks.demo:main",
}


@quiet_on_closed_pipe
def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="testwarden",
        description="Run one testwarden hook by its id, as pre-commit would.",
        epilog="hooks: "
        + ", ".join(HOOK_MODULES)
        + "; commands: "
        + ", ".join(COMMANDS),
    )
    parser.add_argument(
        "--version", action="version", version=f"testwarden {hooks.__version__}"
    )
    parser.add_argument(
        "hook",
        choices=[*HOOK_MODULES, *COMMANDS],
        help="the hook id (or command) to run",
    )
    parser.add_argument("hook_args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    # Parse only up to the hook id, so the hook's own options reach the hook.
    split = next(
        (index for index, word in enumerate(arguments) if not word.startswith("-")),
        len(arguments),
    )
    args = parser.parse_args(arguments[: split + 1])
    entry = COMMANDS.get(args.hook) or f"{HOOK_MODULES[args.hook]}:main"
    module, _, function = entry.partition(":")
    hook_main = getattr(importlib.import_module(module), function)
    return hook_main(arguments[split + 1 :])


if __name__ == "__main__":
    raise SystemExit(main())
