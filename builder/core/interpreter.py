"""The Python that runs the builder, for what a builder starts again with it (fakeroot's
helper, stream scripts)."""

import os
import sys


def this_interpreter():
    """This Python's executable. In a Nix build sys.executable is empty (Nix starts the
    builder with a bare name and no PATH), so ask the kernel."""
    return sys.executable or os.readlink("/proc/self/exe")
