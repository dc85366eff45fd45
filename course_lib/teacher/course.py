"""The nbgrader steps in a course folder, with this course's defaults.

Each step runs the real ``nbgrader`` command in the course folder, so what works here also
works typed by hand: generate, one student's autograde (in its own process, so that a
submission that crashes, hangs or fills the memory costs only that student's grade),
feedback and export. The course's folders and its gradebook come from its own
``nbgrader_config.py``, through nbgrader's ``CourseDirectory``.
"""

from __future__ import annotations

import csv
import glob
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from traitlets import Bool, Float, Int, TraitError, Unicode, validate
from traitlets.config import Configurable

from course_lib.lesson.constants import QUIET_TENSORFLOW
from course_lib.teacher.student_ids import check_student_id

ASSIGNMENT = "mnist_cnn"
# A whole submission: at least this, and always 15 minutes more than the checker's wait
# (cells have their own 10-minute limit).
STUDENT_TIMEOUT_SECONDS = 45 * 60
STUDENT_TIMEOUT_MARGIN_SECONDS = 15 * 60


class CourseAutograde(Configurable):
    """``course autograde``'s own settings, read from the course's ``nbgrader_config.py``."""

    submission_timeout_seconds = Float(0, help=(
        "How long the grading of one whole submission (one student's nbgrader autograde) "
        "may take, in seconds; past it that submission is not graded and the others go on. "
        "0: the checker's wait (c.GradeInSandbox.checking_timeout_seconds) plus 15 minutes, "
        "at least 45 minutes")).tag(config=True)

    workers = Int(0, help=(
        "How many submissions are graded at once (`course autograde --workers N` overrides "
        "it). 0: what this computer's cores and memory allow, one per core as far as the "
        "memory holds; with a Dask scheduler, 0: one per worker of the cluster")).tag(config=True)

    scheduler = Unicode("", help=(
        "The Dask scheduler whose workers grade the submissions, e.g. tls://HOST:8786, "
        "reached with the course's certificates (`course cluster certificates`); "
        "`course autograde --scheduler ADDRESS` overrides it. Empty: grade on this "
        "computer")).tag(config=True)

    force = Bool(False, help=(
        "Grade again the submissions graded before and unchanged since (`course autograde "
        "--force` or `--no-force` overrides it). False: skip them, so that a run that "
        "was stopped half-way resumes where it was")).tag(config=True)

    @validate("workers")
    def _check_workers(self, proposal):
        if proposal["value"] < 0:
            raise TraitError(f"c.CourseAutograde.workers is {proposal['value']}: expected "
                             "a number of submissions at once, 1 or more (or 0: as many as "
                             "this computer allows)")
        return proposal["value"]


def autograde_settings(course_dir: Path) -> CourseAutograde:
    """``course autograde``'s settings in the course's ``nbgrader_config.py``; a value of
    the wrong kind is refused with the line to fix."""
    config = course_config(course_dir)
    try:
        return CourseAutograde(config=config)
    except TraitError as error:
        raise CourseError(
            f"A setting of c.CourseAutograde in {Path(course_dir) / 'nbgrader_config.py'} "
            f"cannot be used: {_trait_problem(error)}. Fix that line (`course autograde -h` "
            "and the configuration reference say what each setting takes).") from None


def _trait_problem(error: TraitError) -> str:
    """traitlets' complaint in one sentence, naming the setting as it is written."""
    text = " ".join(str(error).split()).rstrip(".")
    return re.sub(r"The '(\w+)' trait of a CourseAutograde instance", r"c.CourseAutograde.\1",
                  text)


def submission_timeout(course_dir: Path) -> float:
    """The seconds one submission's grading may take in ``course_dir``, by its settings."""
    from traitlets.config.loader import PyFileConfigLoader

    from course_lib.autograder.checker import checking_timeout

    try:
        config = PyFileConfigLoader("nbgrader_config.py", path=str(course_dir)).load_config()
    except Exception:  # a missing or broken file: nbgrader itself says what is wrong
        return STUDENT_TIMEOUT_SECONDS
    configured = CourseAutograde(config=config).submission_timeout_seconds
    if configured:
        return configured
    grading = config["GradeInSandbox"] if "GradeInSandbox" in config else {}
    wait = checking_timeout(grading.get("training_budget_seconds", 0),
                            grading.get("checking_timeout_seconds", 0))
    return max(STUDENT_TIMEOUT_SECONDS, wait + STUDENT_TIMEOUT_MARGIN_SECONDS)


class CourseError(RuntimeError):
    """A teacher's step could not be done; the message says why and what to do."""


