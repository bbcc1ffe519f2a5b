"""The one exception type for problems with the user's input."""


class StrataError(Exception):
    """Bad input: printed as one line by the command line, never as a traceback.

    The message names the input (a file, a field, an entry) and what is wrong with it.
    """
