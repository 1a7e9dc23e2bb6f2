"""The one exception type a hook turns into a one-line message and exit 2."""

from __future__ import annotations

import sys

EXIT_CANNOT_RUN = 2


class UserError(Exception):
    """A problem the user has to fix before the hook can run at all.

    The message is a single line that says what is wrong and how to fix it;
    a hook prints it instead of a traceback and exits with EXIT_CANNOT_RUN.
    """


def report(error: UserError) -> int:
    print(f"testwarden: {error}", file=sys.stderr)
    return EXIT_CANNOT_RUN
