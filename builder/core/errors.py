"""The one exception type for problems with the user's input."""


class StrataError(Exception):
    """Bad input: printed as one line by the command line, never as a traceback.

    The message names the input (a file, a field, an entry) and what is wrong with it. A
    message built from another's (tarfile lists what it tried, a line each) is made one line
    here, its lines joined with "; ".
    """

    def __init__(self, message):
        super().__init__("; ".join(line.strip() for line in str(message).splitlines() if line.strip()))
