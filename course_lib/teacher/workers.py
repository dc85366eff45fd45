"""One submission graded by a worker, in a scratch copy of the course.

The worker's task (:func:`grade_packed`) takes the course and the submission as file
contents and brings back a :class:`WorkerResult` with the graded notebook, so it runs the
same on a thread here (:func:`local_executor`) as on a machine of a Dask cluster
(:mod:`course_lib.teacher.cluster`): the two executors are interchangeable
``concurrent.futures`` executors. The worker runs the full, sandboxed ``nbgrader
autograde`` against a gradebook of its own; only the coordinator
(:mod:`course_lib.teacher.autograde`) writes the course's gradebook, and only results sealed
with the secret token of a task it sent (:mod:`course_lib.teacher.seals`).
"""

from __future__ import annotations

import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from course_lib.teacher.course import (
    CourseError,
    autograde_one,
    nbgrader,
    output_tail,
    step_folder,
)
from course_lib.teacher.seals import seal


@dataclass
class WorkerResult:
    """What a worker brings back for one submission, sealed with its task's token."""

    student: str
    assignment: str
    ok: bool
    message: str
    seconds: float
    notebooks: dict[str, bytes] = field(default_factory=dict)  # name -> graded notebook
    seal: str = ""


def local_executor(workers: int) -> ThreadPoolExecutor:
    """Worker threads on this computer (each runs nbgrader in a process of its own)."""
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grading-worker")


def pack_course(course_dir: Path, assignment: str) -> dict[str, bytes]:
    """What a worker needs of the course, as file contents: settings, ``source/`` and a
    gradebook made from them (never the course's own, which may be a database server)."""
    course_dir = Path(course_dir)
    source = step_folder(course_dir, "source", assignment=assignment).parent
    files = {"nbgrader_config.py": (course_dir / "nbgrader_config.py").read_bytes()}
    for path in sorted(source.rglob("*")):
        if path.is_file() and ".ipynb_checkpoints" not in path.parts:
            files[str(path.relative_to(course_dir.resolve()))] = path.read_bytes()
    with tempfile.TemporaryDirectory(prefix="course-template-") as scratch:
        template = Path(scratch)
        unpack(files, template)
        done = nbgrader(template, "generate_assignment", assignment, "--force",
                        sqlite_here(template))
        if done.returncode != 0:
            raise CourseError("The workers' copy of the course could not be prepared:\n"
                              + output_tail(done))
        files["gradebook.db"] = (template / "gradebook.db").read_bytes()
    return files


def pack_submission(course_dir: Path, student: str, assignment: str) -> dict[str, bytes]:
    """A student's submission as file contents (links are not followed)."""
    folder = step_folder(course_dir, "submitted", student, assignment)
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink()}


def grade_packed(course: dict, submission: dict, student: str, assignment: str,
                 extra: list[str], environment: dict | None = None, *,
                 token: str) -> WorkerResult:
    """A worker's task, here or on a cluster machine: grade one packed submission.

    Builds a scratch course from the packed files (with its own gradebook), runs the
    sandboxed ``nbgrader autograde`` and returns the outcome and the graded notebook(s),
    sealed with the task's ``token``.
    """
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="course-worker-") as scratch:
        copy = Path(scratch) / "course"
        unpack(course, copy)
        unpack(submission, step_folder(copy, "submitted", student, assignment))
        # The coordinator replays these outputs on the submission as handed in, which must
        # match cell for cell, and makes that notebook inert itself: not inert here.
        outcome = autograde_one(copy, student, assignment,
                                [*extra, sqlite_here(copy), "--MakeInert.enabled=False"],
                                environment or worker_thread_limits())
        graded = step_folder(copy, "autograded", student, assignment)
        notebooks = {p.name: p.read_bytes() for p in graded.glob("*.ipynb")} \
            if outcome.ok else {}
    return WorkerResult(student, assignment, outcome.ok, outcome.message,
                        time.perf_counter() - started, notebooks,
                        seal(token, student, assignment, outcome.ok, notebooks))


def unpack(files: dict[str, bytes], folder: Path) -> None:
    """Write packed files into ``folder``; a name that would land outside it is refused."""
    for name, data in files.items():
        path = (folder / name).resolve()
        if not path.is_relative_to(folder.resolve()):
            raise ValueError(f"{name} would land outside {folder}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def thread_limits(threads: int) -> dict[str, str]:
    """Environment variables that keep TensorFlow and BLAS to ``threads`` cores."""
    value = str(threads)
    return {"OMP_NUM_THREADS": value, "OPENBLAS_NUM_THREADS": value,
            "TF_NUM_INTRAOP_THREADS": value, "TF_NUM_INTEROP_THREADS": "1"}


def worker_thread_limits() -> dict[str, str]:
    """On a cluster worker: the cores shared among the tasks it runs at once."""
    try:
        from distributed import get_worker

        tasks = get_worker().state.nthreads
    except (ImportError, ValueError):
        tasks = 1
    return thread_limits(max(1, (os.cpu_count() or 1) // max(1, tasks)))


def sqlite_here(folder: Path) -> str:
    """nbgrader's option for a gradebook in ``folder`` (a worker's, never the course's)."""
    return f"--CourseDirectory.db_url=sqlite:///{(folder / 'gradebook.db').resolve()}"
