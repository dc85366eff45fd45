"""nbgrader settings for the MNIST CNN course: a few overrides, each with its reason."""

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearOutput,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    OverwriteKernelspec,
    SaveAutoGrades,
)

from course_lib.autograder.execute import GradeInSandbox
from course_lib.autograder.feedback import ClearHiddenTestsOfTestCells, ShortenTestTracebacks
from course_lib.autograder.inert import MakeInert
from course_lib.autograder.repairs import (
    DropDuplicateIds,
    ForgetRolesWithoutId,
    RestoreDeletedCells,
)

c = get_config()  # noqa: F821 - provided by nbgrader when it reads this file

c.CourseDirectory.course_id = "mnist-cnn"

# Grading: the student's notebook runs in a sandbox on a copy of the submission, and every
# test cell is judged in a separate, clean process from the values the notebook hands over
# (course_lib/autograder/execute.py). This replaces nbgrader's Execute; the rest is nbgrader's.
# A test cell the student deleted comes back just before the next answer cell; every
# graded cell gets its role from the gradebook, and a made-up one or a copy is an ordinary cell.
c.Autograde.sanitize_preprocessors = [
    ClearOutput, ForgetRolesWithoutId, DropDuplicateIds, OverwriteKernelspec, RestoreDeletedCells,
    CheckCellMetadata,
]
# Once the scores are saved, nothing the student handed in may run in a browser: Formgrader
# and the feedback page show the graded notebook on the teacher's server and to the student
# (course_lib/autograder/inert.py).
c.Autograde.autograde_preprocessors = [
    GradeInSandbox, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
    MakeInert, AssignLatePenalties, CheckCellMetadata,
]
c.OverwriteCells.add_missing_cells = True

# Limits of one grading kernel (and of the process that checks its answers). Training the
# lesson's network needs about 2 GB; the defaults leave room for a student's larger one.
c.GradeInSandbox.memory_mb = 6144
c.GradeInSandbox.processes = 512
c.GradeInSandbox.file_size_mb = 256
c.GradeInSandbox.tmp_size_mb = 1024
# The tuned network's budget is counted from its recipe, the same on every computer
# (course_lib/lesson/cost.py). This is only the safety net of time when the grader retrains
# a recipe within the budget: past it the submission is not graded (never scored 0). 0
# takes the data's own (course_lib/lesson/settings.py: 480 s on the sample, 1,200 s on the
# full set). Raise it for a grading computer much slower or busier than this course's.
c.GradeInSandbox.training_budget_seconds = 0
# Without a sandbox (no Linux or no bubblewrap) grading stops rather than run student
# code with your rights; `course autograde --unsandboxed` grades anyway, knowingly.
c.GradeInSandbox.require_sandbox = True

# Training the lesson's network takes 1-2 minutes on a laptop CPU, a student's tuned
# network a few more; nbgrader's default of 30 s per cell would stop every submission.
# Ten minutes lets honest work finish and still stops a runaway cell; after a timeout the
# kernel is interrupted and the remaining cells still run, so only that part scores zero.
c.Execute.timeout = 600
c.Execute.interrupt_on_timeout = True

# Keras prints a progress line per epoch; keep feedback readable and the gradebook small.
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 40

# Feedback shows the messages of failed tests, but not the code of hidden tests (neither
# in the cell nor quoted in a traceback).
c.GenerateFeedback.preprocessors = [
    GetGrades, ClearHiddenTestsOfTestCells, ShortenTestTracebacks, CSSHTMLHeaderPreprocessor,
]

# Formgrader and the feedback pages render notebooks with nbconvert: no scripts, widgets or
# unsafe HTML from any notebook, and markdown (which Formgrader's template renders itself)
# with the student's markup shown as text, also in notebooks graded before MakeInert.
c.HTMLExporter.sanitize_html = True
c.HTMLExporter.filters = {"markdown2html": "course_lib.autograder.inert_markdown.markdown2html"}

# Collecting from the exchange leaves out a submission whose student id is unsafe (such as
# `*`, which `nbgrader autograde --student` reads as the whole class), and says why.
c.ExchangeFactory.collect = "course_lib.teacher.exchange_collect.CheckedCollect"

# A copy of course_lib handed in with a submission must not replace the real one, and
# checkpoints and caches are never part of a submission.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "course_lib", ".keras",
]
