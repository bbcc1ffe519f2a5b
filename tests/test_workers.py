import os

import pytest

from builder.tar import workers
from builder.core.errors import StrataError


def numbers(job, stripe=0, stripes=1):
    """Job (first, count, size): `count` results of `size` bytes each, numbered from `first`."""
    first, count, size = job
    for number in range(first, first + count):
        yield bytes([number % 256]) * size, number


def runs(job, stripe, stripes):
    """Job (count, run): the numbers below `count` in runs of `run`, dealt to the stripes
    in turn, as storetar.frames deals a batch's entries."""
    count, run = job
    for first in range(stripe * run, count, stripes * run):
        for number in range(first, min(first + run, count)):
            yield bytes([number % 256]) * (number % 7), number
        if stripes > 1:
            yield workers.TURN


def test_a_striped_job_s_results_come_run_by_run_from_every_worker_in_order():
    pool = workers.OrderedPool(runs, 3)
    try:
        jobs = [(count, run) for count in (1, 2, 5, 6, 7, 40) for run in (1, 2, 3)]
        got = [[number for _, number in results] for results in pool.run(jobs, striped=True)]
        assert got == [list(range(count)) for count, _ in jobs]
        assert [[n for _, n in results] for results in pool.run([(4, 4)])] == [[0, 1, 2, 3]]  # one worker's job
    finally:
        pool.close()


def failing(job, stripe=0, stripes=1):
    """One result, from the first stripe, for a job that does not fail."""
    if job == "bad input":
        raise StrataError("job: bad input")
    if job == "bug":
        raise ZeroDivisionError("a bug")
    if stripe == 0:
        yield job.encode(), None
        if stripes > 1:
            yield workers.TURN


def test_results_come_in_job_order_whatever_the_worker_and_size():
    pool = workers.OrderedPool(numbers, 3)
    try:
        # Uneven jobs, some larger than a pipe holds: results still arrive in job order.
        jobs = [(index * 10, index % 4, (index % 5) * 300000) for index in range(60)]
        got = [[(number, len(data), data[:1] == bytes([number % 256])[:len(data)]) for data, number in results]
               for results in pool.run(jobs)]
        assert got == [[(number, size, True) for number in range(first, first + count)] for first, count, size in jobs]
        assert [len(list(results)) for results in pool.run([(0, 2, 1)])] == [2]  # the pool serves again
    finally:
        pool.close()


def test_a_job_s_error_reaches_the_reader_with_its_message():
    pool = workers.OrderedPool(failing, 2)
    try:
        with pytest.raises(StrataError, match="job: bad input"):
            for results in pool.run(["fine", "bad input", "fine"]):
                list(results)
    finally:
        pool.close()
    assert pool.workers == []


def test_a_striped_job_s_error_stops_the_pool_whose_other_workers_were_still_writing():
    pool = workers.OrderedPool(failing, 2)
    with pytest.raises(StrataError, match="job: bad input"):
        for results in pool.run(["fine", "bad input", "fine"], striped=True):
            list(results)
    assert pool.workers == []


def test_a_bug_in_a_worker_is_reported_with_its_traceback():
    pool = workers.OrderedPool(failing, 2)
    try:
        with pytest.raises(RuntimeError, match="(?s)a worker process failed.*ZeroDivisionError: a bug"):
            for results in pool.run(["fine", "bug"]):
                list(results)
    finally:
        pool.close()


def test_workers_are_gone_after_close():
    pool = workers.OrderedPool(numbers, 2)
    pids = [worker.pid for worker in pool.workers]
    pool.close()
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_a_run_left_before_its_end_stops_the_pool_and_a_finished_one_does_not():
    pool = workers.OrderedPool(numbers, 2)
    try:
        finished = pool.run([(0, 1, 10), (1, 1, 10)])
        for _ in range(2):  # as a layer reads its jobs: the run stays at its last result
            list(next(finished))
        finished.close()
        assert pool.workers
        left = pool.run([(0, 1, 10), (1, 1, 10), (2, 1, 10)])
        list(next(left))
        left.close()
        assert pool.workers == []
    finally:
        pool.close()
