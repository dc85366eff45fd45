"""The teacher's tools: the ``course`` command and what it runs.

* :mod:`~course_lib.teacher.cli`: the ``course`` command.
* :mod:`~course_lib.teacher.course`: the nbgrader steps in a course folder (generate,
  one student's autograde, feedback, export, the score table), each an nbgrader command
  started by :mod:`~course_lib.teacher.nbgrader_main`.
* Learning platforms: :mod:`~course_lib.teacher.collect` (submissions from a platform's
  download), :mod:`~course_lib.teacher.returns` (grades and feedback back: each student's
  result in the gradebook, the classroom server's route), one module per platform owning
  both directions, :mod:`~course_lib.teacher.moodle` and :mod:`~course_lib.teacher.canvas`
  (the download's names, the platform's spreadsheet, the return), and
  :mod:`~course_lib.teacher.platforms` (who a student is there, kept for the return).
* :mod:`~course_lib.teacher.summary`: the score table of ``course summary``.
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
* The classroom server (``course hub``): :mod:`~course_lib.teacher.hub` (its life: set up,
  start, status, stop, remove) and its parts, :mod:`~course_lib.teacher.hub_accounts` (the
  class list, the accounts, their passwords), :mod:`~course_lib.teacher.hub_environments`
  (the students' and the teacher's Python environments, the proxy),
  :mod:`~course_lib.teacher.hub_config` (``hub.json`` and the ``jupyterhub_config.py``
  written from it), :mod:`~course_lib.teacher.hub_auth` (logins),
  :mod:`~course_lib.teacher.hub_spawner` with :mod:`~course_lib.teacher.hub_limits` and
  :mod:`~course_lib.teacher.hub_cgroup` (each user's server, within the limits),
  :mod:`~course_lib.teacher.hub_disk`, :mod:`~course_lib.teacher.hub_logins`,
  :mod:`~course_lib.teacher.hub_exchange`, :mod:`~course_lib.teacher.hub_certificate` and
  :mod:`~course_lib.teacher.hub_service`.
"""
