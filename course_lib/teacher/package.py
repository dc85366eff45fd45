"""The package students receive: the students' library of ``course_lib``, nothing else.

Students need the library the lesson imports (data, pictures, own handwriting, the quick
checks), never the course folder: ``source/`` holds the model answers and hidden tests.
:func:`build_student_wheel` writes a wheel of :mod:`course_lib.lesson` whole, with the top
``course_lib/__init__.py`` that keeps old import paths working: what students may see
follows from the layout (an allow-list), so a new grading or teacher's module can never
reach them by being forgotten. It is built here with the standard library (a wheel is a
zip file with three metadata files), so it works offline and changes nothing in the
project.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from importlib import metadata
from pathlib import Path

import course_lib
import course_lib.lesson

DISTRIBUTION = "mnist_cnn_course_lib"


def student_files() -> dict[str, Path]:
    """The files students receive, by their name in the wheel."""
    top = Path(course_lib.__file__).parent
    lesson = Path(course_lib.lesson.__file__).parent
    files = {"course_lib/__init__.py": top / "__init__.py"}
    # The code, and the compiled catalogues that translate the checks' messages.
    for path in sorted([*lesson.rglob("*.py"), *lesson.rglob("*.mo")]):
        files[f"course_lib/lesson/{path.relative_to(lesson).as_posix()}"] = path
    return files


def _project_metadata() -> tuple[str, list[str]]:
    """The course package's version and its dependencies (without the optional ones)."""
    installed = metadata.distribution("mnist-cnn-course")
    dependencies = [r for r in installed.requires or [] if "extra ==" not in r]
    return installed.version, dependencies


def build_student_wheel(out_dir: Path) -> Path:
    """Write the students' wheel into ``out_dir`` and return its path."""
    version, dependencies = _project_metadata()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    info = f"{DISTRIBUTION}-{version}.dist-info"
    files = {name: path.read_bytes() for name, path in student_files().items()}
    files[f"{info}/METADATA"] = "\n".join([
        "Metadata-Version: 2.1", f"Name: {DISTRIBUTION}", f"Version: {version}",
        "Summary: The library of the MNIST CNN lesson (data, pictures, own handwriting, "
        "quick checks).",
        "Requires-Python: >=3.10",
        *(f"Requires-Dist: {dependency}" for dependency in dependencies
          if not dependency.startswith("nbgrader")),
        "",
    ]).encode()
    files[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: course_lib.teacher.package\n"
                              b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    records = [f"{name},sha256={_digest(data)},{len(data)}" for name, data in files.items()]
    files[f"{info}/RECORD"] = ("\n".join([*records, f"{info}/RECORD,,"]) + "\n").encode()
    path = out_dir / f"{DISTRIBUTION}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in files.items():
            wheel.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), data)
    return path


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
