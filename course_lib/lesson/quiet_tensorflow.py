"""Load TensorFlow without the log lines its C++ core writes while it starts.

TensorFlow 2.21 prints "All log messages before absl::InitializeLog() is called are
written to STDERR" and a note about oneDNN while it is imported, whatever
``TF_CPP_MIN_LOG_LEVEL`` says, and Jupyter shows them in the notebook (and in every
feedback page). Importing this module first loads TensorFlow with the process's error
output briefly pointed at nothing; Python errors still arrive as exceptions.
"""

from __future__ import annotations

import os
import sys

from course_lib.lesson.constants import QUIET_TENSORFLOW


def load() -> None:
    """Import TensorFlow once, without its start-up lines."""
    os.environ.setdefault(*QUIET_TENSORFLOW)
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    nothing = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(nothing, 2)
        import tensorflow  # noqa: F401 - the import is the point
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(nothing)


load()
