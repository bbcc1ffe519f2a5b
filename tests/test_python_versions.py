"""The builder runs on Python 3.9 and newer: vermin reads every module for what it needs.
(zstd is the exception by design: it is imported only where the interpreter has it.)"""

import os
import subprocess
import sys

from conftest import REPO


def test_the_builder_needs_nothing_newer_than_python_3_9():
    vermin = os.path.join(os.path.dirname(sys.executable), "vermin")  # where pip put it for this Python
    command = [vermin if os.path.exists(vermin) else "vermin", "--no-tips", "-t=3.9-", "--violations",
               "--exclude", "compression", "--exclude", "compression.zstd", os.path.join(REPO, "builder")]
    run = subprocess.run(command, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
