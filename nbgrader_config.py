"""nbgrader settings for the MNIST CNN course: a few overrides, each with its reason."""

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

from course_lib.feedback import ShortenTestTracebacks
from course_lib.sandbox import configure as use_grading_sandbox

c = get_config()  # noqa: F821 - provided by nbgrader when it reads this file

c.CourseDirectory.course_id = "mnist-cnn"

# Training the lesson's network takes 1-2 minutes on a laptop CPU, a student's tuned
# network a few more; nbgrader's default of 30 s per cell would stop every submission.
# Ten minutes lets honest work finish and still stops a runaway cell; after a timeout the
# kernel is interrupted and the remaining cells still run, so only that part scores zero.
c.Execute.timeout = 600
c.Execute.interrupt_on_timeout = True

# A student who deletes a test cell gets it back, and it is graded as usual.
c.OverwriteCells.add_missing_cells = True

# Keras prints a progress line per epoch; keep feedback readable and the gradebook small.
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 40

# Feedback shows the messages of failed tests, but not the code of hidden tests (neither
# in the cell nor quoted in a traceback).
c.GenerateFeedback.preprocessors = [
    GetGrades, ClearHiddenTests, ShortenTestTracebacks, CSSHTMLHeaderPreprocessor,
]

# A copy of course_lib handed in with a submission must not replace the real one, and
# checkpoints and caches are never part of a submission.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "course_lib", ".keras",
]

# On Linux with bubblewrap, each submission runs in a sandbox: read-only files except its
# own folder, its own /tmp and its own processes (see course_lib/sandbox.py).
use_grading_sandbox(c)
