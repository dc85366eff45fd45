"""course_lib: the library of the MNIST CNN course, in three packages, one per audience.

* :mod:`course_lib.lesson`, **the students' library**: what the lesson imports (the data,
  the pictures, own handwriting, the canvas, what a recipe is, and the quick checks the
  notebook runs itself). The students' package (``course package``) is this package
  whole, and nothing else of the course.
* :mod:`course_lib.autograder`, **the grading pipeline**: nbgrader's steps for this
  course, one module per step in the order nbgrader runs them, and the hidden checks that
  only the grader's sealed checker runs.
* :mod:`course_lib.teacher`, **the teacher's tools**: the ``course`` command, collecting
  submissions, grading a class (here or on a Dask cluster), the demo, the students' package.

Each package imports only those before it: the lesson nothing of the others, the
autograder the lesson, the teacher's tools both.

Notebooks released before the course had packages import ``course_lib.data``,
``course_lib.grading`` and the like, and course folders of that time have an
``nbgrader_config.py`` importing ``course_lib.autograde_step``: :data:`OLD_NAMES` keeps
those names working until :data:`OLD_NAMES_END`, with a :class:`DeprecationWarning` that
names the new module and that end (see CHANGELOG.md).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

# Old module name -> where it lives now (the first that this installation has).
OLD_NAMES = {
    "course_lib.canvas": ("course_lib.lesson.canvas",),
    "course_lib.data": ("course_lib.lesson.data",),
    "course_lib.explain": ("course_lib.lesson.explain",),
    "course_lib.handwriting": ("course_lib.lesson.handwriting",),
    "course_lib.model": ("course_lib.lesson.model",),
    "course_lib.plots": ("course_lib.lesson.plots",),
    "course_lib.quiet_tensorflow": ("course_lib.lesson.quiet_tensorflow",),
    "course_lib.settings": ("course_lib.lesson.settings",),
    # Test cells imported visible and hidden checks from one module; students have only
    # the visible ones.
    "course_lib.grading": ("course_lib.autograder.checks", "course_lib.lesson.checks"),
    # Course folders' nbgrader_config.py of that time imported the grading steps.
    "course_lib.autograde_step": ("course_lib.autograder.execute",),
    "course_lib.feedback": ("course_lib.autograder.feedback",),
    "course_lib.repairs": ("course_lib.autograder.repairs",),
}
# The old names were kept for the school year in which they changed; they go with 1.0.
OLD_NAMES_END = "version 1.0 of the course (summer 2027)"
# An old nbgrader_config.py also lists the grading steps of its time, without the later
# defences (inert Formgrader pages, one verdict per graded cell): its teacher must know.
_OLD_CONFIG_NAMES = {"course_lib.autograde_step", "course_lib.feedback", "course_lib.repairs"}


class _OldNames(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports an old module name as the module that holds its code now."""

    def find_spec(self, name, path=None, target=None):
        """A spec for an old name; None for every other name."""
        if name in OLD_NAMES:
            return importlib.util.spec_from_loader(name, self)
        return None

    def create_module(self, spec):
        """Let Python make a placeholder; :meth:`exec_module` swaps in the real module."""
        return None

    def exec_module(self, module) -> None:
        """Put the new module in the old name's place (Python then returns that one)."""
        for new_name in OLD_NAMES[module.__name__]:
            try:
                sys.modules[module.__name__] = importlib.import_module(new_name)
                _warn_old_name(module.__name__, new_name)
                return
            except ModuleNotFoundError as missing:
                if missing.name != new_name and not new_name.startswith(f"{missing.name}."):
                    raise
        raise ModuleNotFoundError(f"No module named {module.__name__!r}",
                                  name=module.__name__)


def _warn_old_name(old_name: str, new_name: str) -> None:
    """Say that ``old_name`` is an old name, what to write instead and until when it works."""
    advice = (" Your course's nbgrader_config.py is from an older version of the course: "
              "replace it with the current one, which also turns on the grading defences "
              "added since." if old_name in _OLD_CONFIG_NAMES else
              (" Students: ask your teacher for the current notebook. Teachers: release it again "
               "(course generate)."))
    warnings.warn(f"{old_name} is an old name of {new_name}; it works until {OLD_NAMES_END}."
                  f"{advice}", DeprecationWarning, stacklevel=_importer_stack_level())


def _importer_stack_level() -> int:
    """How many frames up the import statement is, past this module and importlib's own
    frames, so that the warning points at (and is shown for) the code that imported.

    :func:`warnings.warn` itself skips importlib's bootstrap frames, so they are not counted.
    """
    frame, level = sys._getframe(1), 1
    while frame is not None:
        name = frame.f_code.co_filename
        if "importlib" in name and "_bootstrap" in name:
            frame = frame.f_back
            continue
        if name not in (__file__, importlib.__file__):
            break
        frame, level = frame.f_back, level + 1
    return level


if not any(isinstance(finder, _OldNames) for finder in sys.meta_path):
    sys.meta_path.append(_OldNames())
