"""Outputs that are all or nothing: a failed command leaves no output behind."""

import contextlib
import os

from .errors import StrataError


@contextlib.contextmanager
def output_file(path):
    """The output file opened for writing; removed again if writing it fails."""
    _must_not_exist(path)
    stream = open(path, "wb")
    try:
        with stream:
            yield stream
    except BaseException:
        os.unlink(path)
        raise


@contextlib.contextmanager
def output_directory(path):
    """The output directory, made; removed again with all it holds if writing it fails."""
    _must_not_exist(path)
    os.mkdir(path)
    try:
        yield path
    except BaseException:
        import shutil  # here, not above: only a failed command needs it, and every start pays the imports
        shutil.rmtree(path)
        raise


def _must_not_exist(path):
    if os.path.lexists(path):
        raise StrataError("%s: the output exists already" % path)
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise StrataError("%s: the output's directory %s does not exist" % (path, parent))