def require_course(course_dir: Path) -> Path:
    """Return ``course_dir`` if it is a course folder; otherwise say how to get into one."""
    course_dir = Path(course_dir)
    if not (course_dir / "nbgrader_config.py").is_file():
        raise CourseError(f"{course_dir.resolve()} is not a course folder: it has no "
                          "nbgrader_config.py. Go to the course folder, or pass --course DIR.")
    return course_dir


def nbgrader(course_dir: Path, *arguments: str, timeout: float | None = None,
             environment: dict | None = None):
    """Run ``nbgrader ARGUMENTS`` in ``course_dir``; return the finished process."""
    course_dir = require_course(course_dir)
    environment = {**os.environ, **(environment or {})}
    # nbgrader starts `alembic` and the kernel from PATH; put this environment's first.
    environment["PATH"] = os.pathsep.join([str(Path(sys.executable).parent),
                                           environment.get("PATH", "")])
    environment.setdefault(*QUIET_TENSORFLOW)
    command = [sys.executable, "-m", "course_lib.teacher.nbgrader_main", *arguments]
    return subprocess.run(command, cwd=course_dir, env=environment, capture_output=True,
                          text=True, timeout=timeout, check=False)


def course_config(course_dir: Path):
    """The settings of the course's nbgrader_config.py, as nbgrader reads them."""
    from traitlets.config.loader import PyFileConfigLoader

    course_dir = require_course(course_dir).resolve()
    return PyFileConfigLoader("nbgrader_config.py", path=str(course_dir)).load_config()


def course_directory(course_dir: Path):
    """nbgrader's ``CourseDirectory`` with the settings of the course's nbgrader_config.py."""
    from nbgrader.coursedir import CourseDirectory

    return CourseDirectory(config=course_config(course_dir),
                           root=str(Path(course_dir).resolve()))


def gradebook_url(course_dir: Path) -> str:
    """The gradebook's database URL: ``CourseDirectory.db_url`` of the course's settings
    (e.g. PostgreSQL), or nbgrader's default, ``gradebook.db`` in the course folder."""
    return course_directory(course_dir).db_url


def open_gradebook(url: str):
    """nbgrader's gradebook at ``url`` (a ``Gradebook``, to use in a ``with``). A new one
    reads its schema's revision in this process, as the course's nbgrader commands do,
    instead of starting ``alembic heads``: over three seconds of CPU."""
    from nbgrader.api import Gradebook

    from course_lib.teacher.nbgrader_main import read_schema_version_here

    read_schema_version_here()
    return Gradebook(url)


def step_folder(course_dir: Path, step: str, student: str = ".",
                assignment: str = ASSIGNMENT) -> Path:
    """Where nbgrader keeps ``step`` (``submitted``, ``autograded``, ``feedback``, ...) of a
    student's assignment in this course, as its settings say."""
    directory = course_directory(course_dir)
    name = getattr(directory, f"{step}_directory")
    return Path(directory.format_path(name, student, assignment))


def checked(course_dir: Path, *arguments: str):
    """Run ``nbgrader ARGUMENTS``; raise :class:`CourseError` with its last lines if it fails."""
    done = nbgrader(course_dir, *arguments)
    if done.returncode != 0:
        raise CourseError(f"`nbgrader {' '.join(arguments)}` failed:\n{output_tail(done)}")
    return done


def output_tail(done, lines: int = 15) -> str:
    """The last ``lines`` lines of what a finished process printed."""
    text = (done.stdout or "") + (done.stderr or "")
    return "\n".join(text.strip().splitlines()[-lines:])


def assignments(course_dir: Path) -> list[str]:
    """The assignments in the course's ``source/``: the lesson in each of its languages."""
    source = step_folder(course_dir, "source", assignment="*")
    return sorted(Path(p).name for p in glob.glob(str(source)) if Path(p).is_dir())


def generate(course_dir: Path, assignment: str = ASSIGNMENT) -> Path:
    """Generate the student version in ``release/`` from ``source/``; return its folder."""
    checked(course_dir, "generate_assignment", assignment, "--force")
    return step_folder(course_dir, "release", assignment=assignment)


def submitted_students(course_dir: Path, assignment: str = ASSIGNMENT) -> list[str]:
    """The students with a submission of ``assignment`` in ``submitted/``."""
    pattern = step_folder(course_dir, "submitted", student="*", assignment=assignment)
    return sorted(Path(p).parent.name for p in glob.glob(str(pattern)) if Path(p).is_dir())


@dataclass
class GradingOutcome:
    """How autograding one student's submission went."""

    student: str
    ok: bool
    seconds: float
    message: str = ""


