"""What strata's command lines share: a problem with the input is one line on stderr and
exit status 1, a usage error the usage and the problem with status 2."""

import sys

from .errors import StrataError


class UsageError(Exception):
    """A command line that asks for nothing the command does; empty for the usage alone."""


def run(usage, work, cleanup):
    """The exit status of `work()` (which returns one, or None for 0); `cleanup()` after."""
    try:
        return work() or 0
    except StrataError as error:
        print("strata: error: %s" % error, file=sys.stderr)
        return 1
    except UsageError as problem:
        print(usage + ("\nstrata: error: %s" % problem if str(problem) else ""), file=sys.stderr)
        return 2
    finally:
        cleanup()
