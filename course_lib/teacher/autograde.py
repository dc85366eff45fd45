"""Grade a whole class: the coordinator of ``course autograde``, resumable.

One gradebook, one writer. :mod:`~course_lib.teacher.plan` decides who is graded and by how
many workers; with one worker each submission is graded in place, otherwise the workers
(:mod:`~course_lib.teacher.workers`, threads here or the machines of a Dask cluster,
:mod:`~course_lib.teacher.cluster`) grade in scratch copies and bring back the graded
notebook. The coordinator accepts a result only if it is sealed with the secret token of
the task it sent for that student (:mod:`~course_lib.teacher.seals`); anything else is
refused and the student counts as not graded. It then records each result in the real
course with a second
``nbgrader autograde`` that replays the worker's graded notebook instead of running it
(``GradeInSandbox.replay_folder``), so nbgrader itself writes the gradebook, one student at
a time, and the scores are exactly those of grading in place. Progress is reported as it
goes (:mod:`~course_lib.teacher.progress`); a submission graded before and unchanged since
is skipped (unless ``force``), so a run that was stopped half-way resumes where it was.
``workers``, ``scheduler`` and ``force`` not given are the course's settings
(``c.CourseAutograde`` in its ``nbgrader_config.py``), as for ``course autograde``.
"""

from __future__ import annotations

import logging
import shutil
import sys
import time
from concurrent.futures import FIRST_COMPLETED, wait
from contextlib import contextmanager
from pathlib import Path

from course_lib.autograder.sandbox import course_lib_conflict
from course_lib.teacher import records
from course_lib.teacher.certificates import default_folder
from course_lib.teacher.course import (
    ASSIGNMENT,
    CourseError,
    GradingOutcome,
    autograde_one,
    autograde_settings,
    gradebook_url,
    open_gradebook,
    require_course,
    sandbox_arguments,
    submitted_students,
)
from course_lib.teacher.plan import plan
from course_lib.teacher.progress import Progress
from course_lib.teacher.seals import new_token, refusal
from course_lib.teacher.workers import (
    WorkerResult,
    grade_packed,
    local_executor,
    pack_course,
    pack_submission,
    thread_limits,
)

RESULTS = ".grading-results"  # in the course folder: graded notebooks waiting to be recorded

log = logging.getLogger(__name__)