def sandbox_arguments(unsandboxed: bool, report=print) -> list[str]:
    """nbgrader's arguments for this computer's sandbox; refuse, or warn loudly, without."""
    from course_lib.autograder.sandbox import sandbox_problem

    problem = sandbox_problem()
    if problem and not unsandboxed:
        raise CourseError(f"Not grading: {problem}. Without the sandbox, student code runs "
                          "with your rights and can read or change the course folder. "
                          "Install bubblewrap, or grade knowingly with `course autograde "
                          "--unsandboxed`.")
    if not problem:
        return []
    report("!" * 78 + f"\n! GRADING WITHOUT A SANDBOX: {problem}.\n! Student code runs "
           "with your rights; the scores are still judged outside the\n! student's "
           "kernel, but a hostile notebook can change files.\n" + "!" * 78)
    return ["--GradeInSandbox.require_sandbox=False"]


def autograde_one(course_dir: Path, student: str, assignment: str, extra: list[str],
                  environment: dict | None = None) -> GradingOutcome:
    """One ``nbgrader autograde`` run for one student; its outcome, never an exception."""
    started = time.perf_counter()
    try:
        # nbgrader reads --student as a pattern: '*' would grade the whole class.
        check_student_id(student)
    except ValueError as error:
        return GradingOutcome(student, False, 0.0, f"not graded: {error}")
    timeout = submission_timeout(course_dir)
    try:
        done = nbgrader(course_dir, "autograde", assignment, "--student", student, "--force",
                        *extra, timeout=timeout, environment=environment)
        ok, message = done.returncode == 0, "" if done.returncode == 0 else output_tail(done, 8)
    except subprocess.TimeoutExpired:
        ok, message = False, (f"stopped after {timeout:.0f} s "
                              "(c.CourseAutograde.submission_timeout_seconds)")
    return GradingOutcome(student, ok, time.perf_counter() - started, message)


def release(course_dir: Path, assignment: str = ASSIGNMENT) -> None:
    """Put the student version into nbgrader's exchange, where students fetch it."""
    checked(course_dir, "release_assignment", assignment, "--force")


def collect_from_exchange(course_dir: Path, assignment: str = ASSIGNMENT,
                          report=print) -> list[str]:
    """Take the submissions handed in through nbgrader's exchange (the latest of each
    student) into ``submitted/``; return who has a submission now.

    A submission that is refused (an unsafe id, handed in under a classmate's name, not a
    folder nbgrader's Submit makes) stays in the exchange; ``report`` is told which and why,
    and every other warning of nbgrader's (files left out, such as links).
    """
    from course_lib.teacher.exchange_collect import COLLECTOR, REFUSED

    # Named here too, so that a course whose settings predate the checked collector is safe.
    done = checked(course_dir, "collect", assignment, "--update",
                   f"--ExchangeFactory.collect={COLLECTOR}")
    for warning in nbgrader_warnings(done.stdout + done.stderr):
        report(f"skipped {warning}" if warning.startswith(REFUSED) else f"warning: {warning}")
    return submitted_students(course_dir, assignment)


def nbgrader_warnings(output: str) -> list[str]:
    """The warnings and errors in what an nbgrader command printed, each with the lines
    that continue it (its log lines look like ``[CollectApp | WARNING] ...``)."""
    found, current = [], None
    for line in output.splitlines():
        level = line.split("]", 1)[0] if line.startswith("[") else ""
        if level:
            current = None
            if level.endswith(("| WARNING", "| ERROR", "| CRITICAL")):
                current = [line.split("]", 1)[1].strip()]
                found.append(current)
        elif current is not None and line.strip():
            current.append(line.strip())
    return [" ".join(lines).strip() for lines in found]


def feedback(course_dir: Path, assignment: str = ASSIGNMENT) -> list[Path]:
    """Write an HTML feedback page per graded student into ``feedback/``; return them."""
    checked(course_dir, "generate_feedback", assignment, "--force")
    pages = step_folder(course_dir, "feedback", student="*", assignment=assignment)
    return sorted(Path(p) for p in glob.glob(str(pages / "*.html")))


def export(course_dir: Path, path: Path | None = None) -> Path:
    """Export all grades to a CSV file (default ``grades.csv`` in the course folder)."""
    path = Path(path or Path(course_dir) / "grades.csv").resolve()
    checked(course_dir, "export", "--to", str(path))
    return path


def read_grades_csv(path: Path) -> list[dict]:
    """Read the CSV written by :func:`export` as a list of rows."""
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))
