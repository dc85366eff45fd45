"""Grade a whole class: several submissions at once, progress a teacher can read, resumable.

One gradebook, one writer. With ``workers`` above 1, each submission is graded by a
worker in a scratch copy of the course (settings, ``source/``, a snapshot of the gradebook
and that one submission), where it runs the full, sandboxed ``nbgrader autograde``. The
coordinator then records the result in the real course with a second ``nbgrader
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
import tempfile
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


def default_workers(memory_mb: int = 6144) -> int:
    """As many workers as the cores allow (two each, for training) and the memory holds."""
    cores = os.cpu_count() or 1
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (ValueError, OSError, AttributeError):
        memory = memory_mb
    return max(1, min(cores // 2, memory // memory_mb))


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
                force: bool = False, unsandboxed: bool = False,
                report=print) -> list[teacher.GradingOutcome]:
    """Grade the class; report progress; return one outcome per student graded now."""
    course_dir = teacher.require_course(course_dir)
    students = students or teacher.submitted_students(course_dir, assignment)
    if not students:
        raise teacher.CourseError(f"No submissions found in {course_dir / 'submitted'}/*/"
                                  f"{assignment}. Run `course collect` first.")
    extra = teacher.sandbox_arguments(unsandboxed, report)
    the_plan = plan(course_dir, students, assignment, workers, force)
    if the_plan.skipped:
        report(f"Skipping {len(the_plan.skipped)} submission(s) graded before and unchanged "
               f"since ({', '.join(the_plan.skipped)}); --force grades them again.")
    if not the_plan.students:
        return []
    report(f"Grading {len(the_plan.students)} submission(s) with {the_plan.workers} "
           f"worker(s), {the_plan.threads_per_worker} thread(s) each.")
    progress = Progress(len(the_plan.students), report)
    if the_plan.workers == 1:
        outcomes = []
        for student in the_plan.students:
            progress.started(student)
            outcome = teacher.autograde_one(course_dir, student, assignment, extra)
            _finish(course_dir, assignment, outcome, extra, recorded=True)
            progress.finished(outcome)
            outcomes.append(outcome)
    else:
        outcomes = _grade_in_parallel(course_dir, the_plan, assignment, extra, progress)
    progress.summary(outcomes)
    return outcomes


def _grade_in_parallel(course_dir, the_plan, assignment, extra, progress):
    environment = thread_limits(the_plan.threads_per_worker)
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="course-class-") as scratch:
        snapshot = _worker_gradebook(course_dir, assignment, Path(scratch) / "template")
        with ThreadPoolExecutor(max_workers=the_plan.workers) as pool:
            running = {}
            waiting = list(the_plan.students)
            while waiting or running:
                while waiting and len(running) < the_plan.workers:
                    student = waiting.pop(0)
                    progress.started(student)
                    future = pool.submit(_grade_in_copy, course_dir, student, assignment,
                                         snapshot, Path(scratch) / student, extra,
                                         environment)
                    running[future] = student
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    running.pop(future)
                    outcome = future.result()
                    # The coordinator alone writes the gradebook, one student at a time.
                    outcome = _finish(course_dir, assignment, outcome, extra, recorded=False)
                    progress.finished(outcome)
                    outcomes.append(outcome)
    return outcomes


def thread_limits(threads: int) -> dict[str, str]:
    """Environment variables that keep TensorFlow and BLAS to ``threads`` cores."""
    value = str(threads)
    return {"OMP_NUM_THREADS": value, "OPENBLAS_NUM_THREADS": value,
            "TF_NUM_INTRAOP_THREADS": value, "TF_NUM_INTEROP_THREADS": "1"}


def _worker_gradebook(course_dir: Path, assignment: str, template: Path) -> Path:
    """A gradebook for the workers, made from ``source/`` as the course's own was: workers
    never touch the course's gradebook (which may be a database server)."""
    template.mkdir(parents=True)
    shutil.copy(course_dir / "nbgrader_config.py", template)
    shutil.copytree(course_dir / "source", template / "source")
    done = teacher.nbgrader(template, "generate_assignment", assignment, "--force",
                            _sqlite_here(template))
    if done.returncode != 0:
        raise teacher.CourseError("The workers' copy of the course could not be prepared:\n"
                                  + teacher._tail(done))
    return template / "gradebook.db"


def _sqlite_here(folder: Path) -> str:
    return f"--CourseDirectory.db_url=sqlite:///{(folder / 'gradebook.db').resolve()}"


def _grade_in_copy(course_dir: Path, student: str, assignment: str, snapshot: Path,
                   scratch: Path, extra: list[str], environment: dict):
    """A worker: grade one submission in a scratch copy of the course."""
    started = time.perf_counter()
    copy = scratch / "course"
    copy.mkdir(parents=True)
    shutil.copy(course_dir / "nbgrader_config.py", copy)
    shutil.copytree(course_dir / "source", copy / "source")
    shutil.copy(snapshot, copy / "gradebook.db")
    shutil.copytree(course_dir / "submitted" / student, copy / "submitted" / student)
    outcome = teacher.autograde_one(copy, student, assignment, [*extra, _sqlite_here(copy)],
                                    environment)
    if outcome.ok:
        results = course_dir / RESULTS / student
        shutil.rmtree(results, ignore_errors=True)
        results.mkdir(parents=True)
        for notebook in (copy / "autograded" / student / assignment).glob("*.ipynb"):
            shutil.copy(notebook, results / notebook.name)
    outcome.seconds = time.perf_counter() - started
    return outcome


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
    """Progress lines a teacher can read: done, running, failed, time left."""

    def __init__(self, total: int, report):
        self.total, self.report = total, report
        self.running: list[str] = []
        self.done = self.failed = 0
        self.started_at = time.perf_counter()

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
        self.report(f"[{self.done}/{self.total}] {outcome.student}: {state} in "
                    f"{outcome.seconds:.0f} s | running: {', '.join(self.running) or '-'} | "
                    f"failed: {self.failed} | elapsed {elapsed:.0f} s, about {left:.0f} s left"
                    + ("" if outcome.ok else f"\n{outcome.message}"))

    def summary(self, outcomes) -> None:
        """The closing lines: who failed and why, and the command that retries just them."""
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
