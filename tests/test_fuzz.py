"""A seeded fuzzing run (fuzz/run.py): mutated base images (Docker and OCI archives, OCI
layouts, gzip and not, and layer tars inside valid archives), closure graphs (registration files and
structured attrs), layer records, JSON specs and archives as strata inspect reads them, each of which must give a result or one
line of error: never a traceback, a hang, memory past 1 GiB or a file outside its output.
The long run is `python3 fuzz/run.py` (see docs/security.md)."""

import os
import subprocess
import sys

from conftest import REPO

CASES = 2100


def test_a_seeded_fuzzing_run_finds_nothing():
    run = subprocess.run([sys.executable, os.path.join(REPO, "fuzz", "run.py"), "--seed", "1", "--cases", str(CASES)],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "fuzz: seed 1, %d cases, no failure" % CASES in run.stdout
