"""The one exception type a hook turns into a one-line message and exit 2,
and the wrapper every command's main() wears so that output into a closed
pipe (`tox-changed-tests --list | head -5`) ends quietly."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence

EXIT_CANNOT_RUN = 2
# A command whose output was cut off never claims success (as Python's docs
# recommend for SIGPIPE); the shell reports the reader's status anyway.
EXIT_OUTPUT_CLOSED = 1

Main = Callable[[Sequence[str] | None], int]


class UserError(Exception):
    """A problem the user has to fix before the hook can run at all.

    The message is a single line that says what is wrong and how to fix it;
    a hook prints it instead of a traceback and exits with EXIT_CANNOT_RUN.
    """


def report(error: UserError) -> int:
    print(f"testwarden: {error}", file=sys.stderr)
    return EXIT_CANNOT_RUN


def quiet_on_closed_pipe(main: Main) -> Main:
    """Run MAIN and flush its output; when the reader has gone, end with
    EXIT_OUTPUT_CLOSED and no traceback, as `git log | head` does."""

    @functools.wraps(main)
    def wrapper(argv: Sequence[str] | None = None) -> int:
        try:
            try:
                exit_code = main(argv)
            finally:  # argparse's --help ends in SystemExit: flush that too
                sys.stdout.flush()
                sys.stderr.flush()
        except BrokenPipeError:
            # What is still buffered goes to devnull, so the flush at
            # interpreter exit cannot raise the same error again.
            devnull = os.open(os.devnull, os.O_WRONLY)
            for stream in (sys.stdout, sys.stderr):
                os.dup2(devnull, stream.fileno())
            os.close(devnull)
            return EXIT_OUTPUT_CLOSED
        return exit_code

    return wrapper
