"""The fuzzer: strata's readers of outside input (fuzz/targets.py) fed mutations of valid
inputs (fuzz/mutations.py). Every case must end in a result or in strata's one-line error
(StrataError): never another exception, a hang (a case gets 20 s), memory past 1 GiB, or a
file written outside its case's output.

    python3 fuzz/run.py                       a long run: 10 minutes over every target
    python3 fuzz/run.py --cases 2000 --seed 1 a seeded run (what the tests run)
    python3 fuzz/run.py --seed 1 --case 517   one case again, with its traceback

It prints the cases per second of each target and the first failure, with the command that
repeats it, and exits 1 if it found one. Cases are numbered; case N of seed S is the same
input on every machine.
"""

import argparse
import contextlib
import os
import random as randoms
import resource
import shutil
import signal
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mutations import mutate  # noqa: E402
from targets import TARGETS  # noqa: E402

from builder.core.errors import StrataError  # noqa: E402  (targets put the repository on the path)

CASE_SECONDS = 20
MEMORY = 1 << 30


def case_input(seed, number, seeds):
    """(target name, input bytes) of case `number` of `seed`."""
    random = randoms.Random("%d/%d" % (seed, number))
    name = sorted(TARGETS)[number % len(TARGETS)]
    data = random.choice(seeds[name])
    return name, mutate(data, random)


def run_case(name, data, root):
    """Run one case in a fresh directory under `root`; None, or what went wrong."""
    case = tempfile.mkdtemp(dir=root)
    os.mkdir(os.path.join(case, "in"))
    before = set(os.listdir(root))
    try:
        with open(os.devnull, "w") as quiet, contextlib.redirect_stderr(quiet):
            TARGETS[name][0](data, _Path(case))
    except StrataError as error:
        if "\n" in str(error):
            return "an error of more than one line: %r" % str(error)
    except _Timeout:
        return "no result after %d s" % CASE_SECONDS
    except BaseException:  # a traceback: the bug the fuzzer looks for
        return traceback.format_exc()
    finally:
        outside = set(os.listdir(root)) - before
        if os.path.exists(case):
            stray = [entry for entry in os.listdir(case) if entry not in ("in", "out")]
            shutil.rmtree(case, ignore_errors=True)
    if outside or stray:
        return "wrote outside its output: %s" % sorted(outside | set(stray))
    return None


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def _Path(path):
    import pathlib
    return pathlib.Path(path)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=None, help="the run's seed (default: from the clock)")
    parser.add_argument("--cases", type=int, default=None, help="how many cases (default: as many as --seconds allow)")
    parser.add_argument("--seconds", type=float, default=600, help="how long a run without --cases lasts")
    parser.add_argument("--case", type=int, default=None, help="run this one case and show its traceback")
    parser.add_argument("--quiet", action="store_true", help="print only a failure")
    options = parser.parse_args(argv)
    seed = options.seed if options.seed is not None else int(time.time())
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    signal.signal(signal.SIGALRM, _alarm)
    seeds = {name: make() for name, (_, make) in TARGETS.items()}
    root = tempfile.mkdtemp(prefix="strata-fuzz-")
    counts, spent = {}, {}
    try:
        numbers = [options.case] if options.case is not None else range(options.cases or 1 << 62)
        deadline = time.monotonic() + options.seconds
        for number in numbers:
            if options.cases is None and options.case is None and time.monotonic() > deadline:
                break
            name, data = case_input(seed, number, seeds)
            started = time.monotonic()
            signal.alarm(CASE_SECONDS)
            failure = run_case(name, data, root)
            signal.alarm(0)
            counts[name] = counts.get(name, 0) + 1
            spent[name] = spent.get(name, 0) + time.monotonic() - started
            if failure:
                print("fuzz: case %d of seed %d (%s, %d bytes) failed: %s" % (number, seed, name, len(data), failure))
                print("again: python3 fuzz/run.py --seed %d --case %d" % (seed, number))
                return 1
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if not options.quiet:
        for name in sorted(counts):
            print("%-17s %6d cases  %8.0f cases/s" % (name, counts[name], counts[name] / max(spent[name], 1e-9)))
        print("fuzz: seed %d, %d cases, no failure" % (seed, sum(counts.values())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
