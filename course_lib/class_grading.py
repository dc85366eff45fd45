"""Grade a whole class: several submissions at once, progress a teacher can read, resumable.

One gradebook, one writer. With ``workers`` above 1, each submission is graded by a
worker in a scratch copy of the course (settings, ``source/``, a gradebook of its own made
from them, and that one submission), where it runs the full, sandboxed ``nbgrader
autograde``. The workers are threads on this computer, or the machines of a Dask cluster
(:mod:`course_lib.cluster`): the task carries the files and brings back the graded
notebook, so workers share no file system with the course. The coordinator then
records the result in the real course with a second ``nbgrader
autograde`` that replays the worker's graded notebook instead of running it
(``GradeInSandbox.replay_folder``), so nbgrader itself writes the gradebook, one student
at a time, and the scores are exactly those of grading in place.

Each worker gets its share of the cores for TensorFlow and BLAS. A submission that was
graded before and has not changed since is skipped (unless ``force``), so a run that was
stopped half-way resumes where it was.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from course_lib import teacher

RESULTS = ".grading-results"  # in the course folder: graded notebooks waiting to be recorded


@dataclass
class Plan:
    """How a class will be graded."""

    students: list[str]
    skipped: list[str]
    workers: int
    threads_per_worker: int


def default_workers(memory_mb: int = 6144, cores: int | None = None,
                    memory: int | None = None) -> int:
    """One worker per core, as far as the memory (``memory_mb`` per worker) holds.

    A submission's grading is mostly work that one core does (starting the kernel and the
    checker, loading data, small training batches): measured on 2 cores, one worker with
    both took 121 s per full-size submission and one with a single core 129 s, so two
    workers of one core grade a class 1.48 times as fast as one of two (README).
    """
    cores = cores or os.cpu_count() or 1
    if memory is None:
        try:
            memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
        except (ValueError, OSError, AttributeError):
            memory = memory_mb
    return max(1, min(cores, memory // memory_mb))


def submission_digest(course_dir: Path, student: str, assignment: str) -> str:
    """A fingerprint of everything the student handed in."""
    folder = Path(course_dir) / "submitted" / student / assignment
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def already_graded(course_dir: Path, student: str, assignment: str) -> bool:
    """Whether this submission was graded, unchanged since, and is in the gradebook."""
    record = teacher.read_grading_record(course_dir, student, assignment)
    graded = Path(course_dir) / "autograded" / student / assignment
    return bool(record) and record.get("submission") == submission_digest(
        course_dir, student, assignment) and any(graded.glob("*.ipynb"))


def plan(course_dir: Path, students: list[str], assignment: str, workers: int | None,
         force: bool) -> Plan:
    """Decide who is graded (and who skipped), by how many workers with how many threads."""
    skipped = [] if force else [s for s in students
                                if already_graded(course_dir, s, assignment)]
    todo = [s for s in students if s not in skipped]
    workers = max(1, min(workers or default_workers(), max(1, len(todo))))
    threads = max(1, (os.cpu_count() or 1) // workers)
    return Plan(todo, skipped, workers, threads)


def grade_class(course_dir: Path, students: list[str] | None = None, *,
                assignment: str = teacher.ASSIGNMENT, workers: int | None = None,
                force: bool = False, unsandboxed: bool = False, report=print,
                scheduler: str | None = None) -> list[teacher.GradingOutcome]:
    """Grade the class; report progress; return one outcome per student graded now.

    ``scheduler``: the address of a Dask scheduler (``tcp://HOST:8786``) whose workers
    grade the submissions; ``workers`` is then how many are sent at once.
    """
    course_dir = teacher.require_course(course_dir)
    students = students or teacher.submitted_students(course_dir, assignment)
    if not students:
        raise teacher.CourseError(f"No submissions found in {course_dir / 'submitted'}/*/"
                                  f"{assignment}. Run `course collect` first.")
    extra = teacher.sandbox_arguments(unsandboxed, report)
    the_plan = plan(course_dir, students, assignment, workers, force)
    if scheduler:
        from course_lib.cluster import cluster_size

        the_plan.workers = max(1, min(workers or cluster_size(scheduler),
                                      len(the_plan.students) or 1))
    if the_plan.skipped:
        report(f"Skipping {len(the_plan.skipped)} submission(s) graded before and unchanged "
               f"since ({', '.join(the_plan.skipped)}); --force grades them again.")
    if not the_plan.students:
        return []
    report(f"Grading {len(the_plan.students)} submission(s) with {the_plan.workers} "
           + (f"task(s) at once on the Dask cluster at {scheduler}." if scheduler else
              f"worker(s), {the_plan.threads_per_worker} thread(s) each."))
    for student in the_plan.students:
        # Until it is graded again, a submission counts as not graded: a run stopped
        # half-way grades it again next time.
        teacher.forget_grading_record(course_dir, student, assignment)
    progress = Progress(len(the_plan.students), report)
    if the_plan.workers == 1 and not scheduler:
        outcomes = []
        for student in the_plan.students:
            progress.started(student)
            outcome = teacher.autograde_one(course_dir, student, assignment, extra)
            _finish(course_dir, assignment, outcome, extra, recorded=True)
            progress.finished(outcome)
            outcomes.append(outcome)
    else:
        outcomes = _grade_in_parallel(course_dir, the_plan, assignment, extra, progress,
                                      scheduler)
    progress.summary(outcomes)
    return outcomes


def _grade_in_parallel(course_dir, the_plan, assignment, extra, progress,
                       scheduler: str | None = None):
    """Grade on local worker threads, or on a Dask cluster; record results as they come."""
    course = pack_course(course_dir, assignment)
    outcomes = []
    if scheduler:
        from course_lib.cluster import cluster_pool

        pool_context = cluster_pool(scheduler, course)
    else:
        pool_context = _local_pool(the_plan.workers, the_plan.threads_per_worker, course)
    with pool_context as (submit, first_done):
        running, waiting = {}, list(the_plan.students)
        while waiting or running:
            while waiting and len(running) < the_plan.workers:
                student = waiting.pop(0)
                progress.started(student)
                running[submit(student, pack_submission(course_dir, student, assignment),
                               assignment, extra)] = student
            done = first_done(list(running))
            for future in done:
                student = running.pop(future)
                outcome = _unpack_result(course_dir, student, future)
                # The coordinator alone writes the gradebook, one student at a time.
                outcome = _finish(course_dir, assignment, outcome, extra, recorded=False)
                progress.finished(outcome)
                outcomes.append(outcome)
    return outcomes


class _local_pool:
    """Worker threads on this computer, each grading in its own scratch copy."""

    def __init__(self, workers: int, threads: int, course: dict):
        self.pool = ThreadPoolExecutor(max_workers=workers)
        self.environment, self.course = thread_limits(threads), course

    def __enter__(self):
        def submit(student, files, assignment, extra):
            return self.pool.submit(grade_packed, self.course, files, student, assignment,
                                    extra, self.environment)

        def first_done(futures):
            return wait(futures, return_when=FIRST_COMPLETED).done

        return submit, first_done

    def __exit__(self, *exc):
        self.pool.shutdown(wait=True)


def pack_course(course_dir: Path, assignment: str) -> dict[str, bytes]:
    """What a worker needs of the course, as file contents: settings, ``source/`` and a
    gradebook made from them (never the course's own, which may be a database server)."""
    course_dir = Path(course_dir)
    files = {"nbgrader_config.py": (course_dir / "nbgrader_config.py").read_bytes()}
    for path in sorted((course_dir / "source").rglob("*")):
        if path.is_file() and ".ipynb_checkpoints" not in path.parts:
            files[str(path.relative_to(course_dir))] = path.read_bytes()
    with tempfile.TemporaryDirectory(prefix="course-template-") as scratch:
        template = Path(scratch)
        _unpack(files, template)
        done = teacher.nbgrader(template, "generate_assignment", assignment, "--force",
                                _sqlite_here(template))
        if done.returncode != 0:
            raise teacher.CourseError("The workers' copy of the course could not be "
                                      "prepared:\n" + teacher._tail(done))
        files["gradebook.db"] = (template / "gradebook.db").read_bytes()
    return files


def pack_submission(course_dir: Path, student: str, assignment: str) -> dict[str, bytes]:
    """A student's submission as file contents (links are not followed)."""
    folder = Path(course_dir) / "submitted" / student / assignment
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink()}


def grade_packed(course: dict, submission: dict, student: str, assignment: str,
                 extra: list[str], environment: dict | None = None) -> dict:
    """A worker's task, here or on a cluster machine: grade one packed submission.

    Builds a scratch course from the packed files (with its own gradebook), runs the
    sandboxed ``nbgrader autograde`` and returns the outcome and the graded notebook(s).
    """
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="course-worker-") as scratch:
        copy = Path(scratch) / "course"
        _unpack(course, copy)
        _unpack(submission, copy / "submitted" / student / assignment)
        here = _sqlite_here(copy)
        outcome = teacher.autograde_one(copy, student, assignment, [*extra, here],
                                        environment or _worker_thread_limits())
        graded = copy / "autograded" / student / assignment
        notebooks = {p.name: p.read_bytes() for p in graded.glob("*.ipynb")} \
            if outcome.ok else {}
    return {"ok": outcome.ok, "message": outcome.message,
            "seconds": time.perf_counter() - started, "notebooks": notebooks}


