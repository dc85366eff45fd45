"""The package students receive: the students' library of ``course_lib``, nothing else.

Students need the library the lesson imports (data, pictures, own handwriting, the quick
checks), never the course folder: ``source/`` holds the model answers and hidden tests.
:func:`build_student_wheel` builds a wheel of :mod:`course_lib.lesson` whole, with the top
``course_lib/__init__.py`` that keeps old import paths working: what students may see
follows from the layout (an allow-list, :func:`student_files`), so a new grading or
teacher's module can never reach them by being forgotten.

**How it is built.** The students' files are copied into a scratch folder with their own
configuration, ``students_pyproject.toml`` beside this module, and setuptools builds the
wheel there through pip (``pip wheel --no-build-isolation``), offline, with the setuptools
the course requires. The wheel requires the same Python as the course and only those of
the course's dependencies students need (:data:`STUDENTS_NEED`, with the course's version
ranges): not nbgrader, not Babel (the lesson reads its compiled catalogues with the
standard ``gettext``), not the HTML cleaner. Its entries carry a fixed date, so on one
computer the same content gives the same wheel, byte for byte: the classroom server
reinstalls the students' environment only when the wheel changes.

**Its version** is ``<course version>.post<N>``, for example ``0.1.0.post3``.
``students_versions.txt`` (beside this module, kept in version control) gives each content
of the wheel its number N: a line ``N DIGEST`` per content, where the digest covers every
file's name and bytes and the configuration (so new dependencies count as new content).
``course package`` looks the content up there; when it is new, it adds a line with the
highest N plus one. So:

* the same content always builds the same version, in every clone of the course;
* a newer content has a higher version, and PEP 440 puts ``0.1.0.post4`` after
  ``0.1.0.post3`` (and after the plain ``0.1.0`` of the earlier, hand-made wheels): on a
  laptop, plain ``pip install`` of the newer wheel replaces the older one, and
  ``pip install -U --find-links`` a folder of wheels picks the newest;
* the alternatives fail one of these: a digest as a local version (``0.1.0+3f9a2c``) sorts
  by its letters, not by age, and indexes refuse local versions; a date or a file time
  gives the same content different versions in two clones; a counter kept only on the
  teacher's computer numbers the same content differently for two teachers.

Content not yet recorded (a lesson being edited, or the classroom server's own build) gets
the next number without writing it down: only ``course package`` moves the record on, and
it hands the wheel out. N keeps counting when the course's version goes up.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from string import Template

import course_lib
from course_lib.teacher.course import CourseError

DISTRIBUTION = "mnist_cnn_course_lib"
PROJECT = "mnist-cnn-course"  # the course's own distribution: its version, Python, needs
CONFIGURATION = Path(__file__).with_name("students_pyproject.toml")
VERSIONS = Path(__file__).with_name("students_versions.txt")
# The course's dependencies that the lesson imports, and Jupyter, which opens the notebook
# on a laptop (on the classroom server the students' environment has its own JupyterLab).
# tensorflow-cpu is TensorFlow on Linux; pillow-heif opens iPhone photos of handwriting.
STUDENTS_NEED = ("tensorflow", "tensorflow-cpu", "keras", "numpy", "matplotlib", "mlxtend",
                 "pillow", "pillow-heif", "scipy", "anywidget", "jupyter")
# 2020-01-01: every entry of the wheel carries this date, so the same content gives the
# same bytes.
BUILT_AT = "1577836800"
VERSIONS_HEADER = (
    "# The students' package's versions (`course package`, see course_lib/teacher/package.py).\n"
    "# A line per content of the wheel: N and the content's digest. The wheel's version is\n"
    "# <course version>.post<N>. Keep this file in version control.\n")


def student_files(package: Path | None = None) -> dict[str, Path]:
    """The files students receive, by their name in the wheel, from the ``course_lib``
    folder ``package`` (default: this course's)."""
    top = Path(package) if package else Path(course_lib.__file__).parent
    lesson = top / "lesson"
    files = {"course_lib/__init__.py": top / "__init__.py"}
    # The code, and the compiled catalogues that translate the checks' messages.
    for path in sorted([*lesson.rglob("*.py"), *lesson.rglob("*.mo")]):
        files[f"course_lib/lesson/{path.relative_to(lesson).as_posix()}"] = path
    return files


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def student_dependencies(requirements: list[str]) -> list[str]:
    """Of the course's requirements (``Requires-Dist`` lines), those students need."""
    wanted = {_canonical(name) for name in STUDENTS_NEED}
    chosen = [requirement for requirement in requirements if "extra ==" not in requirement
              and _canonical(re.match(r"[A-Za-z0-9._-]+", requirement).group()) in wanted]
    missing = wanted - {_canonical(re.match(r"[A-Za-z0-9._-]+", r).group()) for r in chosen}
    if missing:
        raise CourseError(
            f"The students' package needs {', '.join(sorted(missing))}, but the course's "
            "dependencies do not name it: add it to pyproject.toml and run "
            "`pip install -e .` again (or take it out of STUDENTS_NEED in "
            "course_lib/teacher/package.py).")
    return chosen


def configuration(version: str) -> str:
    """The students' package's pyproject.toml for ``version``."""
    course = metadata.distribution(PROJECT)
    return Template(CONFIGURATION.read_text()).substitute(
        name=DISTRIBUTION, version=version,
        requires_python=course.metadata["Requires-Python"],
        dependencies=json.dumps(student_dependencies(course.requires or []), indent=4))


def content_digest(files: dict[str, Path]) -> str:
    """A digest of what the wheel holds: each file's name and bytes, and the configuration
    (its version left out)."""
    digest = hashlib.sha256(configuration("0").encode())
    for name, path in sorted(files.items()):
        data = path.read_bytes()
        digest.update(f"\0{name}\0{len(data)}\0".encode() + data)
    return digest.hexdigest()[:16]


def recorded_numbers(versions: Path) -> dict[str, int]:
    """The numbers ``versions`` gives to contents, by digest."""
    numbers = {}
    for line in versions.read_text().splitlines() if versions.is_file() else []:
        if line.strip() and not line.startswith("#"):
            number, digest = line.split()
            numbers[digest] = int(number)
    return numbers


def students_version(digest: str, versions: Path | None = None, record: bool = False) -> str:
    """The version of the wheel whose content has ``digest``, by the record ``versions``
    (default: :data:`VERSIONS`); with ``record``, a new content's number is written there."""
    versions = Path(versions or VERSIONS)
    numbers = recorded_numbers(versions)
    number = numbers.get(digest)
    if number is None:
        number = max(numbers.values(), default=0) + 1
        if record and os.access(versions if versions.is_file() else versions.parent,
                                os.W_OK):
            # An installed course (site-packages, a read-only classroom environment) keeps
            # its record as shipped: the number is still the next one, just not written.
            header = "" if versions.is_file() else VERSIONS_HEADER
            with open(versions, "a") as record_file:
                record_file.write(f"{header}{number} {digest}\n")
    return f"{metadata.version(PROJECT)}.post{number}"


def build_student_wheel(out_dir: Path, package: Path | None = None,
                        versions: Path | None = None, record: bool = False) -> Path:
    """Build the students' wheel into ``out_dir`` and return its path.

    ``package`` is the ``course_lib`` folder to take the students' files from (default:
    this course's); ``versions`` and ``record`` are as in :func:`students_version`."""
    files = student_files(package)
    version = students_version(content_digest(files), versions, record)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="students-package-") as scratch:
        project = Path(scratch) / "project"
        for name, path in files.items():
            copy = project / name
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, copy)
            copy.chmod(0o644)  # the wheel records the mode: the same one on every machine
        (project / "pyproject.toml").write_text(configuration(version))
        built = Path(scratch) / "dist"
        done = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
             "--no-index", "--disable-pip-version-check", "--quiet", "--wheel-dir",
             str(built), str(project)],
            capture_output=True, text=True, check=False,
            env={**os.environ, "SOURCE_DATE_EPOCH": BUILT_AT})
        wheels = sorted(built.glob("*.whl"))
        if done.returncode != 0 or len(wheels) != 1:
            raise CourseError(
                "setuptools could not build the students' package. It needs setuptools "
                "70.1 or newer in the course's Python (`pip install -e .` in the course's "
                f"project folder installs it). pip said:\n{(done.stderr or done.stdout)[-2000:]}")
        wheel = out_dir / wheels[0].name
        shutil.copyfile(wheels[0], wheel)
    return wheel
