"""The `testwarden` command: `testwarden <hook-id> [args]` runs one hook."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

import hooks

# hook id -> module holding its main(argv); each also has a console script.
HOOK_MODULES = {
    "isort-black": "hooks.isort_black",
    "tox-changed-tests": "hooks.tox_changed_tests",
    "forbid-test-deletion": "hooks.forbid_test_deletion",
    "forbid-skipped-tests": "hooks.forbid_skipped_tests",
}


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="testwarden",
        description="Run one testwarden hook by its id, as pre-commit would.",
        epilog="hooks: " + ", ".join(HOOK_MODULES),
    )
    parser.add_argument(
        "--version", action="version", version=f"testwarden {hooks.__version__}"
    )
    parser.add_argument("hook", choices=HOOK_MODULES, help="the hook id to run")
    parser.add_argument("hook_args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    # Parse only up to the hook id, so the hook's own options reach the hook.
    split = next(
        (index for index, word in enumerate(arguments) if not word.startswith("-")),
        len(arguments),
    )
    args = parser.parse_args(arguments[: split + 1])
    hook_main = importlib.import_module(HOOK_MODULES[args.hook]).main
    return hook_main(arguments[split + 1 :])


if __name__ == "__main__":
    raise SystemExit(main())