def autograde(course_dir: Path, students: list[str] | None = None, *,
              assignment: str = ASSIGNMENT, workers: int | None = None,
              force: bool | None = None, unsandboxed: bool = False, report=print, warn=None,
              scheduler: str | None = None, certificates: Path | None = None,
              insecure_plain_tcp: bool = False) -> list[GradingOutcome]:
    """Grade the class; report progress; return one outcome per student graded now, and a
    failed one per id refused (a folder in ``submitted/`` that cannot be a student id).

    ``workers`` (0: as many as this computer, or the cluster, allows), ``scheduler`` and
    ``force`` left as ``None`` take the course's ``c.CourseAutograde`` settings, whose
    defaults are those of ``course autograde``: as many workers as the computer allows, on
    this computer, skipping what was graded before and is unchanged. ``warn`` is told what
    the teacher must not miss (grading without the sandbox, refused ids); default ``report``.

    Without the sandbox nbgrader refuses to grade, unless ``unsandboxed`` says to go on
    knowingly; each student's grading record then says so. ``scheduler``: the address of a
    Dask scheduler (``tls://HOST:8786``) whose workers grade the submissions, reached with
    the certificates in ``certificates`` (default: the course's); ``workers`` is then how
    many are sent at once. A plain ``tcp://`` scheduler is refused unless
    ``insecure_plain_tcp``. A failure is reported and the rest go on.
    """
    course_dir = require_course(course_dir)
    _require_one_course_lib(course_dir)
    workers, scheduler, force = _settings(course_dir, workers, scheduler, force)
    warn = warn or report
    cluster = None
    if scheduler:
        from course_lib.teacher.cluster import open_cluster

        cluster = open_cluster(scheduler, certificates or default_folder(course_dir),
                               insecure_plain_tcp)
    students = students or submitted_students(course_dir, assignment)
    if not students:
        raise CourseError(f"No submissions found in {course_dir / 'submitted'}/*/"
                          f"{assignment}. Run `course collect` first.")
    extra = sandbox_arguments(unsandboxed, warn)
    the_plan = plan(course_dir, students, assignment, workers or None, force)
    refused = [GradingOutcome(name, False, 0.0, reason)
               for name, reason in the_plan.refused.items()]
    for outcome in refused:
        warn(f"Not grading {outcome.student!r}: {outcome.message} If it is a folder in "
               "submitted/, rename it to the student's id and grade again.")
    if cluster:
        from course_lib.teacher.cluster import cluster_size

        the_plan.workers = max(1, min(workers or cluster_size(cluster),
                                      len(the_plan.students) or 1))
    if the_plan.skipped:
        report(f"Skipping {len(the_plan.skipped)} submission(s) graded before and unchanged "
               f"since ({', '.join(the_plan.skipped)}); --force grades them again.")
    if not the_plan.students:
        return refused
    report(f"Grading {len(the_plan.students)} submission(s) with {the_plan.workers} "
           + (f"task(s) at once on the Dask cluster at {scheduler}." if scheduler else
              f"worker(s), {the_plan.threads_per_worker} thread(s) each."))
    for student in the_plan.students:
        # Until it is graded again, a submission counts as not graded: a run stopped
        # half-way grades it again next time.
        records.forget_grading_record(course_dir, student, assignment)
    progress = Progress(len(the_plan.students), report, live=_live_line(report),
                        assignment=assignment)
    if the_plan.workers == 1 and not cluster:
        outcomes = []
        for student in the_plan.students:
            progress.started(student)
            outcome = autograde_one(course_dir, student, assignment, extra)
            _record(course_dir, assignment, outcome, extra, graded_in_place=True)
            progress.finished(outcome)
            outcomes.append(outcome)
    else:
        outcomes = _grade_by_workers(course_dir, the_plan, assignment, extra, progress,
                                     cluster)
    outcomes = refused + outcomes
    progress.summary(outcomes)
    return outcomes


def _settings(course_dir: Path, workers: int | None, scheduler: str | None,
              force: bool | None) -> tuple[int, str, bool]:
    """The workers, scheduler and force of this run: as given, else the course's settings."""
    settings = autograde_settings(course_dir)
    if workers is not None and workers < 0:
        raise CourseError(f"Cannot grade with {workers} workers: give 1 or more submissions "
                          "at once (or 0: as many as this computer allows).")
    chosen = {"workers": workers, "scheduler": scheduler, "force": force}
    for name, value in chosen.items():
        log.debug("autograde: %s = %r (%s)", name,
                  getattr(settings, name) if value is None else value,
                  f"c.CourseAutograde.{name}" if value is None else "given")
    return (settings.workers if workers is None else workers,
            settings.scheduler if scheduler is None else scheduler,
            settings.force if force is None else force)


def _live_line(report):
    """The terminal for the redrawn status line when ``report`` is a logger's method whose
    lines reach the terminal (the ``course`` command writes them to standard output);
    otherwise ``None``, and :class:`Progress` decides as for ``print``."""
    logger = getattr(report, "__self__", None)
    if isinstance(logger, logging.Logger) and logger.isEnabledFor(logging.INFO) \
            and sys.stdout.isatty():
        return sys.stdout
    return None


def _require_one_course_lib(course_dir: Path) -> None:
    # nbgrader, started in the course folder, imports a course_lib found there first.
    own_copy = Path(course_dir) / "course_lib"
    conflict = course_lib_conflict(own_copy if (own_copy / "__init__.py").is_file() else None)
    if conflict:
        raise CourseError(f"Not grading: {conflict}.")


