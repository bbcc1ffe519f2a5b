"""Forked worker processes whose results come back in the order of the jobs, as a stream.

Listing a store path and packing its tar headers is Python work, which threads cannot spread
over cores; processes can. The workers are forked (they start at once and share the
builder's memory), and forked before the builder starts any thread of its own: a layer's
writer threads start after the pool exists. One pool serves every layer of a command.

Job i goes to worker i mod n, and the reader takes the results of job i from that worker's
pipe: results arrive in job order without being sorted, and a worker runs ahead of the
reader only as far as its pipe and the few jobs sent ahead allow, so memory stays bounded
whatever the jobs produce. A job yields results (bytes, meta): the bytes go through the pipe
as they are, read straight into a buffer at the other end, and `meta` goes with marshal,
as jobs do: they hold only built-in types (tuples, lists, bytes, numbers, strings). marshal
is faster than pickle for them, and built in: pickle's import would cost every start.

Where there are fewer jobs than workers, a run can be striped: every worker takes every job
with a stripe of it, `function(job, stripe, stripes)`, and gives TURN after each of its
runs; the reader takes the runs from the workers in turn. A worker then runs ahead by a
run while another's is read, and one large job keeps every worker busy.
"""

import collections
import os
import marshal
import signal
import struct

from ..core.errors import StrataError
from .streams import worker_count

AHEAD = 16
"""Jobs sent to each worker before the reader asks for their results."""

MOST = 4
"""Workers at most, whatever the cores: the writer takes a third of the work of a store's
small files (hashing, frames, links) and cannot go faster, so more than about three workers
would wait on it."""

PIPE_SIZE = 1 << 20
"""How many bytes of results a worker may have written ahead (Linux's default maximum for
an unprivileged pipe)."""

TURN = "turn"
"""What a job that has a stripe of its own gives at the end of each of its runs."""

_LENGTHS = struct.Struct("<QQ")
_pool = None
_allowed = True


def shared_pool(function):
    """The command's pool running `function(job, stripe, stripes)` (a generator of results;
    the command has one such function), forked at the first call; None where one process
    is all there is to use, or in a process that is itself one of several writing layers
    side by side (see forbid)."""
    global _pool
    if _pool is not None and _pool.owner == os.getpid():
        return _pool
    if not _allowed or worker_count() < 2:
        return None
    try:
        _pool = OrderedPool(function, min(worker_count(), MOST))
    except OSError:  # no more processes allowed: the work is done here, only slower
        return None
    return _pool


def close_shared_pool():
    """Stop the command's workers, if this process started them."""
    if _pool is not None and _pool.owner == os.getpid():
        _pool.close()


def forbid():
    """No pool in this process: it is a worker among others already (a layer of an OCI
    layout written in a process of its own)."""
    global _allowed
    _allowed = False


class OrderedPool:
    def __init__(self, function, count):
        self.owner = os.getpid()
        self.workers = []
        try:
            for _ in range(count):
                self.workers.append(_Worker(function, self.workers))
        except OSError:
            self.close()
            raise

    @property
    def size(self):
        return len(self.workers)

    def run(self, jobs, striped=False):
        """For each of `jobs` in order, an iterator over its results; each must be read to
        its end before the next is taken. `striped`: every worker takes every job, with its
        own stripe of it (see _striped_results)."""
        jobs = iter(jobs)
        waiting = collections.deque()
        turn = 0

        def send():
            nonlocal turn
            job = next(jobs, _NO_JOB)
            if job is _NO_JOB:
                return False
            if striped:
                for stripe, worker in enumerate(self.workers):
                    worker.send((job, stripe, len(self.workers)))
                waiting.append(self.workers)
                return True
            worker = self.workers[turn % len(self.workers)]
            turn += 1
            worker.send((job, 0, 1))
            waiting.append(worker)
            return True

        results = None
        try:
            while len(waiting) < AHEAD * (1 if striped else len(self.workers)) and send():
                pass
            while waiting:
                taker = waiting.popleft()
                results = self._striped_results(taker) if striped else taker.results()
                yield results
                send()
        except BaseException:
            if waiting or (results is not None and results.gi_frame is not None):
                self.close()  # results nobody will read are on their way
            raise

    def _striped_results(self, workers):
        """The results of a job that every one of `workers` has a stripe of: each gives
        TURN after each run of its stripe, and the runs are taken from the workers in turn,
        until the worker whose turn it is has none left; the others then have none either.
        Where the job fails, the other workers are still writing: the pool is stopped."""
        turn = 0
        try:
            while True:
                kind, value, data = workers[turn].message()
                if kind == "result":
                    yield data, value
                elif kind == "turn":
                    turn = (turn + 1) % len(workers)
                else:
                    break
            for worker in workers[turn + 1:] + workers[:turn]:
                if worker.message()[0] != "end":
                    raise RuntimeError("worker process %d went on after its job's end" % worker.pid)
        except BaseException:
            self.close()
            raise

    def close(self):
        """Stop the workers (at once: whatever they were doing is no longer wanted)."""
        global _pool
        for worker in self.workers:
            worker.stop()
        self.workers = []
        if _pool is self:
            _pool = None


