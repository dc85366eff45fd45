"""Does the layout keep its promises: three packages in layers, and a students' package
that holds the students' library and nothing else, with the old import paths working?"""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import course_lib

PACKAGE = Path(course_lib.__file__).parent
LAYERS = ["lesson", "autograder", "teacher"]  # each may import only those before it


def course_lib_imports(path: Path) -> set[str]:
    """The course_lib modules a file imports, at its top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {name for name in found if name.startswith("course_lib.")}


def layer_violations(package: Path) -> list[str]:
    """Every import of a higher layer by a lower one, as 'file imports module'."""
    found = []
    for rank, layer in enumerate(LAYERS):
        higher = [f"course_lib.{above}" for above in LAYERS[rank + 1:]]
        for path in sorted((package / layer).rglob("*.py")):
            for module in sorted(course_lib_imports(path)):
                if any(module == h or module.startswith(h + ".") for h in higher):
                    found.append(f"{path.relative_to(package.parent)} imports {module}")
    return found


def test_lower_layers_never_import_higher_ones():
    """The students' library imports neither the grading pipeline nor the teacher's tools,
    and the grading pipeline not the teacher's tools."""
    assert layer_violations(PACKAGE) == []


def test_the_layer_check_finds_a_wrong_import(tmp_path):
    """A students' module that imported the grader would be named."""
    import shutil

    copy = tmp_path / "course_lib"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    plots = copy / "lesson" / "plots.py"
    plots.write_text(plots.read_text() + "\n\ndef peek():\n"
                     "    from course_lib.autograder.checks import assess\n")
    assert layer_violations(copy) == [
        "course_lib/lesson/plots.py imports course_lib.autograder.checks",
        "course_lib/lesson/plots.py imports course_lib.autograder.checks.assess"]


@pytest.fixture(scope="module")
def students_wheel(tmp_path_factory) -> Path:
    from course_lib.teacher.package import build_student_wheel

    return build_student_wheel(tmp_path_factory.mktemp("wheel"))


def test_the_students_wheel_holds_only_the_students_library(students_wheel):
    """Everything under course_lib/lesson/, and the top __init__ that keeps old names."""
    with zipfile.ZipFile(students_wheel) as archive:
        names = [n for n in archive.namelist() if not n.startswith("mnist_cnn_course_lib-")]
    lesson = sorted(f"course_lib/lesson/{p.relative_to(PACKAGE / 'lesson').as_posix()}"
                    for p in (PACKAGE / "lesson").rglob("*") if p.suffix in (".py", ".mo"))
    assert sorted(names) == ["course_lib/__init__.py", *lesson]
    assert "course_lib/lesson/locale/nl/LC_MESSAGES/course_lib.mo" in names


def test_released_notebooks_imports_work_with_the_students_package_alone(students_wheel,
                                                                          tmp_path):
    """With only the wheel's course_lib, the names an older notebook imports still load,
    and `course_lib.grading` offers the visible checks (there are no hidden ones)."""
    with zipfile.ZipFile(students_wheel) as archive:
        archive.extractall(tmp_path)
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        # Only the wheel's files: forget the course installed here for development.
        "sys.meta_path[:] = [f for f in sys.meta_path if '__editable__' not in "
        "getattr(f, '__module__', '')]\n"
        "import course_lib, course_lib.data, course_lib.settings, course_lib.handwriting\n"
        "from course_lib.grading import check_architecture, require\n"
        "from course_lib.model import set_seed\n"
        "import course_lib.grading as grading\n"
        "assert course_lib.__file__.startswith(sys.argv[1]), course_lib.__file__\n"
        "print(grading.__name__, course_lib.data.__name__, hasattr(grading, 'assess'))\n"
        # The Dutch lesson's messages come from the catalogue the wheel ships.
        "from course_lib.lesson.language import use_language, _\n"
        "use_language('nl'); print(_('True or False').replace(' ', '-'))\n")
    done = subprocess.run([sys.executable, "-I", "-c", probe, str(tmp_path)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["course_lib.lesson.checks", "course_lib.lesson.data", "False",
                                   "True-of-False"]


def test_old_test_cells_find_the_hidden_checks_where_the_grader_runs():
    """A gradebook made before the packages imports every check from course_lib.grading."""
    from course_lib.grading import assess, check_architecture, check_tuned_accuracy

    from course_lib.autograder import checks
    from course_lib.lesson import checks as visible

    assert (assess, check_tuned_accuracy) == (checks.assess, checks.check_tuned_accuracy)
    assert check_architecture is visible.check_architecture
    import course_lib.data

    from course_lib.lesson import data

    assert course_lib.data is data


def test_old_names_warn_with_the_new_name_and_their_end():
    """Does an old module name say what to import instead and until when it works?"""
    import importlib

    import course_lib

    for old_name, advice in (("course_lib.plots", "course generate"),
                             ("course_lib.autograde_step", "nbgrader_config.py")):
        sys.modules.pop(old_name, None)
        with pytest.warns(DeprecationWarning) as caught:
            module = importlib.import_module(old_name)
        message = str(caught[0].message)
        assert module.__name__ == course_lib.OLD_NAMES[old_name][0]
        assert module.__name__ in message and course_lib.OLD_NAMES_END in message
        assert advice in message
        # The warning points at the code that imported, not at the import machinery.
        assert caught[0].filename == __file__, caught[0].filename


def test_an_old_course_config_still_finds_the_grading_steps():
    """Does an nbgrader_config.py of the first version import its grading steps?"""
    with pytest.warns(DeprecationWarning):
        from course_lib.autograde_step import GradeInSandbox
        from course_lib.feedback import ShortenTestTracebacks
        from course_lib.repairs import RestoreDeletedCells
    from course_lib.autograder import execute, feedback, repairs

    assert GradeInSandbox is execute.GradeInSandbox
    assert ShortenTestTracebacks is feedback.ShortenTestTracebacks
    assert RestoreDeletedCells is repairs.RestoreDeletedCells
