"""course_lib: the shared library of the MNIST CNN course.

Modules, each with one job:

* :mod:`course_lib.data`: load MNIST from the best available source; split and prepare it.
* :mod:`course_lib.mnist_files`: read and check ``mnist.npz`` and idx files.
* :mod:`course_lib.offline`: put the full set where a classroom without internet finds it.
* :mod:`course_lib.model`: the lesson's reference CNN and seeding.
* :mod:`course_lib.architecture`: describe a model and compare it with the reference.
* :mod:`course_lib.plots`: training curves, digit grids, one prediction's probabilities.
* :mod:`course_lib.cli`: the ``course`` command.
"""