@contextmanager
def _executor(course_dir: Path, the_plan, assignment: str, cluster):
    """The workers' executor, the packed course as they take it, and their environment."""
    course = pack_course(course_dir, assignment)
    if cluster:
        from course_lib.teacher.cluster import cluster_executor

        with cluster_executor(cluster, course) as (executor, shared):
            yield executor, shared, None
    else:
        with local_executor(the_plan.workers) as executor:
            yield executor, course, thread_limits(the_plan.threads_per_worker)


def _grade_by_workers(course_dir, the_plan, assignment, extra, progress, cluster=None):
    """Grade on the workers; record each result as it comes back."""
    outcomes = []
    with _executor(course_dir, the_plan, assignment, cluster) as (executor, course,
                                                                   environment):
        running, waiting = {}, list(the_plan.students)
        while waiting or running:
            while waiting and len(running) < the_plan.workers:
                student = waiting.pop(0)
                progress.started(student)
                token = new_token()
                future = executor.submit(grade_packed, course,
                                         pack_submission(course_dir, student, assignment),
                                         student, assignment, extra, environment, token=token)
                running[future] = student, token
            done = wait(list(running), return_when=FIRST_COMPLETED).done
            for future in done:
                student, token = running.pop(future)
                outcome = _receive(course_dir, student, assignment, token, future)
                # The coordinator alone writes the gradebook, one student at a time.
                outcome = _record(course_dir, assignment, outcome, extra,
                                  graded_in_place=False)
                progress.finished(outcome)
                outcomes.append(outcome)
    return outcomes


def _receive(course_dir: Path, student: str, assignment: str, token: str,
             future) -> GradingOutcome:
    """A worker's result as an outcome; its graded notebooks put where they are recorded,
    if it is the sealed answer to the task sent for ``student``."""
    try:
        result: WorkerResult = future.result()
    except Exception as error:  # noqa: BLE001 - a lost worker fails this student only
        return GradingOutcome(student, False, 0.0,
                              f"the worker failed: {type(error).__name__}: {error}")
    refused = refusal(result, token, student, assignment)
    if refused:
        return GradingOutcome(student, False, 0.0,
                              f"the worker's result was refused: {refused}")
    if result.ok:
        results = Path(course_dir) / RESULTS / student
        shutil.rmtree(results, ignore_errors=True)
        results.mkdir(parents=True)
        for name, data in result.notebooks.items():
            (results / Path(name).name).write_bytes(data)
    return GradingOutcome(student, result.ok, result.seconds, result.message)


def _record(course_dir: Path, assignment: str, outcome: GradingOutcome, extra: list[str],
            graded_in_place: bool) -> GradingOutcome:
    """Record a worker's result in the real gradebook (unless graded in place already)."""
    if not outcome.ok and not graded_in_place:
        _note_submission(course_dir, outcome.student, assignment)
    if outcome.ok and not graded_in_place:
        results = Path(course_dir) / RESULTS / outcome.student
        started = time.perf_counter()
        recording = autograde_one(course_dir, outcome.student, assignment,
                                  [*extra, f"--GradeInSandbox.replay_folder={results}"])
        shutil.rmtree(results, ignore_errors=True)
        outcome.seconds += time.perf_counter() - started
        if not recording.ok:
            outcome.ok, outcome.message = False, recording.message
    if outcome.ok:
        records.write_grading_record(
            course_dir, outcome.student, assignment, sandboxed=not extra,
            submission=records.submission_digest(course_dir, outcome.student, assignment),
            measured=records.graded_measurements(course_dir, outcome.student, assignment))
    return outcome


def _note_submission(course_dir: Path, student: str, assignment: str) -> None:
    """A submission the worker could not grade is in the gradebook all the same (with no
    scores), as when nbgrader fails in place."""
    with open_gradebook(gradebook_url(course_dir)) as book:
        book.update_or_create_student(student)
        book.update_or_create_submission(assignment, student)
