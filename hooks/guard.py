"""The command line the guard hooks share: choose the git mode, check, report.

Each guard hook module holds `check(change_set, config) -> HookReport` and a
`main` that hands it to run(); `testwarden check` calls the same `check`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from hooks import config, git
from hooks.errors import UserError, report
from hooks.findings import HookReport, add_format_argument, print_report

Check = Callable[[git.ChangeSet, config.Config], HookReport]


def run(
    hook_id: str, description: str, check: Check, argv: Sequence[str] | None
) -> int:
    parser = argparse.ArgumentParser(prog=hook_id, description=description)
    git.add_change_set_arguments(parser)
    add_format_argument(parser)
    args = parser.parse_args(argv)
    try:
        change_set = git.change_set_from_arguments(args)
        hook_report = check(change_set, config.load(git.repo_root()))
    except UserError as error:
        return report(error)
    if hook_report.findings or hook_report.notes:
        # Say what was checked when there is something to read; a clean pass
        # stays silent, as pre-commit hooks do.
        print(change_set.mode_line(hook_id), file=sys.stderr)
    print_report(hook_report, args.format)
    return hook_report.exit_code
