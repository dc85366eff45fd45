"""Grading on several machines with Dask distributed, started with Dask's own commands.

On one machine: ``dask scheduler``; on each grading machine (with this course installed,
its data prepared and bubblewrap for the sandbox): ``dask worker tcp://HOST:8786
--nthreads 1``. Then ``course autograde --scheduler tcp://HOST:8786`` sends one task per
submission (:func:`course_lib.class_grading.grade_packed`): the task carries the course's
settings and ``source/`` (sent once to every worker) and the submission's files, and
returns the graded notebook and the outcome; the coordinator alone writes the gradebook.
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
def cluster_pool(scheduler: str, course: dict):
    """``submit(student, files, assignment, extra)`` that grades on the cluster, and
    ``first_done(futures)`` that waits for the first of them to finish."""
    from distributed import wait

    from course_lib.class_grading import grade_packed

    client = _client(scheduler)
    try:
        shared = client.scatter(course, broadcast=True)

        def submit(student, files, assignment, extra):
            # pure=False: the same submission graded again is a new task, not a cached one.
            return client.submit(grade_packed, shared, files, student, assignment, extra,
                                 pure=False, key=f"grade-{student}-{id(files)}")

        def first_done(futures):
            return wait(futures, return_when="FIRST_COMPLETED").done

        yield submit, first_done
    finally:
        client.close()