_NO_JOB = object()


class _Worker:
    def __init__(self, function, siblings):
        job_read, job_write = os.pipe()
        result_read, result_write = os.pipe()
        _enlarge(result_write)
        try:
            self.pid = os.fork()
        except OSError:
            for descriptor in (job_read, job_write, result_read, result_write):
                os.close(descriptor)
            raise
        if self.pid == 0:
            for descriptor in [job_write, result_read] + [sibling.jobs.fileno() for sibling in siblings] + [
                    sibling.results_stream.fileno() for sibling in siblings]:
                os.close(descriptor)
            _serve(function, os.fdopen(job_read, "rb"), os.fdopen(result_write, "wb"))
        os.close(job_read)
        os.close(result_write)
        self.jobs = os.fdopen(job_write, "wb")
        self.results_stream = os.fdopen(result_read, "rb")

    def send(self, job):
        _write(self.jobs, job)
        self.jobs.flush()

    def results(self):
        """The results of a job given to this worker alone."""
        while True:
            kind, value, data = self.message()
            if kind == "end":
                return
            yield data, value

    def message(self):
        """(kind, value, data) of the next message: "result" (value the meta), "turn" or
        "end"; a job's error is raised here."""
        try:
            (kind, value), data = _read(self.results_stream)
        except EOFError:
            raise RuntimeError("worker process %d ended before its job did" % self.pid)
        if kind == "error":
            raise StrataError(value)
        if kind == "crash":
            raise RuntimeError("a worker process failed:\n" + value)
        return kind, value, data

    def stop(self):
        for stream in (self.jobs, self.results_stream):
            try:
                stream.close()
            except OSError:
                pass
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except OSError:
            pass


def _serve(function, jobs, results):
    """A worker's life: run each job and send its results, until the pool closes its pipe."""
    status = 0
    try:
        while True:
            (job, stripe, stripes), _ = _read(jobs)
            try:
                for result in function(job, stripe, stripes):
                    if result is TURN:
                        _write(results, ("turn", None))
                        continue
                    data, meta = result
                    _write(results, ("result", meta), data)
                message = ("end", None)
            except StrataError as error:
                message = ("error", str(error))
            _write(results, message)
            results.flush()
    except EOFError:
        pass
    except BaseException:
        import traceback  # here, not above: only a bug gets here, and its import costs every start
        status = 1
        try:
            _write(results, ("crash", traceback.format_exc()))
            results.flush()
        except BaseException:
            pass
    os._exit(status)


def _write(stream, value, data=b""):
    """`value` marshalled, then the bytes `data` as they are."""
    packed = marshal.dumps(value)
    stream.write(_LENGTHS.pack(len(packed), len(data)) + packed)
    stream.write(data)


def _read(stream):
    """(value, data) as _write sent them; the data in a buffer of its own."""
    lengths = stream.read(_LENGTHS.size)
    if len(lengths) < _LENGTHS.size:
        raise EOFError()
    packed_size, data_size = _LENGTHS.unpack(lengths)
    value = marshal.loads(stream.read(packed_size))
    data = bytearray(data_size)
    view, done = memoryview(data), 0
    while done < data_size:
        count = stream.readinto(view[done:])
        if not count:
            raise EOFError()
        done += count
    return value, data


def _enlarge(descriptor):
    """Let the pipe hold PIPE_SIZE bytes (Linux); elsewhere it keeps its size."""
    try:
        import fcntl
        fcntl.fcntl(descriptor, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_SIZE)
    except (ImportError, OSError):
        pass
