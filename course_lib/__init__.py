"""course_lib: the shared library of the MNIST CNN course.

Modules, each with one job:

* :mod:`course_lib.data`: load MNIST from the best available source; split and prepare it.
* :mod:`course_lib.mnist_files`: read and check ``mnist.npz`` and idx files.
* :mod:`course_lib.offline`: put the full set where a classroom without internet finds it.
* :mod:`course_lib.model`: the networks' shapes and seeding.
* :mod:`course_lib.architecture`: describe a model and compare it with the reference.
* :mod:`course_lib.plots`: training curves, digit grids, one prediction's probabilities.
* :mod:`course_lib.explain`: confusion matrix, mistakes, filters, own digits before/after.
* :mod:`course_lib.handwriting`: own digits (photos, drawings, text matrices) to MNIST style.
* :mod:`course_lib.canvas`: the drawing widget that saves a digit into ``own_digits/``.
* :mod:`course_lib.settings`: training lengths and pass marks per kind of data.
* :mod:`course_lib.grading`: what the test cells call.
* :mod:`course_lib.quiet_tensorflow`: TensorFlow without its start-up log lines.

For teachers only (left out of the students' package, :mod:`course_lib.package`):

* :mod:`course_lib.training`: the reference network, trained the way the lesson does.
* :mod:`course_lib.autograde_step`: nbgrader's execute step for this course.
* :mod:`course_lib.handover`, :mod:`course_lib.judge`: answers handed over as data, and
  the sealed process that checks them.
* :mod:`course_lib.sandbox`, :mod:`course_lib.kernel`, :mod:`course_lib.limits`: the
  grading sandbox, its kernel and its resource limits.
* :mod:`course_lib.repairs`, :mod:`course_lib.feedback`: nbgrader's repairs done right,
  and feedback that does not quote hidden tests.
* :mod:`course_lib.teacher`, :mod:`course_lib.collect`, :mod:`course_lib.demo`: the
  teacher's nbgrader steps, collecting downloads, and the demo.
* :mod:`course_lib.class_grading`, :mod:`course_lib.cluster`: grading a class with
  several workers, here or on a Dask cluster.
* :mod:`course_lib.handwriting_check`: own-handwriting preparation measured on real
  handwriting from outside MNIST.
* :mod:`course_lib.cli`: the ``course`` command; :mod:`course_lib.package`: the
  students' package.
"""
