"""The facts about MNIST and the lesson that several modules need, each defined once."""

from __future__ import annotations

IMAGE_SIDE = 28  # MNIST images are 28x28 grey pixels
IMAGE_PIXELS = IMAGE_SIDE * IMAGE_SIDE
INPUT_SHAPE = (IMAGE_SIDE, IMAGE_SIDE, 1)  # rows, columns, one colour channel
NUM_CLASSES = 10  # the digits 0-9

# Which MNIST is in use: the full set, or the sample that comes with the course.
FULL = "full"
SAMPLE = "sample"

# Environment variables that tell the course where its data is, and not to download.
PATH_VARIABLE = "COURSE_MNIST_PATH"
OFFLINE_VARIABLE = "COURSE_MNIST_OFFLINE"

# The two training examples of the embedded sample (after its validation split) that the
# lesson asks about: the same pictures on every computer.
LESSON_EXAMPLES = (4, 100)

# TensorFlow's C++ core logs notes and warnings at start-up; "2" keeps errors only. Every
# process the course starts gets it: ``environ.setdefault(*QUIET_TENSORFLOW)``.
QUIET_TENSORFLOW = ("TF_CPP_MIN_LOG_LEVEL", "2")