def _unpack(files: dict[str, bytes], folder: Path) -> None:
    for name, data in files.items():
        path = (folder / name).resolve()
        if not path.is_relative_to(folder.resolve()):
            raise ValueError(f"{name} would land outside {folder}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _worker_thread_limits() -> dict[str, str]:
    """On a cluster worker: the cores shared among the tasks it runs at once."""
    try:
        from distributed import get_worker

        tasks = get_worker().state.nthreads
    except (ImportError, ValueError):
        tasks = 1
    return thread_limits(max(1, (os.cpu_count() or 1) // max(1, tasks)))


def _unpack_result(course_dir: Path, student: str, future) -> teacher.GradingOutcome:
    try:
        result = future.result()
    except Exception as error:  # noqa: BLE001 - a lost worker fails this student only
        return teacher.GradingOutcome(student, False, 0.0,
                                      f"the worker failed: {type(error).__name__}: {error}")
    if result["ok"]:
        results = Path(course_dir) / RESULTS / student
        shutil.rmtree(results, ignore_errors=True)
        results.mkdir(parents=True)
        for name, data in result["notebooks"].items():
            (results / Path(name).name).write_bytes(data)
    return teacher.GradingOutcome(student, result["ok"], result["seconds"], result["message"])


def thread_limits(threads: int) -> dict[str, str]:
    """Environment variables that keep TensorFlow and BLAS to ``threads`` cores."""
    value = str(threads)
    return {"OMP_NUM_THREADS": value, "OPENBLAS_NUM_THREADS": value,
            "TF_NUM_INTRAOP_THREADS": value, "TF_NUM_INTEROP_THREADS": "1"}


def _sqlite_here(folder: Path) -> str:
    return f"--CourseDirectory.db_url=sqlite:///{(folder / 'gradebook.db').resolve()}"


def _finish(course_dir: Path, assignment: str, outcome, extra: list[str], recorded: bool):
    """Record a worker's result in the real gradebook (unless graded in place already)."""
    if not outcome.ok and not recorded:
        _note_submission(course_dir, outcome.student, assignment)
    if outcome.ok and not recorded:
        results = course_dir / RESULTS / outcome.student
        started = time.perf_counter()
        recording = teacher.autograde_one(
            course_dir, outcome.student, assignment,
            [*extra, f"--GradeInSandbox.replay_folder={results}"])
        shutil.rmtree(results, ignore_errors=True)
        outcome.seconds += time.perf_counter() - started
        if not recording.ok:
            outcome.ok, outcome.message = False, recording.message
    if outcome.ok:
        teacher.write_grading_record(
            course_dir, outcome.student, assignment, sandboxed=not extra,
            submission=submission_digest(course_dir, outcome.student, assignment))
    return outcome


def _note_submission(course_dir: Path, student: str, assignment: str) -> None:
    """A submission the worker could not grade is in the gradebook all the same (with no
    scores), as when nbgrader fails in place."""
    from nbgrader.api import Gradebook

    with Gradebook(teacher.gradebook_url(course_dir)) as book:
        book.update_or_create_student(student)
        book.update_or_create_submission(assignment, student)


class Progress:
    """Progress lines a teacher can read: done, running, failed, time left.

    A line per finished student always; on a terminal (``live``), also a status line that
    is redrawn every second while students are being graded.
    """

    def __init__(self, total: int, report, live=None):
        self.total, self.report = total, report
        self.running: list[str] = []
        self.done = self.failed = 0
        self.started_at = time.perf_counter()
        self.live = live if live is not None else (
            sys.stdout if report is print and sys.stdout.isatty() else None)
        self._stop = threading.Event()
        if self.live is not None:
            threading.Thread(target=self._redraw, daemon=True).start()

    def status(self) -> str:
        """The state of the run in one line."""
        elapsed = time.perf_counter() - self.started_at
        left = f"about {elapsed / self.done * (self.total - self.done):.0f} s left" \
            if self.done else "time left: after the first student"
        return (f"[{self.done}/{self.total}] running: {', '.join(self.running) or '-'} | "
                f"failed: {self.failed} | elapsed {elapsed:.0f} s, {left}")

    def _redraw(self) -> None:
        while not self._stop.wait(1.0):
            self.live.write("\r\033[K" + self.status()[:200])
            self.live.flush()

    def close(self) -> None:
        """Stop redrawing the status line."""
        self._stop.set()
        if self.live is not None:
            self.live.write("\r\033[K")
            self.live.flush()

    def started(self, student: str) -> None:
        """A submission is being graded."""
        self.running.append(student)

    def finished(self, outcome) -> None:
        """A submission is done: one line with the state of the whole run."""
        self.running.remove(outcome.student)
        self.done += 1
        self.failed += not outcome.ok
        elapsed = time.perf_counter() - self.started_at
        left = elapsed / self.done * (self.total - self.done)
        state = "graded" if outcome.ok else "NOT graded"
        if self.live is not None:
            self.live.write("\r\033[K")
        self.report(f"[{self.done}/{self.total}] {outcome.student}: {state} in "
                    f"{outcome.seconds:.0f} s | running: {', '.join(self.running) or '-'} | "
                    f"failed: {self.failed} | elapsed {elapsed:.0f} s, about {left:.0f} s left"
                    + ("" if outcome.ok else f"\n{outcome.message}"))

    def summary(self, outcomes) -> None:
        """The closing lines: who failed and why, and the command that retries just them."""
        self.close()
        failed = [o for o in outcomes if not o.ok]
        elapsed = time.perf_counter() - self.started_at
        self.report(f"Graded {len(outcomes) - len(failed)} of {len(outcomes)} in "
                    f"{elapsed:.0f} s.")
        for outcome in failed:
            reason = (outcome.message.strip().splitlines() or ["no message"])[-1]
            self.report(f"  not graded: {outcome.student}: {reason}")
        if failed:
            self.report("Retry just these: course autograde --force "
                        + " ".join(o.student for o in failed))
