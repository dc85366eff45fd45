"""The students' library: what the lesson notebook imports, and all that students receive.

* :mod:`~course_lib.lesson.constants`: MNIST's sizes, the data kinds, the lesson's examples.
* :mod:`~course_lib.lesson.mnist_files`: read and check ``mnist.npz`` and idx files.
* :mod:`~course_lib.lesson.mnist_place`: where the full MNIST is on this computer, in the
  order the course (and the grader) looks.
* :mod:`~course_lib.lesson.data`: load MNIST from the best source there is; split, prepare.
* :mod:`~course_lib.lesson.offline`: put the full set where a classroom without internet
  finds it.
* :mod:`~course_lib.lesson.settings`: training lengths and pass marks per kind of data.
* :mod:`~course_lib.lesson.model`: seeding, so that training can be repeated exactly.
* :mod:`~course_lib.lesson.architecture`: describe a network and compare it with the table.
* :mod:`~course_lib.lesson.recipe`: what a tuned network's recipe is, as data.
* :mod:`~course_lib.lesson.checks`: the checks the notebook runs itself.
* :mod:`~course_lib.lesson.plots`, :mod:`~course_lib.lesson.explain`: training curves,
  digits, predictions, confusion matrix, mistakes, filters and feature maps.
* :mod:`~course_lib.lesson.handwriting`, :mod:`~course_lib.lesson.canvas`: own digits
  (photos, drawings, text matrices) made MNIST-like, and the drawing widget;
  :mod:`~course_lib.lesson.digit_files`: which files are digit pictures, by name.
* :mod:`~course_lib.lesson.quiet_tensorflow`: TensorFlow without its start-up log lines.

Nothing here imports :mod:`course_lib.autograder` or :mod:`course_lib.teacher`, and nothing
here holds a model answer or a hidden test: the students' package is this package whole.
"""
