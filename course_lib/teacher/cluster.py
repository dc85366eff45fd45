"""Grading on several machines with Dask distributed, started with Dask's own commands.

On one machine: ``dask scheduler``; on each grading machine (with this course installed,
its data prepared and bubblewrap for the sandbox): ``dask worker tcp://HOST:8786
--nthreads 1``. Then ``course autograde --scheduler tcp://HOST:8786`` sends one task per
submission (:func:`course_lib.teacher.workers.grade_packed`) through Dask's
``concurrent.futures`` executor: the task carries the course's settings and ``source/``
(sent once to every worker) and the submission's files, and returns the graded notebook
and the outcome; the coordinator alone writes the gradebook.
"""

from __future__ import annotations

from contextlib import contextmanager


def _client(scheduler: str):
    try:
        from distributed import Client
    except ImportError as error:
        raise RuntimeError("Grading on a cluster needs Dask: pip install "
                           "'mnist-cnn-course[cluster]' (or: pip install distributed).") \
            from error
    return Client(scheduler, timeout="30s")


def cluster_size(scheduler: str) -> int:
    """How many tasks the cluster's workers run at once (their threads together)."""
    client = _client(scheduler)
    try:
        return max(1, sum(client.nthreads().values()))
    finally:
        client.close()


@contextmanager
def cluster_executor(scheduler: str, course: dict):
    """Dask's executor on the cluster, and the packed course as it is shared there (sent
    once to every worker, instead of with every task)."""
    client = _client(scheduler)
    try:
        shared = client.scatter(course, broadcast=True)
        # pure=False: the same submission graded again is a new task, not a cached one.
        with client.get_executor(pure=False) as executor:
            yield executor, shared
    finally:
        client.close()
