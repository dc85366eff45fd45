"""The teacher's tools: the ``course`` command and what it runs.

* :mod:`~course_lib.teacher.cli`: the ``course`` command.
* :mod:`~course_lib.teacher.course`: the nbgrader steps in a course folder (generate,
  one student's autograde, feedback, export, the score table).
* :mod:`~course_lib.teacher.collect`: submissions from a learning platform's download.
* Grading a class: :mod:`~course_lib.teacher.plan` (who, how many workers),
  :mod:`~course_lib.teacher.workers` (one submission graded in a scratch copy, on a
  ``concurrent.futures`` executor here or Dask's on a cluster,
  :mod:`~course_lib.teacher.cluster`), :mod:`~course_lib.teacher.progress` (what the teacher
  sees) and :mod:`~course_lib.teacher.autograde` (the coordinator, the only writer of the
  gradebook), with :mod:`~course_lib.teacher.records` (what was graded, to resume).
* :mod:`~course_lib.teacher.demo`, :mod:`~course_lib.teacher.package`: the demo, and the
  students' package.
* :mod:`~course_lib.teacher.training`: the lesson's reference network (a model answer).
* :mod:`~course_lib.teacher.handwriting_check`: own-handwriting preparation measured on real
  handwriting from outside MNIST.
"""
