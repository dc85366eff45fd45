"""The grading pipeline: nbgrader's autograde for this course, one module per step.

In the order nbgrader runs them for one submission (``nbgrader_config.py``):

1. :mod:`~course_lib.autograder.repairs`: sanitize and repair: every graded cell takes its
   role from the gradebook; a deleted test cell comes back where it can run.
2. :mod:`~course_lib.autograder.execute`: run the notebook in the sandbox
   (:mod:`~course_lib.autograder.sandbox`, :mod:`~course_lib.autograder.kernel`,
   :mod:`~course_lib.autograder.limits`), on a fresh copy of the submission.
3. :mod:`~course_lib.autograder.handover`: where a test cell stands, the kernel hands over
   the values it reads, as data.
4. :mod:`~course_lib.autograder.checker`: a sealed process runs every test cell with those
   values: the visible checks and the hidden ones (:mod:`~course_lib.autograder.checks`),
   which measure networks, retrain the tuned one from its recipe
   (:mod:`~course_lib.autograder.retrain`) and count own digits
   (:mod:`~course_lib.autograder.own_digits`).
5. :mod:`~course_lib.autograder.inert`: once the scores are saved, the graded notebook is
   made inert: nothing the student handed in runs in Formgrader or a feedback page
   (written answers through :mod:`~course_lib.autograder.inert_markdown`).
6. :mod:`~course_lib.autograder.feedback`: feedback pages with the checks' messages and no
   hidden test code.

It imports the students' library (:mod:`course_lib.lesson`), never the teacher's tools. Its
messages, and the true digits of the lesson's examples, stay here, out of the students'
package: the messages in a catalogue of their own (:mod:`~course_lib.autograder.language`).
"""
